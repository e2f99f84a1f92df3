//go:build integration

package main

// Integration tests: the real syscheckd binary, as root, against this
// machine's kernel and its real /dev/kmsg. The machine runs a kernel where
// 335 is uretprobe, so these tests never let syscheckd call 335 or 336: the
// default-flags test relies on the symbol check, the others turn it off and
// probe numbers that are harmless everywhere.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"golang.org/x/sys/unix"

	"github.com/syscheckd/syscheckd/deploy/testbed"
	"github.com/syscheckd/syscheckd/kmsg/kmsgtest"
)

// binary is the syscheckd under test, built once by the first test that
// starts it.
var binary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "syscheckd-test-")
	if err != nil {
		return "", err
	}
	afterTests = append(afterTests, func() { os.RemoveAll(dir) })
	// World-readable, so the test without CAP_SYSLOG can run it as nobody.
	if err := os.Chmod(dir, 0o755); err != nil {
		return "", err
	}
	path := filepath.Join(dir, "syscheckd")
	build := exec.Command("go", "build", "-o", path, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %w\n%s", err, out)
	}
	return path, nil
})

// syscheckd returns the path of the binary under test.
func syscheckd(t *testing.T) string {
	t.Helper()
	path, err := binary()
	if err != nil {
		t.Fatal(err)
	}
	return path
}

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("integration tests probe the real kernel and /dev/kmsg: run them as root (CI does)")
	}
}

// process is a running syscheckd.
type process struct {
	cmd     *exec.Cmd
	addr    string
	stderr  *lockedBuffer
	exited  chan struct{}
	stopped bool
}

