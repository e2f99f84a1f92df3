//go:build linux

// Package kmsgtest holds what the tests that use this machine's real
// /dev/kmsg share: they run as root, write to the log, and must not overrun
// each other's readers.
package kmsgtest

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// lockPath is the file whose flock keeps floods and readers apart, across
// the test binaries of several packages.
var lockPath = filepath.Join(os.TempDir(), "syscheckd-devkmsg-test.lock")

// Flood takes the kernel log for a test that overruns every reader of it,
// until the test ends.
func Flood(t testing.TB) { lock(t, unix.LOCK_EX) }

// Read keeps floods away from a test that needs its own records read,
// until the test ends; such tests may run together.
func Read(t testing.TB) { lock(t, unix.LOCK_SH) }

func lock(t testing.TB, how int) {
	t.Helper()
	f, err := os.OpenFile(lockPath, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Flock(int(f.Fd()), how); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() }) //nolint:errcheck // closing releases the lock
}

// Unlimited lifts the rate limit on writes to /dev/kmsg until the test
// ends, then restores the setting.
func Unlimited(t testing.TB) {
	t.Helper()
	const path = "/proc/sys/kernel/printk_devkmsg"
	old, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("on\n"), 0); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := os.WriteFile(path, old, 0); err != nil {
			t.Errorf("restore %s: %v", path, err)
		}
	})
}

// RingSpan returns the sequence numbers of the oldest and the newest record
// in the kernel log, read without writing one.
func RingSpan(t testing.TB) (oldest, newest uint64) {
	t.Helper()
	fd, err := unix.Open("/dev/kmsg", unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd) //nolint:errcheck // read-only
	buf := make([]byte, 8192)
	for first := true; ; {
		n, err := unix.Read(fd, buf)
		switch {
		case errors.Is(err, unix.EAGAIN):
			return oldest, newest
		case errors.Is(err, unix.EPIPE):
			first = true // overwritten while read: the kernel moved on to the oldest
			continue
		case err != nil:
			t.Fatalf("read /dev/kmsg: %v", err)
		}
		head, _, _ := strings.Cut(string(buf[:n]), ";")
		fields := strings.Split(head, ",")
		if len(fields) < 3 {
			t.Fatalf("malformed record %q", buf[:n])
		}
		if newest, err = strconv.ParseUint(fields[1], 10, 64); err != nil {
			t.Fatalf("record %q: %v", buf[:n], err)
		}
		if first {
			oldest, first = newest, false
		}
	}
}
