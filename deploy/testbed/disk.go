package testbed

import (
	"fmt"
	"net"
	"path/filepath"
	"testing"
	"time"
)

// DiskOptions describe a guest booting Debian with systemd from a disk image.
type DiskOptions struct {
	Image string // raw ext4, the guest's /dev/vda and root file system
	// Initrd has a stock kernel's disk and network drivers; empty if built in.
	Initrd    string
	GuestPort int           // forwarded from a free port on 127.0.0.1; default 10335
	Append    string        // added to the kernel command line, after root=/dev/vda
	Memory    int           // MB; default 512
	Timeout   time.Duration // after which QEMU is killed; default 15 minutes
}

// BootDisk boots kernel with opts.Image as root file system. The first serial
// port is the console, as with Boot; the second (ttyS1) is connected to Send.
func BootDisk(t testing.TB, kernel string, opts DiskOptions) *Guest {
	t.Helper()
	port := FreePort(t)
	guestPort := opts.GuestPort
	if guestPort == 0 {
		guestPort = 10335
	}
	mem := opts.Memory
	if mem == 0 {
		mem = 512
	}
	timeout := opts.Timeout
	if timeout == 0 {
		timeout = 15 * time.Minute
	}
	// A short path: Unix socket paths are limited to 108 bytes.
	control := filepath.Join(t.TempDir(), "ttyS1")
	g := &Guest{console: &consoleBuffer{}, Addr: fmt.Sprintf("127.0.0.1:%d", port), exited: make(chan struct{})}
	args := []string{"-k", kernel, "-d", opts.Image, "-c", control,
		"-p", fmt.Sprint(port), "-g", fmt.Sprint(guestPort), "-M", fmt.Sprint(mem),
		"-t", fmt.Sprint(int(timeout.Seconds())),
		"-a", "root=/dev/vda rw " + opts.Append}
	if opts.Initrd != "" {
		args = append(args, "-i", opts.Initrd)
	}
	g.start(t, args...)
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.Dial("unix", control)
		if err == nil {
			g.control = c
			return g
		}
		select {
		case <-g.exited:
			t.Fatalf("QEMU exited before opening %s:\n%s", control, g.console)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("QEMU did not open %s: %v", control, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Send writes line and a newline to the guest's second serial port, ttyS1.
func (g *Guest) Send(line string) error {
	if g.control == nil {
		return fmt.Errorf("guest has no control port: boot it with BootDisk")
	}
	_ = g.control.SetWriteDeadline(time.Now().Add(10 * time.Second))
	_, err := g.control.Write([]byte(line + "\n"))
	return err
}
