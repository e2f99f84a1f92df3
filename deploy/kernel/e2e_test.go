//go:build e2e

// Package kernel's end-to-end tests boot real kernels under QEMU with a
// static syscheckd and the getprocessinfo kselftest in a busybox
// initramfs, and check what syscheckd reports on each: the patched kernels
// from build-kernel.sh (the build and its previous build) and Debian's
// stock ones from fetch-stock-kernel.sh. Every guest of the matrix gets the
// kernel manifest that kernel CI would ship: one entry, made on the host by
// `syscheckd --kernel.print-entry` from the patched 6.1 build's vmlinux.
// Run them with `make e2e` (go test -tags e2e); they need root, QEMU and the
// kernel build dependencies, which the scripts install.
package kernel

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/syscheckd/syscheckd/deploy/testbed"
)

// syscheckdDir holds a static syscheckd built once for every guest.
var syscheckdDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "syscheckd-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	syscheckdDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// syscheckdBinary builds the guests' syscheckd on first use.
func syscheckdBinary(t *testing.T) string {
	path := syscheckdDir + "/syscheckd"
	if _, err := os.Stat(path); err != nil {
		testbed.BuildSyscheckd(t, syscheckdDir)
	}
	return path
}

// guestScript runs in the guest: the kselftest, `syscheckd --probe.once`
// (JSON for the checks, then text for the log) and then the daemon, which
// the test scrapes through QEMU's port forward. Markers delimit each part
// on the console.
const guestScript = `#!/bin/sh
echo "E2E-KSELFTEST: begin"
/bin/getprocessinfo_test
echo "E2E-KSELFTEST: end rc=$?"
echo "E2E-ONCE: begin"
/bin/syscheckd --probe.once --output=json --log.level=warn @FLAGS@ > /tmp/once.json
rc=$?
tr -d '\n' < /tmp/once.json; echo
echo "E2E-ONCE: end rc=$rc"
echo "E2E-ONCE-TEXT: begin"
/bin/syscheckd --probe.once --log.level=warn @FLAGS@
echo "E2E-ONCE-TEXT: end rc=$?"
echo "E2E-DAEMON: start"
exec /bin/syscheckd --web.listen-address=:10335 --probe.interval=1s --probe.timeout=900ms @FLAGS@
`

// guestManifest is where the guests find the manifest.
const guestManifest = "/etc/syscheckd/kernels.yml"

// guest is a booted kernel running guestScript.
type guest struct {
	*testbed.Guest
}

// boot starts k with guestScript, the manifest in the initramfs and
// --kernel.manifest on syscheckd's command line (before flags).
func boot(t *testing.T, k testbed.Kernel, flags string) guest {
	t.Helper()
	manifest, _ := newBuildManifest(t)
	return guest{testbed.Boot(t, k, testbed.Options{
		Run:   strings.ReplaceAll(guestScript, "@FLAGS@", "--kernel.manifest="+guestManifest+" "+flags),
		Files: []string{syscheckdBinary(t), k.Kselftest, manifest + ":" + guestManifest},
	})}
}

func patched(t *testing.T, series string) testbed.Kernel { return testbed.Patched(t, series) }
func stock(t *testing.T, series string) testbed.Kernel   { return testbed.Stock(t, series) }

// newBuildName is the manifest's name for the patched 6.1 build, set with
// the manifest by newBuildManifest.
var newBuildName string

// newBuildManifest makes, on first use, the manifest that kernel CI would
// ship for the patched 6.1 build, as CI makes it: syscheckd
// --kernel.print-entry on the build's vmlinux, on the host. It returns the
// file and the entry's name: syscheckd-<the build's cache directory>,
// which names the inputs it was built from.
func newBuildManifest(t *testing.T) (path, name string) {
	t.Helper()
	path = syscheckdDir + "/kernels.yml"
	if _, err := os.Stat(path); err == nil {
		return path, newBuildName
	}
	k := patched(t, "6.1")
	name = "syscheckd-" + filepath.Base(filepath.Dir(k.Image))
	entry := testbed.ManifestEntry(t, syscheckdBinary(t), name, k)
	text := testbed.WriteManifest(t, path, entry)
	newBuildName = name
	t.Logf("manifest, from syscheckd --kernel.print-entry --kernel.vmlinux=%s --kernel.entry-name=%s --kernel.release=%s:\n%s",
		k.Vmlinux, name, k.Release, text)
	if id := testbed.ELFBuildID(t, k.Vmlinux); !strings.Contains(entry, "build_id: "+id+"\n") {
		t.Errorf("--kernel.print-entry printed\n%swant build_id: %s (readelf -n %s)", entry, id, k.Vmlinux)
	}
	return path, name
}

