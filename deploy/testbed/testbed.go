// Package testbed boots kernels under QEMU for syscheckd's end-to-end tests:
// patched kernels from deploy/kernel/build-kernel.sh, Debian's stock kernels
// from fetch-stock-kernel.sh, a busybox initramfs with what the test adds, and
// one guest port forwarded to 127.0.0.1. Only tests use it.
//
// Kernels are x86_64 unless made with PatchedArch or StockArch for arm64:
// those boot under qemu-system-aarch64 (machine virt, TCG) with an arm64
// busybox, and want an arm64 syscheckd (BuildSyscheckdArch, or the one of
// the arm64 .deb).
package testbed

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// kernelDir is deploy/kernel, where the scripts are.
func kernelDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(filepath.Dir(file)), "kernel")
}

// Script runs one of deploy/kernel's scripts; it returns the path printed last.
func Script(t testing.TB, name string, args ...string) string {
	t.Helper()
	return LastLine(t, exec.Command(filepath.Join(kernelDir(), name), args...))
}

// LastLine runs cmd and returns the last line of its stdout, where the
// scripts print what they built; a failure shows their stderr.
func LastLine(t testing.TB, cmd *exec.Cmd) string {
	t.Helper()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return lines[len(lines)-1]
}

// Kernel is a kernel to boot, with what its initramfs needs.
type Kernel struct {
	Image string // bzImage, an arm64 Image, or vmlinuz
	// Vmlinux is the ELF file the patched Image was made from, with the GNU
	// build-id note that kernel CI makes the manifest entry from; "" for a
	// stock kernel (BuildID reads the note from its Image).
	Vmlinux   string
	Release   string   // its uname -r
	Modules   []string // to insmod at boot: stock kernels build e1000 as a module
	Kselftest string   // the static getprocessinfo kselftest for this kernel's number
	Syscall   int      // the number getProcessInfo has on the patched kernel of the series
	// Arch is the kernel's architecture: "" or "x86_64" (the default), or
	// "arm64". Boot picks the QEMU and the busybox for it.
	Arch string
}

// Architectures Boot can run, as build-kernel.sh --arch names them.
const (
	X86_64 = "x86_64"
	Arm64  = "arm64"
)

// isArm64 tells whether k boots under qemu-system-aarch64.
func (k Kernel) isArm64() bool { return k.Arch == Arm64 }

// archArgs is the --arch option of the scripts for arch ("" for x86_64,
// so that the x86_64 command lines stay as they were).
func archArgs(arch string) []string {
	if arch == "" || arch == X86_64 {
		return nil
	}
	return []string{"--arch", arch}
}

// Patched builds (or takes from the cache) the patched kernel of series.
func Patched(t testing.TB, series string) Kernel {
	t.Helper()
	return patchedKernel(t, Script(t, "build-kernel.sh", series))
}

// PatchedArch is Patched for arch (X86_64 or Arm64): build-kernel.sh
// --arch ARCH SERIES.
func PatchedArch(t testing.TB, series, arch string) Kernel {
	t.Helper()
	k := patchedKernel(t, Script(t, "build-kernel.sh", append(archArgs(arch), series)...))
	if arch != X86_64 {
		k.Arch = arch
	}
	return k
}

// PatchedPrevious is the previous build of Patched's kernel: the same
// sources, configuration and release, relinked with another uname -v, so
// its build-id differs. build-kernel.sh makes both at once.
func PatchedPrevious(t testing.TB, series string) Kernel {
	t.Helper()
	return patchedKernel(t, Script(t, "build-kernel.sh", "--previous", series))
}

// patchedKernel describes the build-kernel.sh result whose bzImage is image.
func patchedKernel(t testing.TB, image string) Kernel {
	t.Helper()
	dir := filepath.Dir(image)
	k := Kernel{
		Image:     image,
		Vmlinux:   filepath.Join(dir, "vmlinux"),
		Release:   readLine(t, filepath.Join(dir, "release")),
		Kselftest: filepath.Join(dir, "getprocessinfo_test"),
	}
	if _, err := fmt.Sscan(readLine(t, filepath.Join(dir, "syscall-nr")), &k.Syscall); err != nil {
		t.Fatalf("syscall-nr: %v", err)
	}
	return k
}

// readLine returns the contents of a one-line file without its newline.
func readLine(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// Stock fetches Debian's kernel of series. Its kselftest is the patched
// series' own, so that it calls the same number.
func Stock(t testing.TB, series string) Kernel {
	t.Helper()
	return StockArch(t, series, X86_64)
}

// StockArch is Stock for arch (X86_64 or Arm64): Debian's
// linux-image-*-amd64 or linux-image-*-arm64, with the kselftest of the
// patched kernel of the same series and architecture.
func StockArch(t testing.TB, series, arch string) Kernel {
	t.Helper()
	image := Script(t, "fetch-stock-kernel.sh", append(archArgs(arch), series)...)
	order, err := os.ReadFile(filepath.Join(filepath.Dir(image), "modules.order"))
	if err != nil {
		t.Fatal(err)
	}
	p := PatchedArch(t, series, arch)
	return Kernel{
		Image:     image,
		Release:   readLine(t, filepath.Join(filepath.Dir(image), "release")),
		Modules:   strings.Fields(string(order)),
		Kselftest: p.Kselftest,
		Syscall:   p.Syscall,
		Arch:      p.Arch,
	}
}

// BuildSyscheckd builds a static, stripped syscheckd into dir; it returns the path.
func BuildSyscheckd(t testing.TB, dir string) string {
	t.Helper()
	return BuildSyscheckdArch(t, dir, "")
}

// BuildSyscheckdArch builds a static, stripped syscheckd for goarch (as
// GOARCH names it: "amd64", "arm64"; "" for the machine's own) into dir;
// it returns the path.
func BuildSyscheckdArch(t testing.TB, dir, goarch string) string {
	t.Helper()
	out := filepath.Join(dir, "syscheckd")
	build := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", out, "./cmd/syscheckd")
	build.Dir = filepath.Dir(filepath.Dir(kernelDir()))
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if goarch != "" {
		build.Env = append(build.Env, "GOOS=linux", "GOARCH="+goarch)
	}
	if msg, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build (GOARCH=%s): %v\n%s", goarch, err, msg)
	}
	return out
}

// SystemdHost builds (or takes from its own cache) the patched kernel of
// series with systemd-host.config, for Debian with systemd on a virtio disk.
func SystemdHost(t testing.TB, series string) string {
	t.Helper()
	return Script(t, filepath.Join("systemd-host", "build-kernel.sh"), series)
}

// RequireTool returns the path of command name, or fails the test with hint,
// how to install it: in CI a skipped check would read as a passed one.
func RequireTool(t testing.TB, name, hint string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s not found (%v): install it with %q", name, err, hint)
	}
	return path
}
