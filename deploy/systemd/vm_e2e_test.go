//go:build e2e

package systemd

// The VM tests boot a minimal Debian bookworm (debootstrap, systemd as
// PID 1) from an ext4 disk image under QEMU, with syscheckd installed from
// its .deb by dpkg, and check the real unit with all its hardening through
// the forwarded metrics port and the guest's serial console. There is no
// ssh: vm/vm-scenario, started by vm/vm-scenario.service once syscheckd is
// up, performs the steps and prints markers (VM-STEP, VM-KV, VM-WAIT); at
// each VM-WAIT the test scrapes the port and answers on the guest's second
// serial port. Run them with `make e2e`; they need root (debootstrap,
// chroot) and build or take from $SYSCHECKD_CACHE a kernel and a root file
// system.

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/syscheckd/syscheckd/deploy/testbed"
	"github.com/syscheckd/syscheckd/probe"
)

const (
	oldVersion = "0.1.0"
	newVersion = "0.1.1"
	// The unit's WatchdogSec= and RestartSec=.
	watchdogTimeout = 30 * time.Second
	restartDelay    = 5 * time.Second
	// kernelCmdline keeps the serial console for the scenario's markers:
	// no kernel messages below warnings, no systemd status lines.
	kernelCmdline = "quiet systemd.show_status=false"
)

// run runs a script and returns the last line it printed on stdout, the
// path it made.
func run(t *testing.T, env []string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	return testbed.LastLine(t, cmd)
}

// buildPackages builds the .deb and the .rpm of version and returns their
// paths.
func buildPackages(t *testing.T, version string) (deb, rpm string) {
	t.Helper()
	testbed.RequireTool(t, "go", "install Go")
	dir := t.TempDir()
	run(t, []string{"SYSCHECKD_VERSION=" + version, "SYSCHECKD_ARCH=amd64"}, "../packaging/build.sh", dir)
	one := func(pattern string) string {
		found, err := filepath.Glob(filepath.Join(dir, pattern))
		if err != nil || len(found) != 1 {
			t.Fatalf("build.sh made %v in %s, want one %s", found, dir, pattern)
		}
		return found[0]
	}
	return one("syscheckd_" + version + "-*_amd64.deb"), one("syscheckd-" + version + "-*.x86_64.rpm")
}

// image makes a disk image from the root file system of flavour with
// syscheckd's old .deb installed, its new one in /root for the upgrade, and
// the scenario enabled.
func image(t *testing.T, flavour string) string {
	t.Helper()
	// The scripts install debootstrap, e2fsprogs and QEMU when missing, and
	// fail when they cannot.
	start := time.Now()
	rootfs := run(t, nil, "vm/mkrootfs.sh", flavour)
	t.Logf("root file system %s ready in %s", rootfs, time.Since(start).Round(time.Second))
	start = time.Now()
	oldDeb, oldRPM := buildPackages(t, oldVersion)
	newDeb, newRPM := buildPackages(t, newVersion)
	t.Logf("packages %s, %s, %s and %s built in %s", filepath.Base(oldDeb), filepath.Base(newDeb),
		filepath.Base(oldRPM), filepath.Base(newRPM), time.Since(start).Round(time.Second))
	start = time.Now()
	img := run(t, nil, "vm/mkimage.sh", "-r", rootfs, "-o", filepath.Join(t.TempDir(), "disk.img"),
		"-i", oldDeb,
		"-a", newDeb+":/root/syscheckd-upgrade.deb",
		"-a", oldRPM+":/root/syscheckd-old.rpm",
		"-a", newRPM+":/root/syscheckd-upgrade.rpm",
		"-a", "vm/vm-scenario:/usr/local/sbin/vm-scenario",
		"-a", "vm/vm-scenario.service:/etc/systemd/system/vm-scenario.service",
		"-e", "vm-scenario.service")
	t.Logf("disk image made in %s", time.Since(start).Round(time.Second))
	return img
}

// vm is a booted guest running vm-scenario.
type vm struct {
	*testbed.Guest
	booted time.Time
}

