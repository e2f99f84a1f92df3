//go:build integration && linux

package kmsg

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/euank/go-kmsg-parser/v2/kmsgparser"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/syscheckd/syscheckd/kmsg/kmsgtest"
	"github.com/syscheckd/syscheckd/probe/monotonic"
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
	kmsgtest.Read(t)
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

// gateSink counts what a Reader passes on and remembers the sequence number
// of each text. While the test holds hold, Observe blocks: the reader
// stalls as a starved process would, and the kernel overwrites its
// position.
type gateSink struct {
	hold sync.RWMutex

	mu            sync.Mutex
	records, lost uint64
	seqs          map[string]uint64
}

func (s *gateSink) Observe(r Record) {
	s.hold.RLock()
	defer s.hold.RUnlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.records++
	s.seqs[r.Text] = r.Seq
}

func (s *gateSink) Lost(n uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lost += n
}

// seen returns the sequence number of the record with text, and the
// records and losses counted so far.
func (s *gateSink) seen(text string) (seq uint64, ok bool, records, lost uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	seq, ok = s.seqs[text]
	return seq, ok, s.records, s.lost
}

// TestReaderResumesAfterAnOverrunOnTheRealKernelLog stalls a Reader of this
// machine's /dev/kmsg while twice the ring buffer's worth of records is
// written, then a record in the window before the reader reopens. Once let
// go, the reader resumes at the oldest record the kernel holds: it passes
// on the record written in the window, and, with nothing written since,
// the records it read plus those it counted lost span every sequence
// number exactly.
func TestReaderResumesAfterAnOverrunOnTheRealKernelLog(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("this test reads and writes /dev/kmsg: run it as root (CI does)")
	}
	kmsgtest.Flood(t)
	kmsgtest.Unlimited(t)
	m := NewMetrics(prometheus.NewRegistry())
	reader := NewReader(kmsgparser.NewParser, m, slog.New(slog.DiscardHandler), DefaultBackoff)
	ctx, cancel := context.WithCancel(t.Context())
	sink := &gateSink{seqs: map[string]uint64{}}
	done := make(chan struct{})
	go func() {
		reader.Run(ctx, sink)
		close(done)
	}()
	defer func() {
		cancel()
		<-done
	}()
	for deadline := time.Now().Add(5 * time.Second); !reader.Up(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("reader not up after 5s")
		}
	}

	id := time.Now().UnixNano()
	start, window := fmt.Sprintf("syscheckd resume test %d start", id), fmt.Sprintf("syscheckd resume test %d window", id)
	writeKmsg(t, start)
	var startSeq uint64
	waitUntil(t, 5*time.Second, "the start record read", func() bool {
		var ok bool
		startSeq, ok, _, _ = sink.seen(start)
		return ok
	})
	_, _, records0, lost0 := sink.seen(start)

	sink.hold.Lock()
	oldest, newest := kmsgtest.RingSpan(t)
	held := int(newest - oldest + 1)
	f, err := os.OpenFile("/dev/kmsg", os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	// Twice what the ring held, and past the reader's position for sure
	// (it may have read a few records ahead of the start record).
	flooded := 0
	for ; flooded < 2*held || oldest <= startSeq+16; flooded++ {
		if _, err := fmt.Fprintf(f, "<15>syscheckd resume test %d flood %d\n", id, flooded); err != nil {
			t.Fatal(err)
		}
		if flooded%1024 == 1023 {
			oldest, _ = kmsgtest.RingSpan(t)
		}
	}
	f.Close()
	writeKmsg(t, window)
	sink.hold.Unlock()

	_, end := kmsgtest.RingSpan(t)
	var (
		windowSeq, records, lost uint64
		found                    bool
	)
	started := time.Now()
	for time.Since(started) < 5*time.Second {
		windowSeq, found, records, lost = sink.seen(window)
		if found && records-records0+lost-lost0 == end-startSeq {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, now := kmsgtest.RingSpan(t); now != end {
		t.Fatalf("record %d arrived after the test's last, %d: this test needs a quiet kernel log", now, end)
	}
	read, counted := records-records0, lost-lost0
	t.Logf("ring of %d records, %d written while the reader stalled; sequence %d..%d: %d read, %d lost, %.0f reopens, after %s",
		held, flooded+1, startSeq, end, read, counted, testutil.ToFloat64(m.Reopens), time.Since(started).Round(time.Millisecond))
	if !found {
		t.Errorf("the record written before the reader reopened (%d), still held by the kernel, was not passed on", end)
	} else if windowSeq != end {
		t.Errorf("the window's record came with sequence number %d, want %d", windowSeq, end)
	}
	if read+counted != end-startSeq {
		t.Errorf("%s after the reader was let go, with nothing written since: %d read + %d lost = %d, want %d (sequence %d..%d)",
			time.Since(started).Round(time.Millisecond), read, counted, read+counted, end-startSeq, startSeq, end)
	}
	if counted == 0 || testutil.ToFloat64(m.Reopens) == 0 {
		t.Errorf("%d records counted lost and %v reopens, want both above 0: the reader was overrun", counted, testutil.ToFloat64(m.Reopens))
	}
}

func writeKmsg(t *testing.T, text string) {
	t.Helper()
	if err := os.WriteFile("/dev/kmsg", []byte("<15>"+text+"\n"), 0); err != nil {
		t.Fatalf("write /dev/kmsg: %v", err)
	}
}

func waitUntil(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(timeout); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no %s within %s", what, timeout)
		}
	}
}
