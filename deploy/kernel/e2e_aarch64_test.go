//go:build e2e

package kernel

// The arm64 part of the matrix: the same guests under qemu-system-aarch64
// (machine virt, TCG), with kernels cross-built by build-kernel.sh --arch
// arm64, Debian's arm64 stock kernels and the syscheckd that the arm64 .deb
// from deploy/packaging/build.sh ships. getProcessInfo is 335 on arm64 in
// both series (the generic table's 295-402 gap, which upstream never
// assigns), the default number, so the patched guests run syscheckd
// without --probe.syscall.

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/syscheckd/syscheckd/deploy/testbed"
)

// arm64Syscheckd returns, on first use, the syscheckd that the arm64 .deb
// ships: deploy/packaging/build.sh (SYSCHECKD_ARCH=arm64) makes the
// packages and `dpkg-deb -x` unpacks the .deb, so that the binary proven on
// the arm64 kernels is the packaged one, not a build of its own. It must be
// an aarch64 ELF.
func arm64Syscheckd(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(syscheckdDir, "arm64")
	path := filepath.Join(dir, "root", "usr", "bin", "syscheckd")
	if _, err := os.Stat(path); err != nil {
		testbed.RequireTool(t, "dpkg-deb", "apt-get install dpkg")
		dist := filepath.Join(dir, "dist")
		build := exec.Command("../packaging/build.sh", dist)
		build.Env = append(os.Environ(), "SYSCHECKD_ARCH=arm64")
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("SYSCHECKD_ARCH=arm64 build.sh %s: %v\n%s", dist, err, out)
		}
		debs, err := filepath.Glob(filepath.Join(dist, "syscheckd_*_arm64.deb"))
		if err != nil || len(debs) != 1 {
			t.Fatalf("build.sh made %v in %s, want one syscheckd_*_arm64.deb", debs, dist)
		}
		if out, err := exec.Command("dpkg-deb", "-x", debs[0], filepath.Join(dir, "root")).CombinedOutput(); err != nil {
			t.Fatalf("dpkg-deb -x %s: %v\n%s", debs[0], err, out)
		}
		t.Logf("arm64 guests run /usr/bin/syscheckd from %s", filepath.Base(debs[0]))
	}
	// Checked on every use: a failed check fails each arm64 test, not only
	// the first.
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Class != elf.ELFCLASS64 || f.Machine != elf.EM_AARCH64 {
		t.Fatalf("%s from the arm64 .deb is %v %v, want ELFCLASS64 EM_AARCH64", path, f.Class, f.Machine)
	}
	return path
}

// arm64BuildName is the arm64 manifest's name for the patched arm64 6.12
// build, set with the manifest by arm64Manifest.
var arm64BuildName string

// arm64Manifest makes, on first use, the manifest kernel CI would ship for
// the patched arm64 6.12 build: syscheckd --kernel.print-entry on its
// vmlinux, run on the (x86_64) build host, as for the x86_64 matrix.
func arm64Manifest(t *testing.T) (path, name string) {
	t.Helper()
	path = filepath.Join(syscheckdDir, "kernels-arm64.yml")
	if _, err := os.Stat(path); err == nil {
		return path, arm64BuildName
	}
	k := testbed.PatchedArch(t, "6.12", testbed.Arm64)
	name = "syscheckd-" + filepath.Base(filepath.Dir(k.Image))
	entry := testbed.ManifestEntry(t, syscheckdBinary(t), name, k)
	text := testbed.WriteManifest(t, path, entry)
	arm64BuildName = name
	t.Logf("arm64 manifest, from syscheckd --kernel.print-entry --kernel.vmlinux=%s:\n%s", k.Vmlinux, text)
	if id := testbed.ELFBuildID(t, k.Vmlinux); !strings.Contains(entry, "build_id: "+id+"\n") {
		t.Errorf("--kernel.print-entry printed\n%swant build_id: %s (readelf -n %s)", entry, id, k.Vmlinux)
	}
	return path, name
}

// bootArm64 is boot for an arm64 kernel: guestScript with the arm64
// syscheckd, k's kselftest and the arm64 manifest.
func bootArm64(t *testing.T, k testbed.Kernel, flags string) guest {
	t.Helper()
	if k.Arch != testbed.Arm64 {
		t.Fatalf("kernel %s is not an arm64 kernel", k.Image)
	}
	manifest, _ := arm64Manifest(t)
	return guest{testbed.Boot(t, k, testbed.Options{
		Run:   strings.ReplaceAll(guestScript, "@FLAGS@", "--kernel.manifest="+guestManifest+" "+flags),
		Files: []string{arm64Syscheckd(t), k.Kselftest, manifest + ":" + guestManifest},
	})}
}