// step waits for the scenario's VM-WAIT: name and returns its VM-KV facts.
func (g vm) step(t *testing.T, name string, timeout time.Duration) map[string]string {
	t.Helper()
	g.WaitConsole(t, regexp.MustCompile(`(?m)^VM-(WAIT: `+name+`|FAIL: .*)$`), timeout)
	if m := regexp.MustCompile(`(?m)^VM-FAIL: .*$`).FindString(g.Console()); m != "" {
		t.Fatalf("the guest gave up: %s", m)
	}
	kv := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^VM-KV: `+name+` ([^=\n]+)=(.*)$`).FindAllStringSubmatch(g.Console(), -1) {
		kv[m[1]] = m[2]
	}
	for _, m := range regexp.MustCompile(`(?m)^VM-LOG: `+name+` (.*)$`).FindAllStringSubmatch(g.Console(), -1) {
		t.Logf("guest %s: %s", name, m[1])
	}
	return kv
}

// next lets the scenario go on past its VM-WAIT.
func (g vm) next(t *testing.T) {
	t.Helper()
	if err := g.Send("go"); err != nil {
		t.Fatalf("writing to the guest's ttyS1: %v", err)
	}
}

// want checks one fact of a step.
func want(t *testing.T, step string, kv map[string]string, key, value string) {
	t.Helper()
	if kv[key] != value {
		t.Errorf("%s: %s = %q, want %q", step, key, kv[key], value)
	}
}

// upgraded checks a step that upgraded the package over an edited
// /etc/default/syscheckd: the admin's ARGS survive and reach the new
// daemon, which runs with CAP_SYSLOG only and probes successfully. Then
// the scenario goes on.
func (g vm) upgraded(t *testing.T, step string, kv map[string]string) {
	t.Helper()
	want(t, step, kv, "args", `ARGS="--probe.interval=7s"`)
	want(t, step, kv, "ActiveState", "active")
	want(t, step, kv, "proc.CapEff", "0000000400000000")
	if !strings.Contains(kv["cmdline"], "--probe.interval=7s") {
		t.Errorf("%s: the upgraded daemon's command line %q lacks --probe.interval=7s", step, kv["cmdline"])
	}
	g.scrapeUntil(t, step+": the new version probing successfully", time.Minute, func(m testbed.Metrics) bool {
		return m.Value("syscheck_build_info", map[string]string{"version": newVersion}) == 1 && probeSuccess(m) == 1
	})
	g.next(t)
}

// removed checks a step that removed the package: the service stopped, the
// binary and the metrics port are gone. Then the scenario goes on.
func (g vm) removed(t *testing.T, step string, kv map[string]string) {
	t.Helper()
	want(t, step, kv, "active", "inactive")
	want(t, step, kv, "binary", "gone")
	if _, err := testbed.Scrape(g.Addr); err == nil {
		t.Errorf("%s: the metrics port still answers after removal", step)
	}
	g.next(t)
}

// scrapeUntil scrapes the guest until ok accepts the metrics.
func (g vm) scrapeUntil(t *testing.T, what string, timeout time.Duration, ok func(testbed.Metrics) bool) testbed.Metrics {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var lastErr error
	for time.Now().Before(deadline) {
		m, err := testbed.Scrape(g.Addr)
		if err == nil && ok(m) {
			return m
		}
		lastErr = err
		time.Sleep(time.Second)
	}
	t.Fatalf("%s: not seen on http://%s/metrics within %s (last error: %v)", what, g.Addr, timeout, lastErr)
	return nil
}

func probeSuccess(m testbed.Metrics) float64 {
	return m.Value("syscheck_probe_success", map[string]string{"probe": "getProcessInfo"})
}

func probes(m testbed.Metrics, result string) float64 {
	return m.Value("syscheck_probes_total", map[string]string{"probe": "getProcessInfo", "result": result})
}

func bootVM(t *testing.T, kernel, initrd, img, append string) vm {
	t.Helper()
	g := vm{testbed.BootDisk(t, kernel, testbed.DiskOptions{
		Image: img, Initrd: initrd, Append: kernelCmdline + " " + append,
	}), time.Now()}
	return g
}

// checkStatus is the first step on either kernel: the unit is up, READY=1
// was sent (Type=notify: active only after it), and the sandbox is the
// unit's.
func checkStatus(t *testing.T, g vm, wantStatus string) map[string]string {
	t.Helper()
	kv := g.step(t, "status", 5*time.Minute)
	t.Logf("syscheckd active %s after QEMU started (ActiveEnterTimestampMonotonic=%s us)",
		time.Since(g.booted).Round(time.Second), kv["ActiveEnterTimestampMonotonic"])
	want(t, "status", kv, "ActiveState", "active")
	want(t, "status", kv, "SubState", "running")
	want(t, "status", kv, "NRestarts", "0")
	want(t, "status", kv, "WatchdogUSec", "30s")
	if !regexp.MustCompile(wantStatus).MatchString(kv["StatusText"]) {
		t.Errorf("StatusText = %q, want a match for %s", kv["StatusText"], wantStatus)
	}
	t.Logf("StatusText=%s", kv["StatusText"])
	// DynamicUser=yes, CAP_SYSLOG (bit 34) only, seccomp filter mode.
	want(t, "status", kv, "proc.CapEff", "0000000400000000")
	want(t, "status", kv, "proc.CapBnd", "0000000400000000")
	want(t, "status", kv, "proc.CapAmb", "0000000400000000")
	want(t, "status", kv, "proc.NoNewPrivs", "1")
	want(t, "status", kv, "proc.Seccomp", "2")
	// systemd allocates dynamic users from 61184-65519.
	if uid, _ := strconv.Atoi(strings.Fields(kv["proc.Uid"] + " x")[0]); uid < 61184 || uid > 65519 {
		t.Errorf("syscheckd runs as uid %q, want a dynamic user (61184-65519)", kv["proc.Uid"])
	}
	// What the package installs besides the daemon, and its example
	// configuration, valid where it is installed.
	for _, f := range []string{"/etc/syscheckd/syscheckd.yml", "/usr/share/man/man1/syscheckd.1.gz",
		"/usr/share/bash-completion/completions/syscheckd", "/usr/share/zsh/vendor-completions/_syscheckd",
		"/usr/share/syscheckd/prometheus/syscheckd.rules.yml", "/usr/share/syscheckd/grafana/syscheckd.json",
		"/usr/share/syscheckd/mixin/mixin.libsonnet", "/usr/share/doc/syscheckd/copyright"} {
		want(t, "status", kv, "file."+f, "present")
	}
	want(t, "status", kv, "config.check", "0")
	t.Logf("in the guest, systemd-analyze security syscheckd: %s", kv["security"])
	t.Logf("failed units in the guest: %q", kv["failed"])
	if !strings.Contains(kv["security"], "Overall exposure level for syscheckd.service") {
		t.Errorf("systemd-analyze security in the guest: %q", kv["security"])
	}
	return kv
}

// checkKernelIdentity checks that the daemon, under the unit as shipped
// (DynamicUser, ProtectSystem=strict, ReadOnlyPaths=/proc/sys /sys,
// ProtectProc=invisible, the system call filter), reads the kernel's
// identity and health: syscheck_kernel_info with id, the build-id of the
// booted kernel as readelf -n shows it, read from /sys/kernel/notes, and
// the taint, oops and warning gauges, from /proc/sys/kernel/tainted and
// /sys/kernel/{oops,warn}_count, which root reads outside the sandbox
// (kv of the status step). No manifest is configured, so
// syscheck_kernel_expected must be absent.
func checkKernelIdentity(t *testing.T, g vm, m testbed.Metrics, kv map[string]string, id string) {
	t.Helper()
	if got, ok := m.BuildIDLabel(); !ok || got != id {
		t.Errorf("syscheck_kernel_info{build_id=%q} (one series: %v) under the hardened unit, want build_id %s (readelf -n)", got, ok, id)
	}
	for _, name := range []string{"syscheck_kernel_tainted", "syscheck_kernel_oops_count", "syscheck_kernel_warn_count"} {
		if v := m.Value(name, nil); v < 0 {
			t.Errorf("%s absent under the hardened unit", name)
		}
	}
	if v := m.Value("syscheck_kernel_oops_count", nil); v > 0 {
		t.Errorf("syscheck_kernel_oops_count = %v: the guest's kernel oopsed", v)
	}
	if n := len(m["syscheck_kernel_expected"].GetMetric()); n != 0 {
		t.Errorf("%d syscheck_kernel_expected series without a manifest, want none", n)
	}
	for _, f := range []string{"/sys/kernel/notes", "/proc/sys/kernel/tainted", "/sys/kernel/oops_count", "/sys/kernel/warn_count"} {
		want(t, "status", kv, "root."+f, "readable")
	}
	excerpt, err := testbed.Excerpt(g.Addr, "syscheck_kernel_info", "syscheck_kernel_tainted",
		"syscheck_kernel_oops_count", "syscheck_kernel_warn_count")
	if err != nil {
		t.Errorf("scrape for the log: %v", err)
	}
	t.Logf("under the hardened unit as shipped, kernel build-id %s (readelf -n):\n%sfor root outside the sandbox: /proc/config.gz %s, /sys/kernel/security/lockdown %s",
		id, excerpt, kv["root./proc/config.gz"], kv["root./sys/kernel/security/lockdown"])
}

// TestVMPatchedKernel: the patched 6.1 kernel with systemd's needs built in
// boots the image; the probe succeeds under the hardened unit, which reads
// the kernel's identity and health and then a kernel manifest; the watchdog
// restarts a stopped daemon; an upgrade keeps the admin's ARGS; removal
// stops the service; then the .rpm: its preset policy (a site's disable
// wins, the package's enable beats a distribution's default-disable), an
// upgrade that keeps ARGS and restarts, removal.
func TestVMPatchedKernel(t *testing.T) {
	// The image first: on a cold run debootstrap then overlaps with the
	// kernel builds of deploy/kernel's tests, which hold the build lock.
	img := image(t, "patched")
	start := time.Now()
	kernel := testbed.SystemdHost(t, "6.1")
	t.Logf("kernel %s ready in %s", kernel, time.Since(start).Round(time.Second))
	g := bootVM(t, kernel, "", img, "")

	kv := checkStatus(t, g, `^getProcessInfo: success`)
	m := g.scrapeUntil(t, "a successful probe", time.Minute, func(m testbed.Metrics) bool { return probeSuccess(m) == 1 })
	if n := probes(m, "success"); n < 1 {
		t.Errorf("syscheck_probes_total{result=\"success\"} = %v, want >= 1", n)
	}
	for _, r := range []string{"absent", "conflict", "errno", "unexpected_return", "kmsg_missing", "timeout", "crashed"} {
		if n := probes(m, r); n > 0 {
			t.Errorf("syscheck_probes_total{result=%q} = %v, want 0 under the hardened unit", r, n)
		}
	}
	if v := m.Value("syscheck_build_info", map[string]string{"version": oldVersion}); v != 1 {
		t.Errorf("syscheck_build_info{version=%q} = %v, want 1", oldVersion, v)
	}
	// One worker process, started by the daemon inside the unit's sandbox,
	// named as ps and systemd show it.
	if v := m.Value("syscheck_worker_starts_total", map[string]string{"probe": "getProcessInfo"}); v != 1 {
		t.Errorf("syscheck_worker_starts_total = %v, want 1", v)
	}
	want(t, "status", kv, "worker.comm", probe.WorkerComm)
	buildID := testbed.ELFBuildID(t, filepath.Join(filepath.Dir(kernel), "vmlinux"))
	checkKernelIdentity(t, g, m, kv, buildID)
	g.next(t)

	// A manifest with the running kernel's entry (printed in the guest by
	// syscheckd --kernel.print-entry), at /etc/syscheckd/kernels.yml (0644)
	// named by ARGS: the dynamic user reads it, and the build is expected.
	kv = g.step(t, "manifest", 2*time.Minute)
	want(t, "manifest", kv, "print-entry", "0")
	want(t, "manifest", kv, "ActiveState", "active")
	m = g.scrapeUntil(t, "the running build expected under the hardened unit", time.Minute, func(m testbed.Metrics) bool {
		return m.Value("syscheck_kernel_expected", map[string]string{"name": "vm-running-build"}) == 1
	})
	if got, _ := m.BuildIDLabel(); got != buildID {
		t.Errorf("after the restart: syscheck_kernel_info{build_id=%q}, want %s", got, buildID)
	}
	if entry := regexp.MustCompile(`(?m)^VM-LOG: manifest +build_id: (\S+)$`).FindStringSubmatch(g.Console()); entry == nil || entry[1] != buildID {
		t.Errorf("--kernel.print-entry in the guest printed build_id %v, want %s", entry, buildID)
	}
	if excerpt, err := testbed.Excerpt(g.Addr, "syscheck_kernel_expected", "syscheck_kernel_info"); err == nil {
		t.Logf("with the manifest, under the hardened unit:\n%s", excerpt)
	}
	firstPID := kv["MainPID"]
	g.next(t)

	// The scenario SIGSTOPs the main process: no more WATCHDOG=1. systemd
	// kills it (SIGABRT) at most WatchdogSec after the last ping, and starts
	// it again RestartSec later; READY=1 comes after the first probe.
	kv = g.step(t, "watchdog", 4*time.Minute)
	want(t, "watchdog", kv, "stopped", firstPID)
	want(t, "watchdog", kv, "ActiveState", "active")
	want(t, "watchdog", kv, "NRestarts", "1")
	if kv["MainPID"] == firstPID || kv["MainPID"] == "" {
		t.Errorf("MainPID after the watchdog = %q, want a new one (was %s)", kv["MainPID"], firstPID)
	}
	ms, err := strconv.Atoi(kv["restart_ms"])
	limit := watchdogTimeout + restartDelay + 20*time.Second // + a first probe under TCG
	if err != nil || time.Duration(ms)*time.Millisecond > limit {
		t.Errorf("restart after SIGSTOP took %q ms, want at most %s", kv["restart_ms"], limit)
	}
	t.Logf("SIGSTOP to a new READY process: %s ms", kv["restart_ms"])
	if !regexp.MustCompile(`(?m)^VM-LOG: watchdog .*Watchdog timeout`).MatchString(g.Console()) {
		t.Errorf("the guest's journal has no watchdog timeout for syscheckd")
	}
	g.scrapeUntil(t, "a successful probe after the restart", time.Minute, func(m testbed.Metrics) bool {
		return probeSuccess(m) == 1 && probes(m, "success") >= 1
	})
	g.next(t)

	// The admin's ARGS, set before the upgrade, survive it and reach the
	// new daemon.
	kv = g.step(t, "upgrade", 4*time.Minute)
	want(t, "upgrade", kv, "dpkg", "0")
	want(t, "upgrade", kv, "version", newVersion+"-1")
	g.upgraded(t, "upgrade", kv)

	kv = g.step(t, "remove", 3*time.Minute)
	want(t, "remove", kv, "dpkg", "0")
	g.removed(t, "remove", kv)

	// The .rpm's scripts on the same systemd, under Fedora's catch-all
	// 99-default-disable.preset. A site preset that sorts before the
	// package's 50-syscheckd.preset and says disable wins: installed
	// disabled and not started, and an upgrade keeps it so.
	kv = g.step(t, "rpm-disabled", 4*time.Minute)
	want(t, "rpm-disabled", kv, "install", "0")
	want(t, "rpm-disabled", kv, "enabled", "disabled")
	want(t, "rpm-disabled", kv, "active", "inactive")
	want(t, "rpm-disabled", kv, "sysconfig", "present")
	want(t, "rpm-disabled", kv, "default", "absent")
	want(t, "rpm-disabled", kv, "upgrade", "0")
	want(t, "rpm-disabled", kv, "upgraded", newVersion)
	want(t, "rpm-disabled", kv, "upgraded.enabled", "disabled")
	want(t, "rpm-disabled", kv, "upgraded.active", "inactive")
	want(t, "rpm-disabled", kv, "erase", "0")
	if _, err := testbed.Scrape(g.Addr); err == nil {
		t.Errorf("rpm-disabled: the metrics port answers, but a disabled service must not have started")
	}
	t.Logf("rpm install, upgrade and removal under a site preset that disables: %s ms in the guest; "+
		"installed: is-enabled %s, is-active %s; upgraded to %s: is-enabled %s, is-active %s",
		kv["ms"], kv["enabled"], kv["active"], kv["upgraded"], kv["upgraded.enabled"], kv["upgraded.active"])
	g.next(t)

	// Without the site preset the package's enables the service but, as
	// %systemd_post, does not start it; the admin does. An upgrade keeps
	// the admin's ARGS in /etc/sysconfig/syscheckd and restarts.
	kv = g.step(t, "rpm", 4*time.Minute)
	want(t, "rpm", kv, "install", "0")
	want(t, "rpm", kv, "version", oldVersion)
	want(t, "rpm", kv, "enabled", "enabled")
	want(t, "rpm", kv, "installed.active", "inactive")
	want(t, "rpm", kv, "upgrade", "0")
	want(t, "rpm", kv, "upgraded", newVersion)
	want(t, "rpm", kv, "upgraded.enabled", "enabled")
	t.Logf("rpm install, start, upgrade: %s ms in the guest; installed: is-enabled %s, is-active %s; "+
		"upgraded to %s: is-enabled %s, %s", kv["ms"], kv["enabled"], kv["installed.active"],
		kv["upgraded"], kv["upgraded.enabled"], kv["args"])
	g.upgraded(t, "rpm", kv)

	kv = g.step(t, "rpm-remove", 3*time.Minute)
	want(t, "rpm-remove", kv, "rpm", "0")
	g.removed(t, "rpm-remove", kv)
	g.WaitConsole(t, regexp.MustCompile(`(?m)^VM-STEP: done$`), time.Minute)
}
