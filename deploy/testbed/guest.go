package testbed

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Options describe a guest.
type Options struct {
	// Run is the script /init runs once the network is up; then the guest powers off.
	Run       string
	Files     []string // copied into the initramfs as /bin/<name>, or SRC:DEST
	GuestPort int      // forwarded from a free port on 127.0.0.1; default 10335
	// HostPort is the port on 127.0.0.1 forwarded to GuestPort; default a
	// free one. Set it (from FreePort) to know the guest's address before
	// it boots, e.g. to have Prometheus scrape it from the start.
	HostPort int
	Append   string // added to the kernel command line
}

// Guest is a booted QEMU guest. QEMU is killed when the test ends.
type Guest struct {
	Addr    string // the host address forwarded to the guest's port
	console *consoleBuffer
	exited  chan struct{}
	control net.Conn // the second serial port, for BootDisk guests
}

// Boot starts k with opts.
func Boot(t testing.TB, k Kernel, opts Options) *Guest {
	t.Helper()
	dir := t.TempDir()
	run := filepath.Join(dir, "run")
	if err := os.WriteFile(run, []byte(opts.Run), 0o755); err != nil {
		t.Fatal(err)
	}
	initrd := filepath.Join(dir, "initrd.cpio.gz")
	args := append(archArgs(k.Arch), "-o", initrd, "-r", run)
	for _, f := range opts.Files {
		args = append(args, "-a", f)
	}
	for _, m := range k.Modules {
		args = append(args, "-m", m)
	}
	Script(t, "mkinitramfs.sh", args...)

	port := opts.HostPort
	if port == 0 {
		port = FreePort(t)
	}
	guestPort := opts.GuestPort
	if guestPort == 0 {
		guestPort = 10335
	}

	g := &Guest{console: &consoleBuffer{}, Addr: fmt.Sprintf("127.0.0.1:%d", port), exited: make(chan struct{})}
	// quiet: at loglevel 7 every printk would go to the emulated serial port
	// synchronously and dominate the latency.
	var boot []string
	if k.isArm64() {
		boot = []string{"-A", Arm64}
	}
	g.start(t, append(boot, "-k", k.Image, "-i", initrd,
		"-p", fmt.Sprint(port), "-g", fmt.Sprint(guestPort), "-t", "900", "-a", "quiet "+opts.Append)...)
	return g
}

// FreePort returns a TCP port on 127.0.0.1 that nothing listens on now.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close() // only its port number was wanted
	return port
}

// start runs boot.sh with args into g's console until the test ends.
func (g *Guest) start(t testing.TB, args ...string) {
	t.Helper()
	cmd := exec.Command(filepath.Join(kernelDir(), "boot.sh"), args...)
	cmd.Stdout, cmd.Stderr = g.console, g.console
	// Own process group, so that cleanup kills boot.sh, timeout(1) and QEMU.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		_ = cmd.Wait()
		close(g.exited)
	}()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-g.exited
		if g.control != nil {
			_ = g.control.Close()
		}
		if t.Failed() {
			t.Logf("guest console:\n%s", g.console)
		}
	})
}

// Console returns what the guest printed on its serial console so far.
func (g *Guest) Console() string { return g.console.String() }

// Exited is closed when QEMU has exited.
func (g *Guest) Exited() <-chan struct{} { return g.exited }

// WaitConsole waits for a console line matching re and returns its
// submatches. It fails the test if QEMU exits or timeout passes first.
func (g *Guest) WaitConsole(t testing.TB, re *regexp.Regexp, timeout time.Duration) []string {
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

// consoleBuffer collects the serial console without \r, so that (?m)$ matches.
type consoleBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *consoleBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Write(bytes.ReplaceAll(p, []byte("\r"), nil))
	// All of p, or the copy from QEMU would stop at the first \r.
	return len(p), nil
}

func (b *consoleBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