// once is the part of the --probe.once JSON report the tests check.
type once struct {
	Kernel  string `json:"kernel_release"`
	BuildID string `json:"kernel_build_id"`
	Verdict string `json:"kernel_verdict"`
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
	onceText     = regexp.MustCompile(`(?ms)^E2E-ONCE-TEXT: begin\n(.*?)^E2E-ONCE-TEXT: end rc=(\d+)$`)
)

func (g guest) kselftest(t *testing.T) (tap string, rc string) {
	t.Helper()
	m := g.WaitConsole(t, kselftestEnd, 3*time.Minute)
	out := g.Console()
	begin := strings.Index(out, "E2E-KSELFTEST: begin")
	return out[begin:strings.Index(out, m[0])], m[1]
}

func (g guest) once(t *testing.T) (once, string) {
	t.Helper()
	m := g.WaitConsole(t, onceReport, 2*time.Minute)
	var rep once
	if err := json.Unmarshal([]byte(m[1]), &rep); err != nil {
		t.Fatalf("--probe.once report %q: %v", m[1], err)
	}
	return rep, m[2]
}

// onceText returns the text report of the guest's second --probe.once and
// its exit status.
func (g guest) onceText(t *testing.T) (string, string) {
	t.Helper()
	m := g.WaitConsole(t, onceText, 2*time.Minute)
	return m[1], m[2]
}

// identity checks what syscheckd says about the kernel k it runs on, in
// its --probe.once report rep and in the scrape m, against the manifest:
// the build-id is the one readelf -n shows for the kernel's ELF file, and
// syscheck_kernel_expected is 1 with the entry's name when want is that
// name, 0 with an empty name when want is "". It logs both --probe.once
// reports and the kernel's series as served.
func (g guest) identity(t *testing.T, k testbed.Kernel, rep once, m metrics, want string) {
	t.Helper()
	id := testbed.BuildID(t, k)
	if k.Vmlinux != "" {
		// The vmlinux kept beside the bzImage is the one inside it.
		if in := testbed.ImageBuildID(t, k.Image); in != id {
			t.Errorf("%s holds build-id %s, its vmlinux %s", k.Image, in, id)
		}
	}
	if rep.BuildID != id {
		t.Errorf("--probe.once: kernel_build_id %q, want %s (readelf -n)", rep.BuildID, id)
	}
	if got, ok := m.BuildIDLabel(); !ok || got != id {
		t.Errorf("syscheck_kernel_info{build_id=%q} (one series: %v), want build_id %s", got, ok, id)
	}
	if v := m.Value("syscheck_kernel_info", map[string]string{"release": k.Release, "build_id": id}); v != 1 {
		t.Errorf("syscheck_kernel_info{release=%q,build_id=%q} = %v, want 1", k.Release, id, v)
	}
	if rep.Kernel != k.Release {
		t.Errorf("--probe.once: kernel_release %q, want %q", rep.Kernel, k.Release)
	}
	wantVerdict, wantValue := "not in the manifest", 0.0
	if want != "" {
		wantVerdict, wantValue = "expected as "+want, 1
	}
	if rep.Verdict != wantVerdict {
		t.Errorf("--probe.once: kernel_verdict %q, want %q", rep.Verdict, wantVerdict)
	}
	if n := len(m["syscheck_kernel_expected"].GetMetric()); n != 1 {
		t.Errorf("%d syscheck_kernel_expected series, want 1", n)
	}
	if v := m.Value("syscheck_kernel_expected", map[string]string{"name": want}); v != wantValue {
		t.Errorf("syscheck_kernel_expected{name=%q} = %v, want %v", want, v, wantValue)
	}
	// Debian's 6.1 has oops_count and warn_count as 6.2+ does; the guests
	// have /proc/sys (PROC_SYSCTL).
	for _, name := range []string{"syscheck_kernel_tainted", "syscheck_kernel_oops_count", "syscheck_kernel_warn_count"} {
		if v := m.Value(name, nil); v < 0 {
			t.Errorf("%s absent, want it on kernel %s", name, k.Release)
		}
	}
	if v := m.Value("syscheck_kernel_oops_count", nil); v > 0 {
		t.Errorf("syscheck_kernel_oops_count = %v: the guest's kernel oopsed", v)
	}
	text, rc := g.onceText(t)
	excerpt, err := testbed.Excerpt(g.Addr, "syscheck_kernel_info", "syscheck_kernel_expected",
		"syscheck_kernel_tainted", "syscheck_kernel_oops_count", "syscheck_kernel_warn_count",
		"syscheck_syscall_available", "syscheck_probe_success")
	if err != nil {
		t.Errorf("scrape for the log: %v", err)
	}
	t.Logf("kernel %s, build-id %s (readelf -n)\n$ syscheckd --probe.once --kernel.manifest=%s (exit status %s)\n%s$ curl -s http://GUEST:10335/metrics | grep ...\n%s",
		k.Release, id, guestManifest, rc, text, excerpt)
}