// stop sends SIGTERM and expects a clean exit within 15s.
func (d *process) stop(t *testing.T) {
	t.Helper()
	d.stopped = true
	d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.exited:
	case <-time.After(15 * time.Second):
		d.cmd.Process.Kill()
		t.Errorf("syscheckd did not stop within 15s of SIGTERM")
		return
	}
	if code := d.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("syscheckd exited with %d after SIGTERM\n%s", code, d.stderr)
	}
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startDaemon runs syscheckd with args (prefix, if any, wraps the command,
// as setpriv does), waits until it answers /-/ready, and stops it with
// SIGTERM at the end of the test, expecting a clean exit.
func startDaemon(t *testing.T, prefix []string, env []string, args ...string) *process {
	t.Helper()
	d := &process{addr: freeAddr(t), stderr: &lockedBuffer{}, exited: make(chan struct{})}
	argv := append(append(append([]string{}, prefix...), syscheckd(t), "--web.listen-address="+d.addr), args...)
	d.cmd = exec.Command(argv[0], argv[1:]...)
	d.cmd.Stderr = d.stderr
	d.cmd.Env = append(os.Environ(), env...)
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		d.cmd.Wait()
		close(d.exited)
	}()
	t.Cleanup(func() {
		if d.stopped {
			return
		}
		select {
		case <-d.exited:
			t.Errorf("syscheckd exited before the end of the test: %v\n%s", d.cmd.ProcessState, d.stderr)
			return
		default:
		}
		d.stop(t)
		if t.Failed() {
			t.Logf("syscheckd log:\n%s", d.stderr)
		}
	})
	waitFor(t, 20*time.Second, "syscheckd to be ready", func() bool {
		resp, err := http.Get("http://" + d.addr + "/-/ready")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return d
}

func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// metrics is one scrape of /metrics.
type metrics map[string]*dto.MetricFamily

func (d *process) scrape(t *testing.T) metrics {
	t.Helper()
	m, err := testbed.Scrape(d.addr)
	if err != nil {
		t.Fatalf("scrape: %v", err)
	}
	return metrics(m)
}

// value returns the value of the series name{labels} (labels as k=v
// pairs), or -1 if there is none.
func (m metrics) value(name string, labels ...string) float64 {
	want := make(map[string]string, len(labels)/2)
	for i := 0; i+1 < len(labels); i += 2 {
		want[labels[i]] = labels[i+1]
	}
	return testbed.Metrics(m).Value(name, want)
}

func (m metrics) probes(result string) float64 {
	return m.value("syscheck_probes_total", "probe", "getProcessInfo", "result", result)
}

// waitForProbes scrapes until at least n probes ended in result.
func (d *process) waitForProbes(t *testing.T, result string, n float64, timeout time.Duration) metrics {
	t.Helper()
	var m metrics
	waitFor(t, timeout, fmt.Sprintf("%v probes with result %s", n, result), func() bool {
		m = d.scrape(t)
		return m.probes(result) >= n
	})
	return m
}

func (m metrics) onlyResult(t *testing.T, result string) {
	t.Helper()
	for _, r := range []string{"success", "absent", "conflict", "errno", "unexpected_return", "kmsg_missing", "timeout", "crashed"} {
		v := m.probes(r)
		if v < 0 {
			t.Errorf("series for result %s missing: every result must exist from the start", r)
		}
		if r != result && v != 0 {
			t.Errorf("%v probes with result %s, want only %s", v, r, result)
		}
	}
}

func TestDaemonDefaultFlagsReportConflictAndNeverCall335(t *testing.T) {
	requireRoot(t)
	t.Parallel()
	d := startDaemon(t, nil, nil, "--probe.interval=1s", "--probe.timeout=500ms", "--web.enable-exporter-metrics")
	m := d.waitForProbes(t, "conflict", 3, 20*time.Second)
	// Had 335 been called, the worker would have died of SIGILL: crashed.
	m.onlyResult(t, "conflict")
	if v := m.value("syscheck_syscall_available", "probe", "getProcessInfo"); v != 0 {
		t.Errorf("syscheck_syscall_available = %v, want 0", v)
	}
	if v := m.value("syscheck_probe_success", "probe", "getProcessInfo"); v != 0 {
		t.Errorf("syscheck_probe_success = %v, want 0", v)
	}
	if v := m.value("syscheck_syscall_duration_seconds", "probe", "getProcessInfo"); v != 0 {
		t.Errorf("%v syscall durations observed, want none: nothing was called", v)
	}
	if v := m.value("syscheck_kmsg_up"); v != 1 {
		t.Errorf("syscheck_kmsg_up = %v, want 1 as root", v)
	}
	var uts unix.Utsname
	unix.Uname(&uts)
	if v := m.value("syscheck_kernel_info", "release", unix.ByteSliceToString(uts.Release[:]), "machine", "x86_64"); v != 1 {
		t.Errorf("syscheck_kernel_info for this kernel = %v, want 1", v)
	}
	for _, name := range []string{"syscheck_build_info", "go_goroutines", "process_resident_memory_bytes", "syscheck_kmsg_records_total",
		"syscheck_kmsg_lost_records_total", "syscheck_kmsg_spoofed_total", "syscheck_kmsg_unsolicited_total", "syscheck_kmsg_reopens_total"} {
		if m.value(name) < 0 {
			t.Errorf("%s missing", name)
		}
	}
	if !strings.Contains(d.stderr.String(), "syscall 335 is uretprobe on this kernel") {
		t.Errorf("the log does not say why 335 was not called")
	}
	// The exposition passes Prometheus' own linter.
	resp, err := http.Get("http://" + d.addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	check := exec.Command("promtool", "check", "metrics")
	check.Stdin = resp.Body
	out, err := check.CombinedOutput()
	if err != nil && len(out) == 0 {
		t.Errorf("promtool check metrics (apt-get install prometheus): %v", err)
	}
	// The two kernel counts are gauges whose names issue 13 fixed, which
	// the linter would have end in something else than _count.
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if line != "" && !strings.HasSuffix(line, `non-histogram and non-summary metrics should not have "_count" suffix`) {
			t.Errorf("promtool check metrics: %s", line)
		}
	}
	resp.Body.Close()
	for _, path := range []string{"/", "/-/healthy", "/-/ready"} {
		resp, err := http.Get("http://" + d.addr + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %s", path, resp.Status)
		}
	}
}

func TestDaemonUnassignedNumberIsAbsent(t *testing.T) {
	requireRoot(t)
	t.Parallel()
	d := startDaemon(t, nil, nil, "--probe.symbol=", "--probe.syscall=400", "--probe.interval=1s", "--probe.timeout=500ms")
	m := d.waitForProbes(t, "absent", 2, 20*time.Second)
	m.onlyResult(t, "absent")
	if v := m.value("syscheck_syscall_available", "probe", "getProcessInfo"); v != 0 {
		t.Errorf("syscheck_syscall_available = %v, want 0", v)
	}
	if v := m.value("syscheck_syscall_duration_seconds", "probe", "getProcessInfo"); v < 2 {
		t.Errorf("%v syscall durations observed, want one per call", v)
	}
	// Without --web.enable-exporter-metrics: syscheck_* only.
	if v := m.value("go_goroutines"); v >= 0 {
		t.Errorf("go_goroutines = %v with exporter metrics off by default", v)
	}
}

// repeat calls f every period until the test ends.
func repeat(t *testing.T, period time.Duration, f func()) {
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		ticker := time.NewTicker(period)
		defer ticker.Stop()
		for {
			select {
			case <-stop:
				return
			case <-ticker.C:
				f()
			}
		}
	}()
	t.Cleanup(func() {
		close(stop)
		<-done
	})
}

func TestDaemonForgedRecordsNeverCount(t *testing.T) {
	requireRoot(t)
	t.Parallel()
	kmsgtest.Unlimited(t)
	// sched_yield returns 0 and printk's nothing; meanwhile a process writes
	// the exact seed line, which the kernel stamps LOG_USER.
	d := startDaemon(t, nil, nil, "--probe.symbol=", "--probe.syscall=24", "--probe.interval=2s", "--probe.timeout=1s")
	repeat(t, 50*time.Millisecond, func() {
		os.WriteFile("/dev/kmsg", []byte("getProcessInfo - hey there\n"), 0)
	})
	m := d.waitForProbes(t, "kmsg_missing", 3, 30*time.Second)
	m.onlyResult(t, "kmsg_missing")
	if v := m.value("syscheck_kmsg_spoofed_total"); v <= 0 {
		t.Errorf("syscheck_kmsg_spoofed_total = %v, want > 0", v)
	}
	if v := m.value("syscheck_syscall_available", "probe", "getProcessInfo"); v != 1 {
		t.Errorf("syscheck_syscall_available = %v, want 1: the call exists", v)
	}
}

// TestDaemonSucceedsOnARealKernelRecord drives the success path through the
// real /dev/kmsg on this kernel, which has no getProcessInfo: sched_yield
// stands in for the call and the kernel's own "drop_caches: 1" printk for
// its record (writing vm.drop_caches logs it at KERN_INFO, facility 0). The
// real system call succeeds in the QEMU kernel tests.
func TestDaemonSucceedsOnARealKernelRecord(t *testing.T) {
	requireRoot(t)
	t.Parallel()
	d := startDaemon(t, nil, nil, "--probe.symbol=", "--probe.syscall=24", "--probe.interval=1s", "--probe.timeout=900ms",
		"--probe.kmsg-pattern=drop_caches: 1$")
	repeat(t, 100*time.Millisecond, func() {
		os.WriteFile("/proc/sys/vm/drop_caches", []byte("1\n"), 0)
	})
	m := d.waitForProbes(t, "success", 3, 30*time.Second)
	if v := m.value("syscheck_probe_success", "probe", "getProcessInfo"); v != 1 {
		t.Errorf("syscheck_probe_success = %v, want 1", v)
	}
	if v := m.value("syscheck_kmsg_delay_seconds", "probe", "getProcessInfo"); v < 3 {
		t.Errorf("%v kmsg delays observed, want one per success", v)
	}
	if v := m.value("syscheck_last_success_timestamp_seconds", "probe", "getProcessInfo"); v < float64(time.Now().Add(-time.Minute).Unix()) {
		t.Errorf("syscheck_last_success_timestamp_seconds = %v, not recent", v)
	}
}

func TestDaemonSurvivesACrashingCall(t *testing.T) {
	requireRoot(t)
	t.Parallel()
	// rt_sigreturn without a signal frame: the worker dies of SIGSEGV.
	d := startDaemon(t, nil, nil, "--probe.symbol=", "--probe.syscall=15", "--probe.interval=1s", "--probe.timeout=500ms")
	m := d.waitForProbes(t, "crashed", 3, 20*time.Second)
	m.onlyResult(t, "crashed")
	// Every crash costs its worker: each probe started a new one.
	if starts, probes := m.value("syscheck_worker_starts_total", "probe", "getProcessInfo"), m.probes("crashed"); starts < probes {
		t.Errorf("syscheck_worker_starts_total = %v after %v crashes, want at least as many", starts, probes)
	}
	if !strings.Contains(d.stderr.String(), "signal=SIGSEGV") {
		t.Errorf("the log does not name SIGSEGV")
	}
	resp, err := http.Get("http://" + d.addr + "/-/healthy")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("/-/healthy: %s", resp.Status)
	}
}

