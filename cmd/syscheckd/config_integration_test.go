//go:build integration

package main

// Integration tests of the configuration file, reload, /probe and the
// history page: the real binary as root, as in integration_test.go, and
// never syscall 335 or 336.

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// probeYAML is one probe of a test configuration, symbol check off.
func probeYAML(name string, nr int, pattern, interval, timeout string) string {
	return fmt.Sprintf("  - name: %s\n    syscall: {x86_64: %d}\n    symbol: \"\"\n    kmsg_pattern: '%s'\n    interval: %s\n    timeout: %s\n",
		name, nr, pattern, interval, timeout)
}

func writeConfig(t *testing.T, path string, probes ...string) {
	t.Helper()
	if err := os.WriteFile(path, []byte("probes:\n"+strings.Join(probes, "")), 0o644); err != nil {
		t.Fatal(err)
	}
}

func (m metrics) probesOf(name, result string) float64 {
	return m.value("syscheck_probes_total", "probe", name, "result", result)
}

func (d *process) get(t *testing.T, method, path string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, "http://"+d.addr+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

func TestConfigCheck(t *testing.T) {
	dir := t.TempDir()
	good, bad := filepath.Join(dir, "good.yml"), filepath.Join(dir, "bad.yml")
	writeConfig(t, good, probeYAML("enosys", 400, "x", "10s", "1s"))
	writeConfig(t, bad, probeYAML("enosys", 400, "x", "10s", "1s"), probeYAML("enosys", 39, "y", "10s", "2s"))
	code, stdout, stderr := runBinary(t, "--config.check", "--config.file="+good)
	if code != 0 || stdout != good+" is valid; on x86_64 it probes:\n  enosys: syscall 400 every 10s\n" || stderr != "" {
		t.Errorf("good file: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	code, stdout, stderr = runBinary(t, "--config.check", "--config.file="+bad)
	if want := "syscheckd: error: " + bad + ":8: probes[1].name: \"enosys\" is already the name of probes[0]: names must be unique\n"; code != 2 || stdout != "" || stderr != want {
		t.Errorf("bad file: exit %d, stdout %q, stderr %q; want 2 and %q", code, stdout, stderr, want)
	}
	code, stdout, stderr = runBinary(t, "--config.check", "--config.file="+filepath.Join(dir, "example.yml"))
	if code != 2 || !strings.Contains(stderr, "no such file or directory") {
		t.Errorf("missing file: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if code, _, stderr := runBinary(t, "--config.check", "--config.file=../../deploy/config/syscheckd.yml"); code != 0 {
		t.Errorf("the shipped example: exit %d: %s", code, stderr)
	}
}

func TestDaemonBadConfigFileAtStartExits2(t *testing.T) {
	requireRoot(t)
	path := filepath.Join(t.TempDir(), "c.yml")
	writeConfig(t, path, probeYAML("enosys", 400, "(", "1s", "500ms"))
	code, _, stderr := runBinary(t, "--config.file="+path, "--web.listen-address=127.0.0.1:0")
	if code != 2 || !strings.Contains(stderr, path+":5: probes[0].kmsg_pattern: error parsing regexp") || strings.Count(stderr, "\n") != 1 {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}

func TestDaemonReloadWithABadFileKeepsProbesRunning(t *testing.T) {
	requireRoot(t)
	t.Parallel()
	path := filepath.Join(t.TempDir(), "c.yml")
	writeConfig(t, path, probeYAML("enosys", 400, "x", "1s", "500ms"), probeYAML("yield", 24, "^never$", "1s", "300ms"))
	d := startDaemon(t, nil, nil, "--config.file="+path, "--web.enable-lifecycle")
	var m metrics
	waitFor(t, 20*time.Second, "2 probes of each", func() bool {
		m = d.scrape(t)
		return m.probesOf("enosys", "absent") >= 2 && m.probesOf("yield", "kmsg_missing") >= 2
	})
	if v := m.value("syscheck_config_last_reload_successful"); v != 1 {
		t.Errorf("syscheck_config_last_reload_successful = %v at start, want 1", v)
	}
	loadedAt := m.value("syscheck_config_last_reload_success_timestamp_seconds")

	os.WriteFile(path, []byte("probes:\n  - name: enosys\n    syscall: {x86_64: 400}\n    timeout: soon\n"), 0o644)
	d.cmd.Process.Signal(syscall.SIGHUP)
	waitFor(t, 10*time.Second, "the failed reload in the log", func() bool {
		return strings.Contains(d.stderr.String(), "reload failed")
	})
	code, body := d.get(t, http.MethodPost, "/-/reload")
	if code != http.StatusInternalServerError || !strings.Contains(body, path+":2: probes[0].symbol: missing") {
		t.Errorf("POST /-/reload with a bad file: %d %q", code, body)
	}

	// The running probes go on: their counters keep growing from where
	// they were, never reset.
	before := d.scrape(t)
	last := map[string]float64{"enosys": before.probesOf("enosys", "absent"), "yield": before.probesOf("yield", "kmsg_missing")}
	waitFor(t, 20*time.Second, "2 more probes of each after the failed reload", func() bool {
		m = d.scrape(t)
		for name, result := range map[string]string{"enosys": "absent", "yield": "kmsg_missing"} {
			v := m.probesOf(name, result)
			if v < last[name] {
				t.Fatalf("%s's counter went back from %v to %v", name, last[name], v)
			}
		}
		return m.probesOf("enosys", "absent") >= before.probesOf("enosys", "absent")+2 &&
			m.probesOf("yield", "kmsg_missing") >= before.probesOf("yield", "kmsg_missing")+2
	})
	if v := m.value("syscheck_config_last_reload_successful"); v != 0 {
		t.Errorf("syscheck_config_last_reload_successful = %v after a bad file, want 0", v)
	}
	if v := m.value("syscheck_config_last_reload_success_timestamp_seconds"); v != loadedAt {
		t.Errorf("the last success time moved from %v to %v on a failed reload", loadedAt, v)
	}
	for _, line := range strings.Split(d.stderr.String(), "\n") {
		if strings.Contains(line, "reload failed") {
			t.Logf("log: %s", line)
		}
	}
	if code, _ := d.get(t, http.MethodGet, "/-/healthy"); code != http.StatusOK {
		t.Errorf("/-/healthy after a failed reload: %d", code)
	}
}

func TestDaemonSIGHUPAddsAndRemovesProbes(t *testing.T) {
	requireRoot(t)
	t.Parallel()
	path := filepath.Join(t.TempDir(), "c.yml")
	enosys := probeYAML("enosys", 400, "x", "1s", "500ms")
	getpid := probeYAML("getpid", 39, "x", "1s", "500ms")
	writeConfig(t, path, enosys)
	d := startDaemon(t, nil, nil, "--config.file="+path)
	d.waitForProbesOf(t, "enosys", "absent", 1)

	writeConfig(t, path, enosys, getpid)
	d.cmd.Process.Signal(syscall.SIGHUP)
	// getpid returns the worker's pid, not 0.
	m := d.waitForProbesOf(t, "getpid", "unexpected_return", 2)
	if m.probesOf("enosys", "absent") < 2 {
		t.Errorf("enosys stopped probing: %v", m.probesOf("enosys", "absent"))
	}
	if !strings.Contains(d.stderr.String(), `msg="configuration reloaded" trigger=SIGHUP file=`+path+` added=getpid removed="" changed="" unchanged=enosys`) {
		t.Errorf("no log line for the reload:\n%s", d.stderr)
	}
	// Each probe keeps one worker process between its calls.
	if kids := children(t, d.cmd.Process.Pid); len(kids) != 2 {
		t.Errorf("workers with two probes: %v, want 2", kids)
	}
	if v := m.value("syscheck_worker_starts_total", "probe", "getpid"); v != 1 {
		t.Errorf("syscheck_worker_starts_total{probe=getpid} = %v after %v probes, want 1", v, m.probesOf("getpid", "unexpected_return"))
	}

	writeConfig(t, path, getpid)
	d.cmd.Process.Signal(syscall.SIGHUP)
	waitFor(t, 10*time.Second, "enosys's series to go", func() bool {
		return d.scrape(t).probesOf("enosys", "absent") == -1
	})
	m = d.scrape(t)
	if v := m.value("syscheck_syscall_available", "probe", "enosys"); v != -1 {
		t.Errorf("syscheck_syscall_available{probe=enosys} = %v after removal, want no series", v)
	}
	if v := m.value("syscheck_config_last_reload_successful"); v != 1 {
		t.Errorf("syscheck_config_last_reload_successful = %v, want 1", v)
	}
	if code, body := d.get(t, http.MethodGet, "/probe?name=enosys"); code != http.StatusNotFound {
		t.Errorf("/probe of a removed probe: %d %q", code, body)
	}
	// The removed probe's worker was stopped with it.
	if kids := children(t, d.cmd.Process.Pid); len(kids) != 1 {
		t.Errorf("workers after removing a probe: %v, want 1", kids)
	}
}

func (d *process) waitForProbesOf(t *testing.T, name, result string, n float64) metrics {
	t.Helper()
	var m metrics
	waitFor(t, 20*time.Second, fmt.Sprintf("%v probes of %s with result %s", n, name, result), func() bool {
		m = d.scrape(t)
		return m.probesOf(name, result) >= n
	})
	return m
}

// TestProbeEndpointTracesARealKernelRecord asks for a debug trace on this
// kernel: sched_yield stands in for the call and the kernel's drop_caches
// printk for its record, as in TestDaemonSucceedsOnARealKernelRecord.
func TestProbeEndpointTracesARealKernelRecord(t *testing.T) {
	requireRoot(t)
	t.Parallel()
	path := filepath.Join(t.TempDir(), "c.yml")
	writeConfig(t, path, probeYAML("yield", 24, "drop_caches: 1$", "1h", "2s"))
	d := startDaemon(t, nil, nil, "--config.file="+path)
	repeat(t, 100*time.Millisecond, func() {
		os.WriteFile("/proc/sys/vm/drop_caches", []byte("1\n"), 0)
	})
	var code int
	var trace string
	waitFor(t, 20*time.Second, "an on-demand probe", func() bool {
		code, trace = d.get(t, http.MethodGet, "/probe?name=yield&debug=true")
		return code != http.StatusTooManyRequests
	})
	t.Logf("GET /probe?name=yield&debug=true:\n%s", trace)
	for _, want := range []string{
		"1. symbol check: symbol check turned off -> call it\n",
		"2. call: syscall(24) in a worker process returned 0 (expected 0)\n",
		"   latency: ",
		// "any record" when the log was quiet since start-up.
		`3. kernel log: waited for `,
		` from the kernel matching "drop_caches: 1$"; `,
		`drop_caches: 1": matched` + "\n",
		"4. result: success (the call returned and its kernel record was read)\n",
	} {
		if !strings.Contains(trace, want) {
			t.Errorf("trace lacks %q", want)
		}
	}
	if code != http.StatusOK {
		t.Errorf("status %d", code)
	}

	// Without debug: metrics text, which promtool accepts.
	waitFor(t, 20*time.Second, "an on-demand probe", func() bool {
		code, trace = d.get(t, http.MethodGet, "/probe?name=yield")
		return code != http.StatusTooManyRequests
	})
	if code != http.StatusOK || !strings.Contains(trace, `syscheck_probe_success{probe="yield"} 1`) || !strings.Contains(trace, `syscheck_probe_result{probe="yield",result="success"} 1`) {
		t.Errorf("/probe?name=yield: %d\n%s", code, trace)
	}
	check := exec.Command("promtool", "check", "metrics")
	check.Stdin = strings.NewReader(trace)
	if out, err := check.CombinedOutput(); err != nil {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}

func TestProbeEndpointRejectsBadRequests(t *testing.T) {
	requireRoot(t)
	t.Parallel()
	d := startDaemon(t, nil, nil, "--probe.symbol=", "--probe.syscall=400", "--probe.name=enosys", "--probe.interval=1h", "--probe.timeout=1s")
	for _, tt := range []struct {
		method, path string
		code         int
		body         string
	}{
		{http.MethodGet, "/probe", http.StatusBadRequest, "missing parameter name: use /probe?name=NAME\n"},
		{http.MethodGet, "/probe?target=enosys", http.StatusBadRequest, "unknown parameter \"target\": use name=NAME and, optionally, debug=true\n"},
		{http.MethodGet, "/probe?name=enosys&debug=yes", http.StatusBadRequest, "parameter debug: \"yes\" is not true or false\n"},
		{http.MethodGet, "/probe?name=enosys&name=x", http.StatusBadRequest, "parameter name given 2 times: probe one at a time\n"},
		{http.MethodGet, "/probe?name=getProcessInfo", http.StatusNotFound, "no probe named \"getProcessInfo\" (running: enosys)\n"},
		{http.MethodPost, "/probe?name=enosys", http.StatusMethodNotAllowed, "use GET\n"},
		{http.MethodGet, "/probe?name=enosys&%zz=1", http.StatusBadRequest, "malformed query: invalid URL escape \"%zz\"\n"},
		{http.MethodPost, "/-/reload", http.StatusForbidden, "Lifecycle API is not enabled: start syscheckd with --web.enable-lifecycle, or send it SIGHUP\n"},
	} {
		if code, body := d.get(t, tt.method, tt.path); code != tt.code || body != tt.body {
			t.Errorf("%s %s: %d %q, want %d %q", tt.method, tt.path, code, body, tt.code, tt.body)
		}
	}
	// SIGHUP without a file is logged and changes nothing.
	d.cmd.Process.Signal(syscall.SIGHUP)
	waitFor(t, 10*time.Second, "the SIGHUP log line", func() bool {
		return strings.Contains(d.stderr.String(), `msg="nothing to reload" trigger=SIGHUP`)
	})
}