type metrics = testbed.Metrics

var probeLabel = map[string]string{"probe": "getProcessInfo"}

func probes(m metrics, result string) float64 {
	return m.Value("syscheck_probes_total", map[string]string{"probe": "getProcessInfo", "result": result})
}

// waitForProbes scrapes the daemon until n probes ended in result.
func (g guest) waitForProbes(t *testing.T, result string, n float64) metrics {
	t.Helper()
	g.WaitConsole(t, regexp.MustCompile(`(?m)^E2E-DAEMON: start$`), 3*time.Minute)
	deadline := time.Now().Add(3 * time.Minute)
	var lastErr error
	for time.Now().Before(deadline) {
		m, err := testbed.Scrape(g.Addr)
		if err == nil && probes(m, result) >= n {
			return m
		}
		lastErr = err
		select {
		case <-g.Exited():
			t.Fatal("QEMU exited while the daemon should be serving")
		case <-time.After(500 * time.Millisecond):
		}
	}
	t.Fatalf("no %v probes with result %s within 3m (last scrape error: %v)", n, result, lastErr)
	return nil
}

// onlyResult checks that every probe so far ended in result.
func onlyResult(t *testing.T, m metrics, result string) {
	t.Helper()
	for _, r := range []string{"success", "absent", "conflict", "errno", "unexpected_return", "kmsg_missing", "timeout", "crashed"} {
		if v := probes(m, r); r != result && v != 0 {
			t.Errorf("%v probes ended in %s, want only %s", v, r, result)
		}
	}
}

// TestPatched61Succeeds: the patched 6.1 build, the one in the manifest.
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
	onlyResult(t, m, "success")
	if v := m.Value("syscheck_syscall_available", probeLabel); v != 1 {
		t.Errorf("syscheck_syscall_available = %v, want 1", v)
	}
	if v := m.Value("syscheck_kmsg_delay_seconds", probeLabel); v < 3 {
		t.Errorf("%v observations in syscheck_kmsg_delay_seconds, want at least 3", v)
	}
	if v := m.Value("syscheck_kernel_info", map[string]string{"release": rep.Kernel}); v != 1 {
		t.Errorf("syscheck_kernel_info{release=%q} = %v", rep.Kernel, v)
	}
	// The build the manifest was made from: expected, under its name.
	_, name := newBuildManifest(t)
	g.identity(t, patched(t, "6.1"), rep, m, name)
	if v := m.Value("syscheck_kernel_tainted", nil); v != 0 {
		t.Errorf("syscheck_kernel_tainted = %v on the patched build, want 0", v)
	}
	checkSeriesBudget(t, g.Addr)

	// An on-demand probe with its step-by-step trace.
	resp, err := http.Get("http://" + g.Addr + "/probe?name=getProcessInfo&debug=true")
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