// children returns the pids whose parent is pid.
func children(t *testing.T, pid int) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var kids []int
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// Fields after the command name, which is in parentheses.
		rest := string(stat[bytes.LastIndexByte(stat, ')')+2:])
		fields := strings.Fields(rest)
		if len(fields) > 1 && fields[1] == strconv.Itoa(pid) {
			kids = append(kids, child)
		}
	}
	return kids
}

func TestDaemonHungCallTimesOutWithoutPilingUpWorkers(t *testing.T) {
	requireRoot(t)
	t.Parallel()
	// pause never returns.
	d := startDaemon(t, nil, nil, "--probe.symbol=", "--probe.syscall=34", "--probe.interval=1s", "--probe.timeout=500ms")
	most := 0
	waitFor(t, 30*time.Second, "4 timeouts", func() bool {
		most = max(most, len(children(t, d.cmd.Process.Pid)))
		return d.scrape(t).probes("timeout") >= 4
	})
	d.scrape(t).onlyResult(t, "timeout")
	if most > 1 {
		t.Errorf("%d workers alive at once, want at most 1", most)
	}
	time.Sleep(700 * time.Millisecond)
	if kids := children(t, d.cmd.Process.Pid); len(kids) > 1 {
		t.Errorf("workers alive afterwards: %v", kids)
	}
}

