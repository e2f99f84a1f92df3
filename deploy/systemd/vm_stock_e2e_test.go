//go:build e2e

package systemd

import (
	"errors"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/syscheckd/syscheckd/deploy/testbed"
)

// errNoKernel is returned when the stock image lacks /boot/vmlinuz-*.
var errNoKernel = errors.New("no kernel in /boot")

// stockBoot returns the stock rootfs's own kernel and initramfs.
func stockBoot(rootfs string) (kernel, initrd string, err error) {
	k, _ := filepath.Glob(filepath.Join(rootfs, "boot", "vmlinuz-*"))
	i, _ := filepath.Glob(filepath.Join(rootfs, "boot", "initrd.img-*"))
	if len(k) != 1 || len(i) != 1 {
		return "", "", errNoKernel
	}
	return k[0], i[0], nil
}

// TestVMStockKernel: the same system on Debian's own 6.1 kernel, with its
// initramfs and modules. There is no getProcessInfo: the service stays up
// and says so, and nothing restarts.
func TestVMStockKernel(t *testing.T) {
	img := image(t, "stock")
	rootfs := run(t, nil, "vm/mkrootfs.sh", "stock")
	kernel, initrd, err := stockBoot(rootfs)
	if err != nil {
		t.Fatalf("%s: %v", rootfs, err)
	}
	g := bootVM(t, kernel, initrd, img, "syscheckd.vmtest=stock")

	status := checkStatus(t, g, `^getProcessInfo: absent`)
	m := g.scrapeUntil(t, "an absent probe", time.Minute, func(m testbed.Metrics) bool { return probes(m, "absent") >= 1 })
	if v := probeSuccess(m); v != 0 {
		t.Errorf("syscheck_probe_success = %v on a stock kernel, want 0", v)
	}
	g.next(t)

	kv := g.step(t, "steady", 4*time.Minute)
	want(t, "steady", kv, "ActiveState", "active")
	want(t, "steady", kv, "NRestarts", "0")
	want(t, "steady", kv, "failed", "")
	m = g.scrapeUntil(t, "several absent probes", time.Minute, func(m testbed.Metrics) bool { return probes(m, "absent") >= 3 })
	for _, r := range []string{"success", "conflict", "crashed"} {
		if n := probes(m, r); n > 0 {
			t.Errorf("syscheck_probes_total{result=%q} = %v on a stock kernel, want 0", r, n)
		}
	}
	// Debian's notes hold Xen notes beside the build-id: the hardened
	// unit still reads the right one.
	checkKernelIdentity(t, g, m, status, testbed.ImageBuildID(t, kernel))
	g.next(t)
	g.WaitConsole(t, regexp.MustCompile(`(?m)^VM-STEP: done$`), time.Minute)
}