// TestPatched61PreviousBuildIsNotExpected: the previous build of the
// patched 6.1 kernel, as on a host that did not reboot into the new one.
// It has the system call and the same release (uname -r) as the build in
// the manifest, so every probe succeeds; only its build-id differs, and
// syscheck_kernel_expected is 0.
func TestPatched61PreviousBuildIsNotExpected(t *testing.T) {
	k := testbed.PatchedPrevious(t, "6.1")
	g := boot(t, k, "")
	if tap, rc := g.kselftest(t); rc != "0" || !strings.Contains(tap, "\nok 1 ") {
		t.Errorf("kselftest: rc %s, want ok 1:\n%s", rc, tap)
	}
	rep, rc := g.once(t)
	if rc != "0" || rep.Result != "success" || rep.Syscall != 335 || rep.Line != "getProcessInfo - hey there" {
		t.Errorf("--probe.once: exit %s, report %+v; want success with the record", rc, rep)
	}
	m := g.waitForProbes(t, "success", 3)
	onlyResult(t, m, "success")
	if v := m.Value("syscheck_syscall_available", probeLabel); v != 1 {
		t.Errorf("syscheck_syscall_available = %v, want 1", v)
	}
	g.identity(t, k, rep, m, "")
	newBuild := patched(t, "6.1")
	if k.Release != newBuild.Release {
		t.Errorf("the previous build's release %q differs from the build's %q: the test would not show that the build-id decides", k.Release, newBuild.Release)
	}
	if prev, cur := testbed.BuildID(t, k), testbed.BuildID(t, newBuild); prev == cur {
		t.Errorf("the previous build has the build's build-id %s", cur)
	}
}

func TestPatched612SucceedsAtItsOwnNumber(t *testing.T) {
	k := patched(t, "6.12")
	flags := fmt.Sprintf("--probe.syscall=%d", k.Syscall)
	g := boot(t, k, flags)
	if tap, rc := g.kselftest(t); rc != "0" || !strings.Contains(tap, "\nok 1 ") {
		t.Errorf("kselftest: rc %s, want ok 1:\n%s", rc, tap)
	}
	rep, rc := g.once(t)
	if rc != "0" || rep.Result != "success" || rep.Syscall != 423 {
		t.Errorf("--probe.once %s: exit %s, report %+v; want success at 423", flags, rc, rep)
	}
	m := g.waitForProbes(t, "success", 3)
	onlyResult(t, m, "success")
	// The manifest lists only the 6.1 build.
	g.identity(t, k, rep, m, "")
}

func TestStock61IsAbsent(t *testing.T) {
	k := stock(t, "6.1")
	g := boot(t, k, "")
	// 4 is KSFT_SKIP, the exit status of a kselftest that skipped.
	if tap, rc := g.kselftest(t); rc != "4" || !strings.Contains(tap, "1..0 # SKIP") {
		t.Errorf("kselftest: rc %s, want 4 and a skip:\n%s", rc, tap)
	}
	rep, rc := g.once(t)
	if rc != "1" || rep.Result != "absent" || rep.Called {
		t.Errorf("--probe.once: exit %s, report %+v; want absent, not called", rc, rep)
	}
	m := g.waitForProbes(t, "absent", 3)
	onlyResult(t, m, "absent")
	if v := m.Value("syscheck_syscall_available", probeLabel); v != 0 {
		t.Errorf("syscheck_syscall_available = %v, want 0", v)
	}
	g.identity(t, k, rep, m, "")
}

func TestStock612IsAConflict(t *testing.T) {
	k := stock(t, "6.12")
	g := boot(t, k, "")
	rep, rc := g.once(t)
	if rc != "1" || rep.Result != "conflict" || rep.Called || !strings.Contains(rep.Reason, "uretprobe") {
		t.Errorf("--probe.once: exit %s, report %+v; want conflict with uretprobe, not called", rc, rep)
	}
	m := g.waitForProbes(t, "conflict", 3)
	onlyResult(t, m, "conflict")
	g.identity(t, k, rep, m, "")
}