func TestDaemonWithoutCapSyslogKeepsServing(t *testing.T) {
	requireRoot(t)
	t.Parallel()
	if _, err := exec.LookPath("setpriv"); err != nil {
		t.Fatal("setpriv (util-linux) is needed to drop privileges: apt-get install util-linux")
	}
	// nobody, with every capability gone: /dev/kmsg is closed to it while
	// kernel.dmesg_restrict=1.
	drop := []string{"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all", "--bounding-set=-all"}
	d := startDaemon(t, drop, nil, "--probe.interval=1s", "--probe.timeout=500ms")
	m := d.waitForProbes(t, "conflict", 3, 20*time.Second)
	if v := m.value("syscheck_kmsg_up"); v != 0 {
		t.Errorf("syscheck_kmsg_up = %v, want 0 without CAP_SYSLOG", v)
	}
	// Several retries have happened by now (backoff 100ms, 200ms, ...).
	var capLines []string
	sc := bufio.NewScanner(strings.NewReader(d.stderr.String()))
	for sc.Scan() {
		if strings.Contains(sc.Text(), "CAP_SYSLOG") {
			capLines = append(capLines, sc.Text())
		}
	}
	if len(capLines) != 1 || !strings.Contains(capLines[0], "level=ERROR") {
		t.Errorf("want exactly one error line naming CAP_SYSLOG, got %q", capLines)
	}
}