// arm64PatchedSucceeds: the patched arm64 kernel of series runs the
// kselftest and succeeds at 335 with syscheckd's defaults.
func arm64PatchedSucceeds(t *testing.T, series string, wantName string) {
	k := testbed.PatchedArch(t, series, testbed.Arm64)
	if k.Syscall != 335 {
		t.Fatalf("patched arm64 %s wires getProcessInfo up as %d, want 335", series, k.Syscall)
	}
	g := bootArm64(t, k, "")
	tap, rc := g.kselftest(t)
	if rc != "0" || !strings.Contains(tap, "\nok 1 ") {
		t.Errorf("kselftest: rc %s, want ok 1:\n%s", rc, tap)
	}
	t.Logf("kselftest in the arm64 %s guest (rc %s):\n%s", series, rc, tap)
	rep, rc := g.once(t)
	if rc != "0" || rep.Result != "success" || rep.Syscall != 335 || rep.Return == nil || *rep.Return != 0 || rep.Line != "getProcessInfo - hey there" {
		t.Errorf("--probe.once: exit %s, report %+v; want success at 335 with the record", rc, rep)
	}
	m := g.waitForProbes(t, "success", 3)
	onlyResult(t, m, "success")
	if v := m.Value("syscheck_syscall_available", probeLabel); v != 1 {
		t.Errorf("syscheck_syscall_available = %v, want 1", v)
	}
	if v := m.Value("syscheck_build_info", map[string]string{"goarch": "arm64"}); v != 1 {
		t.Errorf("syscheck_build_info{goarch=\"arm64\"} = %v, want 1", v)
	}
	if v := m.Value("syscheck_kernel_info", map[string]string{"machine": "aarch64"}); v != 1 {
		t.Errorf("syscheck_kernel_info{machine=\"aarch64\"} = %v, want 1", v)
	}
	g.identity(t, k, rep, m, wantName)
}

// TestArm64Patched612Succeeds: the patched arm64 6.12 build, the one in the
// arm64 manifest.
func TestArm64Patched612Succeeds(t *testing.T) {
	_, name := arm64Manifest(t)
	arm64PatchedSucceeds(t, "6.12", name)
}

// TestArm64Patched61Succeeds: the patched arm64 6.1 build (not in the
// manifest).
func TestArm64Patched61Succeeds(t *testing.T) {
	arm64PatchedSucceeds(t, "6.1", "")
}

// arm64StockIsAbsent: Debian's arm64 kernel of series has nothing at 335:
// the kselftest skips on ENOSYS and syscheckd finds the call absent
// without calling it.
func arm64StockIsAbsent(t *testing.T, series string) {
	k := testbed.StockArch(t, series, testbed.Arm64)
	g := bootArm64(t, k, "")
	// 4 is KSFT_SKIP, the exit status of a kselftest that skipped.
	tap, rc := g.kselftest(t)
	if rc != "4" || !strings.Contains(tap, "1..0 # SKIP") {
		t.Errorf("kselftest: rc %s, want 4 and a skip:\n%s", rc, tap)
	}
	t.Logf("kselftest in the stock arm64 %s guest (rc %s):\n%s", series, rc, tap)
	rep, rc := g.once(t)
	if rc != "1" || rep.Result != "absent" || rep.Called || rep.Syscall != 335 {
		t.Errorf("--probe.once: exit %s, report %+v; want absent at 335, not called", rc, rep)
	}
	m := g.waitForProbes(t, "absent", 3)
	onlyResult(t, m, "absent")
	if v := m.Value("syscheck_syscall_available", probeLabel); v != 0 {
		t.Errorf("syscheck_syscall_available = %v, want 0", v)
	}
	g.identity(t, k, rep, m, "")
}

func TestArm64Stock61IsAbsent(t *testing.T)  { arm64StockIsAbsent(t, "6.1") }
func TestArm64Stock612IsAbsent(t *testing.T) { arm64StockIsAbsent(t, "6.12") }

// TestArm64Stock612ConflictAtAnUpstreamNumber: a probe configured at 293,
// which is rseq on arm64 (334 on x86_64), with the symbol check on: the
// kernel has __arm64_sys_rseq, so syscheckd reports conflict and never
// calls the number; no worker is ever started.
func TestArm64Stock612ConflictAtAnUpstreamNumber(t *testing.T) {
	g := bootArm64(t, testbed.StockArch(t, "6.12", testbed.Arm64), "--probe.syscall=293")
	rep, rc := g.once(t)
	if rc != "1" || rep.Result != "conflict" || rep.Called || rep.Syscall != 293 || !strings.Contains(rep.Reason, "rseq") {
		t.Errorf("--probe.once --probe.syscall=293: exit %s, report %+v; want conflict with rseq, not called", rc, rep)
	}
	m := g.waitForProbes(t, "conflict", 3)
	onlyResult(t, m, "conflict")
	if v := m.Value("syscheck_worker_starts_total", probeLabel); v != 0 {
		t.Errorf("syscheck_worker_starts_total = %v, want 0: the number must never be called", v)
	}
	if v := m.Value("syscheck_syscall_available", probeLabel); v != 0 {
		t.Errorf("syscheck_syscall_available = %v, want 0", v)
	}
	text, rc := g.onceText(t)
	t.Logf("$ syscheckd --probe.once --probe.syscall=293 (exit status %s)\n%s", rc, text)
}