// Without the symbol check, syscheckd calls 335 on a kernel where it is
// uretprobe: the worker dies of SIGILL and the daemon keeps serving.
func TestStock612WithoutSymbolCheckCrashesOnlyTheWorker(t *testing.T) {
	g := boot(t, stock(t, "6.12"), "--probe.symbol=")
	if rep, rc := g.once(t); rc != "1" || rep.Result != "crashed" || rep.Signal != "SIGILL" {
		t.Errorf("--probe.once: exit %s, report %+v; want crashed by SIGILL", rc, rep)
	}
	m := g.waitForProbes(t, "crashed", 3)
	onlyResult(t, m, "crashed")
	if v := m.Value("syscheck_syscall_available", probeLabel); v != 1 {
		t.Errorf("syscheck_syscall_available = %v, want 1 (the number exists, the call crashed)", v)
	}
	if _, err := testbed.Scrape(g.Addr); err != nil {
		t.Errorf("daemon stopped serving after the crashes: %v", err)
	}
}

// floodScript keeps the patched guest's kernel log busy while syscheckd
// probes: drop_caches printk's a kernel-facility record on every write, and
// a forger writes the exact seed line from userspace.
const floodScript = `#!/bin/sh
echo on > /proc/sys/kernel/printk_devkmsg
(while :; do echo 3 > /proc/sys/vm/drop_caches; done) &
(while :; do echo "getProcessInfo - hey there" > /dev/kmsg; done) &
echo "E2E-DAEMON: start"
exec /bin/syscheckd --web.listen-address=:10335 --probe.interval=1s --probe.timeout=900ms
`

// TestPatched61UnderAKernelLogFlood: with kernel-facility noise and forged
// seed lines flooding the log, no forgery makes a probe succeed and no
// probe whose record was written is reported kmsg_missing unless the reader
// lost records and counted them.
func TestPatched61UnderAKernelLogFlood(t *testing.T) {
	k := patched(t, "6.1")
	g := guest{testbed.Boot(t, k, testbed.Options{Run: floodScript, Files: []string{syscheckdBinary(t)}})}
	m := g.waitForProbes(t, "success", 5)
	for _, r := range []string{"absent", "conflict", "errno", "unexpected_return", "timeout", "crashed"} {
		if v := probes(m, r); v != 0 {
			t.Errorf("%v probes ended in %s under the flood", v, r)
		}
	}
	missing, lost := probes(m, "kmsg_missing"), m.Value("syscheck_kmsg_lost_records_total", nil)
	if missing > 0 && lost == 0 {
		t.Errorf("%v probes reported kmsg_missing but no record was lost", missing)
	}
	if v := m.Value("syscheck_kmsg_spoofed_total", nil); v <= 0 {
		t.Errorf("syscheck_kmsg_spoofed_total = %v: the forger's lines were not seen", v)
	}
	// No --kernel.manifest: no verdict, and no series to alert on.
	if n := len(m["syscheck_kernel_expected"].GetMetric()); n != 0 {
		t.Errorf("%d syscheck_kernel_expected series without a manifest, want none", n)
	}
	records := m.Value("syscheck_kmsg_records_total", nil)
	t.Logf("under the flood: %v success, %v kmsg_missing, %v records read, %v lost, %v spoofed, %v reopens",
		probes(m, "success"), missing, records, lost, m.Value("syscheck_kmsg_spoofed_total", nil), m.Value("syscheck_kmsg_reopens_total", nil))
}

// kmsgfloodBinary builds the guests' kmsgflood (./kmsgflood) on first use.
func kmsgfloodBinary(t *testing.T) string {
	path := syscheckdDir + "/kmsgflood"
	if _, err := os.Stat(path); err != nil {
		build := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", path, "./kmsgflood")
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("go build ./kmsgflood: %v\n%s", err, out)
		}
	}
	return path
}

// burstScript runs kmsgflood against the guest's daemon: rounds of a
// burst that overruns the daemon's reader, then a probe. The schedule only
// probes at start: a scheduled probe caught by a burst would lose its
// record for good. The daemon's log goes to a file, so that the console
// holds kmsgflood's report line whole; the daemon then keeps serving.
const burstScript = `#!/bin/sh
/bin/syscheckd --web.listen-address=:10335 --probe.interval=1h --probe.timeout=5s --log.level=info 2>/tmp/syscheckd.log &
echo "E2E-DAEMON: start"
/bin/kmsgflood -rounds=@ROUNDS@
echo "E2E-FLOOD: end rc=$?"
grep -v 'level=INFO' /tmp/syscheckd.log
wait
`