func TestDaemonNotifiesSystemd(t *testing.T) {
	requireRoot(t)
	t.Parallel()
	sock := filepath.Join(t.TempDir(), "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	messages := make(chan string, 100)
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				close(messages)
				return
			}
			messages <- string(buf[:n])
		}
	}()
	d := startDaemon(t, nil, []string{"NOTIFY_SOCKET=" + sock, "WATCHDOG_USEC=400000"}, "--probe.interval=1s", "--probe.timeout=500ms")

	var got []string
	waitFor(t, 10*time.Second, "READY=1, STATUS= and two WATCHDOG=1", func() bool {
		for {
			select {
			case m := <-messages:
				got = append(got, m)
				continue
			default:
			}
			break
		}
		all := strings.Join(got, "\n")
		return strings.Contains(all, "READY=1") && strings.Count(all, "WATCHDOG=1") >= 2
	})
	if !strings.HasPrefix(got[0], "READY=1\nSTATUS=getProcessInfo: conflict: syscall 335 is uretprobe") {
		t.Errorf("first notification %q, want READY=1 with the probe's status", got[0])
	}
	d.stop(t)
	waitFor(t, 5*time.Second, "STOPPING=1", func() bool {
		select {
		case m := <-messages:
			return m == "STOPPING=1"
		default:
			return false
		}
	})
}

// runBinary runs syscheckd to completion and returns its exit status and
// output.
func runBinary(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	cmd := exec.Command(syscheckd(t), args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	var exit *exec.ExitError
	if err := cmd.Run(); err != nil && !errors.As(err, &exit) {
		t.Fatal(err)
	}
	return cmd.ProcessState.ExitCode(), out.String(), errOut.String()
}

func TestProbeOnce(t *testing.T) {
	requireRoot(t)
	tests := []struct {
		name     string
		args     []string
		wantCode int
		want     []string // lines of the text report
	}{
		{
			name:     "default flags on this kernel",
			args:     nil,
			wantCode: 1,
			want: []string{
				"syscall: 335 (getProcessInfo)",
				"check: syscall 335 is uretprobe on this kernel, not getProcessInfo; not calling it",
				"returned: not called",
				"verdict: conflict (syscall 335 is uretprobe on this kernel, not getProcessInfo; not calling it)",
			},
		},
		{
			name:     "ENOSYS",
			args:     []string{"--probe.symbol=", "--probe.syscall=400"},
			wantCode: 1,
			want:     []string{"returned: -1, errno ENOSYS", "verdict: absent (the kernel has no system call with this number (ENOSYS))"},
		},
		{
			name:     "returns 0 but writes no record",
			args:     []string{"--probe.symbol=", "--probe.syscall=24", "--probe.timeout=500ms"},
			wantCode: 1,
			want:     []string{"returned: 0", "kernel log: no matching record", "verdict: kmsg_missing (no kernel record matched ^getProcessInfo - hey there$ within the timeout)"},
		},
		{
			name:     "unexpected return",
			args:     []string{"--probe.symbol=", "--probe.syscall=39"},
			wantCode: 1,
			want:     []string{"verdict: unexpected_return (the call returned "},
		},
		{
			name:     "crash",
			args:     []string{"--probe.symbol=", "--probe.syscall=15"},
			wantCode: 1,
			want:     []string{"returned: no: the worker was killed by SIGSEGV", "verdict: crashed (the worker was killed by SIGSEGV (segmentation fault))"},
		},
		{
			name:     "hang",
			args:     []string{"--probe.symbol=", "--probe.syscall=34", "--probe.timeout=300ms"},
			wantCode: 1,
			want:     []string{"returned: no", "verdict: timeout (the call did not return within the timeout)"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := runBinary(t, append([]string{"--probe.once"}, tt.args...)...)
			if code != tt.wantCode {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.wantCode, stdout, stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(squash(stdout), w) {
					t.Errorf("report lacks %q:\n%s", w, stdout)
				}
			}
			var uts unix.Utsname
			unix.Uname(&uts)
			if !strings.HasPrefix(stdout, "kernel:") || !strings.Contains(stdout, unix.ByteSliceToString(uts.Release[:])) {
				t.Errorf("report does not start with the kernel release:\n%s", stdout)
			}
		})
	}
}

func TestProbeOnceJSON(t *testing.T) {
	requireRoot(t)
	code, stdout, _ := runBinary(t, "--probe.once", "--output=json", "--probe.symbol=", "--probe.syscall=400")
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	var rep struct {
		Syscall int    `json:"syscall"`
		Called  bool   `json:"called"`
		Return  *int64 `json:"return"`
		Errno   string `json:"errno"`
		Result  string `json:"result"`
		KmsgUp  bool   `json:"kmsg_up"`
	}
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("%v:\n%s", err, stdout)
	}
	if rep.Syscall != 400 || !rep.Called || rep.Return == nil || *rep.Return != -1 || rep.Errno != "ENOSYS" || rep.Result != "absent" || !rep.KmsgUp {
		t.Errorf("report %+v", rep)
	}
}

