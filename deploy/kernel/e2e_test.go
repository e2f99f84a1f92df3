//go:build e2e

// Package kernel's end-to-end tests boot real kernels under QEMU with a
// static syscheckd and the getprocessinfo kselftest in a busybox
// initramfs, and check what syscheckd reports on each: the patched kernels
// from build-kernel.sh and Debian's stock ones from fetch-stock-kernel.sh.
// Run them with `make e2e` (go test -tags e2e); they need root, QEMU and the
// kernel build dependencies, which the scripts install.
package kernel

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// syscheckdBinary is a static syscheckd built for the guests.
var syscheckdBinary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "syscheckd-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	syscheckdBinary = filepath.Join(dir, "syscheckd")
	build := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", syscheckdBinary, "../../cmd/syscheckd")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// script runs one of this folder's scripts and returns the last line it
// printed, which is the path it built or fetched.
func script(t *testing.T, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command("./"+name, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return lines[len(lines)-1]
}

// kernelUnderTest is a kernel to boot, with what its initramfs needs.
type kernelUnderTest struct {
	image     string   // bzImage or vmlinuz
	modules   []string // to insmod at boot (stock kernels build e1000 as a module)
	kselftest string   // the static getprocessinfo kselftest
}

func patched(t *testing.T, series string) kernelUnderTest {
	image := script(t, "build-kernel.sh", series)
	return kernelUnderTest{image: image, kselftest: filepath.Join(filepath.Dir(image), "getprocessinfo_test")}
}

// stock is Debian's kernel of the series, with the kselftest built for the
// patched kernel of the same series, so that it calls the same number.
func stock(t *testing.T, series string) kernelUnderTest {
	image := script(t, "fetch-stock-kernel.sh", series)
	order, err := os.ReadFile(filepath.Join(filepath.Dir(image), "modules.order"))
	if err != nil {
		t.Fatal(err)
	}
	return kernelUnderTest{image: image, modules: strings.Fields(string(order)), kselftest: patched(t, series).kselftest}
}

// guestScript runs in the guest: the kselftest, one `syscheckd --probe.once`
// and then the daemon, which the test scrapes through QEMU's port forward.
// Markers delimit each part on the console.
const guestScript = `#!/bin/sh
echo "E2E-KSELFTEST: begin"
/bin/getprocessinfo_test
echo "E2E-KSELFTEST: end rc=$?"
echo "E2E-ONCE: begin"
/bin/syscheckd --probe.once --output=json --log.level=warn @FLAGS@ > /tmp/once.json
rc=$?
tr -d '\n' < /tmp/once.json; echo
echo "E2E-ONCE: end rc=$rc"
echo "E2E-DAEMON: start"
exec /bin/syscheckd --web.listen-address=:9335 --probe.interval=1s --probe.timeout=900ms @FLAGS@
`

// guest is a booted QEMU guest.
type guest struct {
	console *lockedBuffer
	addr    string // host address forwarded to the guest's :9335
	exited  chan struct{}
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	// The serial console ends lines with \r\n; dropping \r keeps the
	// markers matchable with (?m)$. Report all of p as written, or the copy
	// from QEMU's stdout stops with a short write.
	b.buf.Write(bytes.ReplaceAll(p, []byte("\r"), nil))
	return len(p), nil
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// boot starts k with syscheckd run with flags, and kills QEMU when the
// test ends.
func boot(t *testing.T, k kernelUnderTest, flags string) *guest {
	t.Helper()
	dir := t.TempDir()
	run := filepath.Join(dir, "run")
	if err := os.WriteFile(run, []byte(strings.ReplaceAll(guestScript, "@FLAGS@", flags)), 0o755); err != nil {
		t.Fatal(err)
	}
	initrd := filepath.Join(dir, "initrd.cpio.gz")
	args := []string{"-o", initrd, "-r", run, "-a", syscheckdBinary, "-a", k.kselftest}
	for _, m := range k.modules {
		args = append(args, "-m", m)
	}
	script(t, "mkinitramfs.sh", args...)

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()

	g := &guest{console: &lockedBuffer{}, addr: fmt.Sprintf("127.0.0.1:%d", port), exited: make(chan struct{})}
	// quiet: with the console at loglevel 7, each printk would be written to
	// the emulated serial port synchronously and dominate the latency.
	cmd := exec.Command("./boot.sh", "-k", k.image, "-i", initrd, "-p", fmt.Sprint(port), "-t", "600", "-a", "quiet")
	cmd.Stdout, cmd.Stderr = g.console, g.console
	cmd.SysProcAttr = procAttr()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		cmd.Wait()
		close(g.exited)
	}()
	t.Cleanup(func() {
		killGroup(cmd)
		<-g.exited
		if t.Failed() {
			t.Logf("guest console:\n%s", g.console)
		}
	})
	return g
}

// waitConsole waits for a console line matching re and returns its
// submatches.
func (g *guest) waitConsole(t *testing.T, re *regexp.Regexp, timeout time.Duration) []string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if m := re.FindStringSubmatch(g.console.String()); m != nil {
			return m
		}
		select {
		case <-g.exited:
			t.Fatalf("QEMU exited before the console showed %s", re)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the console did not show %s within %s", re, timeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// once is the part of the --probe.once JSON report the tests check.
type once struct {
	Kernel  string `json:"kernel_release"`
	Syscall int    `json:"syscall"`
	Called  bool   `json:"called"`
	Return  *int64 `json:"return"`
	Signal  string `json:"signal"`
	Line    string `json:"kmsg_line"`
	Result  string `json:"result"`
	Reason  string `json:"reason"`
}

var (
	kselftestEnd = regexp.MustCompile(`(?m)^E2E-KSELFTEST: end rc=(\d+)$`)
	onceReport   = regexp.MustCompile(`(?m)^E2E-ONCE: begin\n(?:.*\n)*?(\{.*\})\nE2E-ONCE: end rc=(\d+)$`)
)

func (g *guest) kselftest(t *testing.T) (tap string, rc string) {
	t.Helper()
	m := g.waitConsole(t, kselftestEnd, 3*time.Minute)
	out := g.console.String()
	begin := strings.Index(out, "E2E-KSELFTEST: begin")
	return out[begin:strings.Index(out, m[0])], m[1]
}

func (g *guest) once(t *testing.T) (once, string) {
	t.Helper()
	m := g.waitConsole(t, onceReport, 2*time.Minute)
	var rep once
	if err := json.Unmarshal([]byte(m[1]), &rep); err != nil {
		t.Fatalf("--probe.once report %q: %v", m[1], err)
	}
	return rep, m[2]
}

// metrics is one scrape of the guest's /metrics.
type metrics map[string]*dto.MetricFamily

func (g *guest) scrape() (metrics, error) {
	client := http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get("http://" + g.addr + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /metrics: %s", resp.Status)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	return parser.TextToMetricFamilies(resp.Body)
}

// value returns the first sample of name whose labels include want, as a
// counter, gauge or histogram count; -1 if there is none.
func (m metrics) value(name string, want map[string]string) float64 {
	for _, s := range m[name].GetMetric() {
		labels := map[string]string{}
		for _, lp := range s.GetLabel() {
			labels[lp.GetName()] = lp.GetValue()
		}
		match := true
		for k, v := range want {
			match = match && labels[k] == v
		}
		if !match {
			continue
		}
		switch {
		case s.Counter != nil:
			return s.GetCounter().GetValue()
		case s.Gauge != nil:
			return s.GetGauge().GetValue()
		case s.Histogram != nil:
			return float64(s.GetHistogram().GetSampleCount())
		}
	}
	return -1
}

var probeLabel = map[string]string{"probe": "getProcessInfo"}

func (m metrics) probes(result string) float64 {
	return m.value("syscheck_probes_total", map[string]string{"probe": "getProcessInfo", "result": result})
}

// waitForProbes scrapes the daemon until n probes ended in result.
func (g *guest) waitForProbes(t *testing.T, result string, n float64) metrics {
	t.Helper()
	g.waitConsole(t, regexp.MustCompile(`(?m)^E2E-DAEMON: start$`), 3*time.Minute)
	deadline := time.Now().Add(3 * time.Minute)
	var lastErr error
	for time.Now().Before(deadline) {
		m, err := g.scrape()
		if err == nil && m.probes(result) >= n {
			return m
		}
		lastErr = err
		select {
		case <-g.exited:
			t.Fatal("QEMU exited while the daemon should be serving")
		case <-time.After(500 * time.Millisecond):
		}
	}
	t.Fatalf("no %v probes with result %s within 3m (last scrape error: %v)", n, result, lastErr)
	return nil
}

// onlyResult checks that every probe so far ended in result.
func (m metrics) onlyResult(t *testing.T, result string) {
	t.Helper()
	for _, r := range []string{"success", "absent", "conflict", "errno", "unexpected_return", "kmsg_missing", "timeout", "crashed"} {
		if v := m.probes(r); r != result && v != 0 {
			t.Errorf("%v probes ended in %s, want only %s", v, r, result)
		}
	}
}

func TestPatched61Succeeds(t *testing.T) {
	g := boot(t, patched(t, "6.1"), "")
	tap, rc := g.kselftest(t)
	if rc != "0" || !strings.Contains(tap, "\nok 1 ") {
		t.Errorf("kselftest: rc %s, want ok 1:\n%s", rc, tap)
	}
	rep, rc := g.once(t)
	if rc != "0" || rep.Result != "success" || rep.Syscall != 335 || rep.Return == nil || *rep.Return != 0 || rep.Line != "getProcessInfo - hey there" {
		t.Errorf("--probe.once: exit %s, report %+v; want success with the record", rc, rep)
	}
	m := g.waitForProbes(t, "success", 3)
	m.onlyResult(t, "success")
	if v := m.value("syscheck_syscall_available", probeLabel); v != 1 {
		t.Errorf("syscheck_syscall_available = %v, want 1", v)
	}
	if v := m.value("syscheck_kmsg_delay_seconds", probeLabel); v < 3 {
		t.Errorf("%v observations in syscheck_kmsg_delay_seconds, want at least 3", v)
	}
	if v := m.value("syscheck_kernel_info", map[string]string{"release": rep.Kernel}); v != 1 {
		t.Errorf("syscheck_kernel_info{release=%q} = %v", rep.Kernel, v)
	}

	// An on-demand probe with its step-by-step trace.
	resp, err := http.Get("http://" + g.addr + "/probe?name=getProcessInfo&debug=true")
	if err != nil {
		t.Fatal(err)
	}
	trace, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /probe?debug=true: %v %s\n%s", err, resp.Status, trace)
	}
	if !regexp.MustCompile(`kern\.info .*"getProcessInfo - hey there": matched`).Match(trace) || !bytes.Contains(trace, []byte("result: success")) {
		t.Errorf("debug trace lacks the matched kernel record or the success:\n%s", trace)
	}
	t.Logf("debug trace from the patched 6.1 kernel:\n%s", trace)
}

func TestPatched612SucceedsAtItsOwnNumber(t *testing.T) {
	k := patched(t, "6.12")
	nr, err := os.ReadFile(filepath.Join(filepath.Dir(k.image), "syscall-nr"))
	if err != nil {
		t.Fatal(err)
	}
	flags := "--probe.syscall=" + strings.TrimSpace(string(nr))
	g := boot(t, k, flags)
	if tap, rc := g.kselftest(t); rc != "0" || !strings.Contains(tap, "\nok 1 ") {
		t.Errorf("kselftest: rc %s, want ok 1:\n%s", rc, tap)
	}
	if rep, rc := g.once(t); rc != "0" || rep.Result != "success" || rep.Syscall != 423 {
		t.Errorf("--probe.once %s: exit %s, report %+v; want success at 423", flags, rc, rep)
	}
	g.waitForProbes(t, "success", 3).onlyResult(t, "success")
}

func TestStock61IsAbsent(t *testing.T) {
	g := boot(t, stock(t, "6.1"), "")
	// 4 is KSFT_SKIP, the exit status of a kselftest that skipped.
	if tap, rc := g.kselftest(t); rc != "4" || !strings.Contains(tap, "1..0 # SKIP") {
		t.Errorf("kselftest: rc %s, want 4 and a skip:\n%s", rc, tap)
	}
	if rep, rc := g.once(t); rc != "1" || rep.Result != "absent" || rep.Called {
		t.Errorf("--probe.once: exit %s, report %+v; want absent, not called", rc, rep)
	}
	m := g.waitForProbes(t, "absent", 3)
	m.onlyResult(t, "absent")
	if v := m.value("syscheck_syscall_available", probeLabel); v != 0 {
		t.Errorf("syscheck_syscall_available = %v, want 0", v)
	}
}

func TestStock612IsAConflict(t *testing.T) {
	g := boot(t, stock(t, "6.12"), "")
	if rep, rc := g.once(t); rc != "1" || rep.Result != "conflict" || rep.Called || !strings.Contains(rep.Reason, "uretprobe") {
		t.Errorf("--probe.once: exit %s, report %+v; want conflict with uretprobe, not called", rc, rep)
	}
	m := g.waitForProbes(t, "conflict", 3)
	m.onlyResult(t, "conflict")
}

// Without the symbol check, syscheckd calls 335 on a kernel where it is
// uretprobe: the worker dies of SIGILL and the daemon keeps serving.
func TestStock612WithoutSymbolCheckCrashesOnlyTheWorker(t *testing.T) {
	g := boot(t, stock(t, "6.12"), "--probe.symbol=")
	if rep, rc := g.once(t); rc != "1" || rep.Result != "crashed" || rep.Signal != "SIGILL" {
		t.Errorf("--probe.once: exit %s, report %+v; want crashed by SIGILL", rc, rep)
	}
	m := g.waitForProbes(t, "crashed", 3)
	m.onlyResult(t, "crashed")
	if v := m.value("syscheck_syscall_available", probeLabel); v != 1 {
		t.Errorf("syscheck_syscall_available = %v, want 1 (the number exists, the call crashed)", v)
	}
	if _, err := g.scrape(); err != nil {
		t.Errorf("daemon stopped serving after the crashes: %v", err)
	}
}