// floodReport is kmsgflood's report; see deploy/kernel/kmsgflood.
type floodReport struct {
	Held     int    `json:"held"`
	StartSeq uint64 `json:"start_seq"`
	Rounds   []struct {
		User, Kernel        int
		Result              string
		Lost, Reopens, Read float64
		EndSeq              uint64 `json:"end_seq"`
		Exact               bool
		ExactAfter          string `json:"exact_after"`
		Span, Counted       uint64
		Stray               bool
	} `json:"rounds"`
	Records, Lost, Reopens, Spoofed float64
	KernelHeld                      int `json:"kernel_held"`
	Error                           string
}

var floodReportLine = regexp.MustCompile(`(?m)^KMSGFLOOD-REPORT: (\{.*\})$`)

// TestPatched61ProbesSucceedThroughKernelLogFloods floods the patched
// guest's kernel log from userspace (records written to /dev/kmsg, forged
// copies of the probe's line among them) and from the kernel (drop_caches
// printk's), in bursts that overrun syscheckd's reader, and probes the real
// getProcessInfo right after each burst, while the reader is recovering.
// The reader resumes at the oldest record the kernel holds, so every probe
// finds its record (success, not kmsg_missing), and, with nothing written
// after the probe, records read plus records counted lost reach the newest
// sequence number exactly.
func TestPatched61ProbesSucceedThroughKernelLogFloods(t *testing.T) {
	const rounds = 5
	g := guest{testbed.Boot(t, patched(t, "6.1"), testbed.Options{
		Run:   strings.ReplaceAll(burstScript, "@ROUNDS@", fmt.Sprint(rounds)),
		Files: []string{syscheckdBinary(t), kmsgfloodBinary(t)},
	})}
	line := g.WaitConsole(t, floodReportLine, 5*time.Minute)[1]
	var rep floodReport
	if err := json.Unmarshal([]byte(line), &rep); err != nil {
		t.Fatalf("kmsgflood report %q: %v", line, err)
	}
	if rep.Error != "" {
		t.Fatalf("kmsgflood: %s", rep.Error)
	}
	if len(rep.Rounds) != rounds {
		t.Fatalf("%d rounds reported, want %d", len(rep.Rounds), rounds)
	}
	for i, r := range rep.Rounds {
		t.Logf("round %d: %d records from userspace and %d from the kernel; %v read, %v lost, %v reopens; probe %s; %d of %d sequence numbers counted %s after it",
			i+1, r.User, r.Kernel, r.Read, r.Lost, r.Reopens, r.Result, r.Counted, r.Span, r.ExactAfter)
		if r.Result != "success" {
			t.Errorf("round %d: the probe after the burst ended in %s, want success", i+1, r.Result)
		}
		if r.Reopens < 1 || r.Lost <= 0 {
			t.Errorf("round %d: %v reopens and %v records counted lost: the burst overruns the reader, and its loss must be counted", i+1, r.Reopens, r.Lost)
		}
		if r.Stray {
			t.Logf("round %d: a record nobody wrote on purpose arrived after the probe's", i+1)
		}
		if !r.Exact {
			t.Errorf("round %d: %s after the probe, with no record written since, %d records read or counted lost, want %d (sequence %d..%d)",
				i+1, r.ExactAfter, r.Counted, r.Span, rep.StartSeq, r.EndSeq)
		}
	}
	t.Logf("in all: ring of %d records; %v read, %v lost, %v reopens, %v forgeries seen; %d drop_caches records held at the end",
		rep.Held, rep.Records, rep.Lost, rep.Reopens, rep.Spoofed, rep.KernelHeld)
	if rep.KernelHeld == 0 {
		t.Error("no drop_caches record with facility 0 in the log: the kernel-side flood did not reach it")
	}
	if rep.Spoofed <= 0 {
		t.Error("syscheck_kmsg_spoofed_total did not rise: the forged lines were not seen")
	}

	// The schedule's own probe, at start, is the only one it counts.
	m := g.waitForProbes(t, "success", 1)
	onlyResult(t, m, "success")
}