func TestProbeOnceSucceedsOnARealKernelRecord(t *testing.T) {
	requireRoot(t)
	// As in TestDaemonSucceedsOnARealKernelRecord: sched_yield stands in for
	// the call, the kernel's drop_caches printk for its record.
	repeat(t, 50*time.Millisecond, func() {
		os.WriteFile("/proc/sys/vm/drop_caches", []byte("1\n"), 0)
	})
	code, stdout, stderr := runBinary(t, "--probe.once", "--probe.symbol=", "--probe.syscall=24", "--probe.timeout=2s", "--probe.kmsg-pattern=drop_caches: 1$")
	if code != 0 {
		t.Fatalf("exit %d, want 0\n%s\n%s", code, stdout, stderr)
	}
	for _, w := range []string{"returned: 0", "kernel log: \"", "drop_caches: 1\" (seq ", "verdict: success"} {
		if !strings.Contains(squash(stdout), w) {
			t.Errorf("report lacks %q:\n%s", w, stdout)
		}
	}
}

// squash collapses the report's column padding, so that tests do not
// depend on the width of the widest label.
func squash(s string) string { return padding.ReplaceAllString(s, ": ") }

var padding = regexp.MustCompile(`: {2,}`)

func TestBadFlagsExit2WithOneLine(t *testing.T) {
	for _, args := range [][]string{
		{"--bogus"},
		{"--probe.timeout=30s"},
		{"--probe.syscall=1024"},
		{"--probe.kmsg-pattern=("},
		{"--probe.interval=soon"},
		{"--web.config.file=/nonexistent.yml"},
		{"--probe.once", "--output=xml"},
		{"--web.listen-address="},
		{"--probe.name=a\nb"},
	} {
		code, stdout, stderr := runBinary(t, args...)
		lines := strings.Split(strings.TrimRight(stderr, "\n"), "\n")
		if code != 2 || stdout != "" || len(lines) != 1 || !strings.HasPrefix(lines[0], "syscheckd: error: ") {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want exit 2 and one error line", args, code, stdout, stderr)
		}
	}
}

// An address that cannot be listened on is a bad flag too: exit 2, with
// the reason in one log line.
func TestListenErrorExits2(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	code, _, stderr := runBinary(t, "--web.listen-address="+l.Addr().String(), "--probe.symbol=", "--probe.syscall=400")
	lines := strings.Split(strings.TrimRight(stderr, "\n"), "\n")
	last := lines[len(lines)-1]
	if code != 2 || !strings.Contains(last, `msg="cannot listen"`) || !strings.Contains(last, "address already in use") {
		t.Errorf("exit %d, last line %q; want exit 2 and the listen error", code, last)
	}
}

func TestVersion(t *testing.T) {
	code, stdout, stderr := runBinary(t, "--version")
	if code != 0 || !strings.HasPrefix(stdout+stderr, "syscheckd, version") {
		t.Errorf("--version: exit %d, output %q", code, stdout+stderr)
	}
}
