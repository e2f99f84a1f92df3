//go:build integration && linux

package kmsg

import (
	"github.com/syscheckd/syscheckd/probe/monotonic"

	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/euank/go-kmsg-parser/v2/kmsgparser"
	"github.com/prometheus/client_golang/prometheus"
)

// chanSink hands records to the test.
type chanSink chan Record

func (c chanSink) Observe(r Record) {
	select {
	case c <- r:
	default:
	}
}
func (chanSink) Lost(uint64) {}

// TestReaderOnTheRealKernelLog reads the machine's /dev/kmsg: a line written
// from userspace arrives with facility LOG_USER, and stopping the reader
// ends the parser's goroutine (goleak checks in TestMain).
func TestReaderOnTheRealKernelLog(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("this test reads and writes /dev/kmsg: run it as root (CI does)")
	}
	waitForNoFlood(t)
	reader := NewReader(kmsgparser.NewParser, NewMetrics(prometheus.NewRegistry()), slog.New(slog.DiscardHandler), DefaultBackoff)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	sink := make(chanSink, 1024)
	done := make(chan struct{})
	go func() {
		reader.Run(ctx, sink)
		close(done)
	}()
	for deadline := time.Now().Add(5 * time.Second); !reader.Up(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("reader not up after 5s")
		}
	}

	marker := fmt.Sprintf("syscheckd kmsg test %d", time.Now().UnixNano())
	// The newline matters: a record without one stays open for a
	// continuation, and readers only see it once the next record arrives.
	if err := os.WriteFile("/dev/kmsg", []byte(marker+"\n"), 0); err != nil {
		t.Fatalf("write /dev/kmsg: %v", err)
	}
	timeout := time.After(5 * time.Second)
	for {
		select {
		case r := <-sink:
			if r.Text != marker {
				continue
			}
			if r.Facility != 1 || r.FromKernel() {
				t.Errorf("record written from userspace has facility %d, want 1 (LOG_USER)", r.Facility)
			}
			if d := time.Duration(monotonic.Now() - r.Received); d < 0 || d > 5*time.Second {
				t.Errorf("Received is %s from now", d)
			}
			cancel()
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				t.Fatal("Run did not return after cancel: the parser's read was not interrupted")
			}
			return
		case <-timeout:
			t.Fatalf("record %q not read within 5s", marker)
		}
	}
}

// waitForNoFlood holds off while cmd/syscheckd's flood test, which takes
// this lock exclusively, overruns every reader of /dev/kmsg.
func waitForNoFlood(t *testing.T) {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(os.TempDir(), "syscheckd-devkmsg-test.lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
}
