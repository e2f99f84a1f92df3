package kmsg

import (
	"bytes"
	"context"
	"io/fs"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/euank/go-kmsg-parser/v2/kmsgparser"
	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// readerUnderTest runs a Reader over the parsers (or errors) that open
// returns, inside a synctest bubble, with time.Now as its clock.
type readerUnderTest struct {
	reader *Reader
	reg    *prometheus.Registry
	sink   *recordingSink
	logs   *syncBuffer
	cancel context.CancelFunc
	done   chan struct{}
}

func startReader(t *testing.T, open Opener) *readerUnderTest {
	t.Helper()
	u := &readerUnderTest{reg: prometheus.NewRegistry(), sink: &recordingSink{}, logs: &syncBuffer{}, done: make(chan struct{})}
	logger := slog.New(slog.NewTextHandler(u.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	u.reader = NewReader(open, NewMetrics(u.reg), logger, DefaultBackoff)
	u.reader.clock = func() int64 { return time.Now().UnixNano() }
	ctx, cancel := context.WithCancel(t.Context())
	u.cancel = cancel
	go func() {
		u.reader.Run(ctx, u.sink)
		close(u.done)
	}()
	return u
}

func (u *readerUnderTest) stop() {
	u.cancel()
	<-u.done
}

func (u *readerUnderTest) assertMetrics(t *testing.T, want string) {
	t.Helper()
	if err := testutil.GatherAndCompare(u.reg, strings.NewReader(want),
		"syscheck_kmsg_up", "syscheck_kmsg_records_total", "syscheck_kmsg_lost_records_total", "syscheck_kmsg_reopens_total"); err != nil {
		t.Error(err)
	}
}

func (u *readerUnderTest) assertEvents(t *testing.T, want []string) {
	t.Helper()
	if diff := cmp.Diff(want, u.sink.got()); diff != "" {
		t.Errorf("sink events (-want +got):\n%s", diff)
	}
}

// parsers returns an Opener that hands out ps in order.
func parsers(ps ...*fakeParser) Opener {
	var mu sync.Mutex
	return func() (kmsgparser.Parser, error) {
		mu.Lock()
		defer mu.Unlock()
		p := ps[0]
		ps = ps[1:]
		return p, nil
	}
}

func metricsText(up, records, lost, reopens string) string {
	return `
# HELP syscheck_kmsg_lost_records_total Kernel log records never read, counted from gaps in sequence numbers (ring buffer overruns).
# TYPE syscheck_kmsg_lost_records_total counter
syscheck_kmsg_lost_records_total ` + lost + `
# HELP syscheck_kmsg_records_total Kernel log records read from /dev/kmsg.
# TYPE syscheck_kmsg_records_total counter
syscheck_kmsg_records_total ` + records + `
# HELP syscheck_kmsg_reopens_total Times /dev/kmsg was reopened after the reader stopped (for example on a ring buffer overrun).
# TYPE syscheck_kmsg_reopens_total counter
syscheck_kmsg_reopens_total ` + reopens + `
# HELP syscheck_kmsg_up 1 while /dev/kmsg is open and being read, 0 otherwise.
# TYPE syscheck_kmsg_up gauge
syscheck_kmsg_up ` + up + `
`
}

func TestReaderCountsRecordsAndGaps(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newFakeParser()
		u := startReader(t, parsers(p))
		p.send(10, 6, "a")
		p.send(11, 6, "b")
		p.send(14, 6, "c")
		synctest.Wait()

		u.assertEvents(t, []string{"record 10", "record 11", "lost 2", "record 14"})
		u.assertMetrics(t, metricsText("1", "3", "2", "0"))
		if p.seekEnds != 1 {
			t.Errorf("SeekEnd called %d times, want 1: old records must not be read", p.seekEnds)
		}
		u.stop()
		select {
		case <-p.closed:
		default:
			t.Error("parser not closed after the reader stopped")
		}
		u.assertMetrics(t, metricsText("0", "3", "2", "0"))
	})
}

func TestReaderReopensAfterOverrunAndCountsWhatItMissed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		first, second := newFakeParser(), newFakeParser()
		u := startReader(t, parsers(first, second))
		first.send(10, 6, "a")
		first.send(11, 6, "b")
		start := time.Now()
		first.stop() // what go-kmsg-parser v2.1.0 does on EPIPE
		second.send(20, 6, "c")
		reopenedAfter := time.Since(start)
		synctest.Wait()

		u.assertEvents(t, []string{"record 10", "record 11", "lost 8", "record 20"})
		u.assertMetrics(t, metricsText("1", "3", "8", "1"))
		if second.seekEnds != 1 {
			t.Errorf("reopened parser: SeekEnd called %d times, want 1", second.seekEnds)
		}
		if reopenedAfter != DefaultBackoff.Min {
			t.Errorf("reopened after %s, want the minimum backoff %s", reopenedAfter, DefaultBackoff.Min)
		}
		if !strings.Contains(u.logs.String(), "reopening") {
			t.Errorf("no log line about reopening; logs:\n%s", u.logs)
		}
		u.stop()
	})
}

func TestReaderRetriesWithCappedBackoffAndLogsTheCapabilityOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const failures = 12
		var (
			mu    sync.Mutex
			calls []time.Time
		)
		p := newFakeParser()
		u := startReader(t, func() (kmsgparser.Parser, error) {
			mu.Lock()
			defer mu.Unlock()
			calls = append(calls, time.Now())
			if len(calls) <= failures {
				return nil, &fs.PathError{Op: "open", Path: "/dev/kmsg", Err: syscall.EPERM}
			}
			return p, nil
		})
		synctest.Wait()
		u.assertMetrics(t, metricsText("0", "0", "0", "0"))
		p.send(1, 6, "a")
		synctest.Wait()
		u.assertMetrics(t, metricsText("1", "1", "0", "0"))
		u.stop()

		var waits []time.Duration
		for i := 1; i < len(calls); i++ {
			waits = append(waits, calls[i].Sub(calls[i-1]))
		}
		want := []time.Duration{
			100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond,
			1600 * time.Millisecond, 3200 * time.Millisecond, 6400 * time.Millisecond, 12800 * time.Millisecond,
			25600 * time.Millisecond, 30 * time.Second, 30 * time.Second, 30 * time.Second,
		}
		if diff := cmp.Diff(want, waits); diff != "" {
			t.Errorf("waits between opens (-want +got):\n%s", diff)
		}

		logs := u.logs.String()
		if n := strings.Count(logs, "level=ERROR"); n != 1 {
			t.Errorf("%d error lines, want exactly 1; logs:\n%s", n, logs)
		}
		if !strings.Contains(logs, "CAP_SYSLOG") {
			t.Errorf("the error does not name CAP_SYSLOG; logs:\n%s", logs)
		}
		if !strings.Contains(logs, "kernel log readable again") {
			t.Errorf("recovery not logged; logs:\n%s", logs)
		}
	})
}

// blockingSink never returns from Observe until released.
type blockingSink struct{ release chan struct{} }

func (s blockingSink) Observe(Record) { <-s.release }
func (s blockingSink) Lost(uint64)    {}

func TestReaderReportsAStuckSink(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newFakeParser()
		reader := NewReader(parsers(p), NewMetrics(prometheus.NewRegistry()), slog.New(slog.DiscardHandler), DefaultBackoff)
		reader.clock = func() int64 { return time.Now().UnixNano() }
		ctx, cancel := context.WithCancel(t.Context())
		sink := blockingSink{release: make(chan struct{})}
		done := make(chan struct{})
		go func() {
			reader.Run(ctx, sink)
			close(done)
		}()
		p.send(1, 6, "a")
		time.Sleep(5 * time.Second)
		if reader.Stalled(10 * time.Second) {
			t.Error("stalled after 5s in the sink, limit 10s")
		}
		time.Sleep(6 * time.Second)
		if !reader.Stalled(10 * time.Second) {
			t.Error("not stalled after 11s in the sink, limit 10s")
		}
		close(sink.release)
		synctest.Wait()
		if reader.Stalled(10 * time.Second) {
			t.Error("still stalled after the sink returned")
		}
		cancel()
		<-done
	})
}

// syncBuffer is a bytes.Buffer safe for a logger and a test to share.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// timedParsers hands out ps in order and records when each was opened.
func timedParsers(ps ...*fakeParser) (Opener, func() []time.Duration) {
	var (
		mu    sync.Mutex
		opens []time.Time
	)
	open := parsers(ps...)
	return func() (kmsgparser.Parser, error) {
			mu.Lock()
			opens = append(opens, time.Now())
			mu.Unlock()
			return open()
		}, func() []time.Duration {
			mu.Lock()
			defer mu.Unlock()
			var waits []time.Duration
			for i := 1; i < len(opens); i++ {
				waits = append(waits, opens[i].Sub(opens[i-1]))
			}
			return waits
		}
}

// TestReaderReopensAtOnceAfterEveryOverrun plays a burst of kernel messages
// that overruns the reader again and again: each parser delivered records
// before it died, so each reopen waits the minimum, never a growing
// backoff that would leave the log unread for up to half a minute.
func TestReaderReopensAtOnceAfterEveryOverrun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const overruns = 8
		ps := make([]*fakeParser, overruns+1)
		for i := range ps {
			ps[i] = newFakeParser()
		}
		open, waits := timedParsers(ps...)
		u := startReader(t, open)
		seq := 1
		for _, p := range ps[:overruns] {
			p.send(seq, 6, "noise")
			seq += 100 // the ring buffer moved on meanwhile
			p.stop()
		}
		ps[overruns].send(seq, 6, "last")
		synctest.Wait()
		want := slices.Repeat([]time.Duration{DefaultBackoff.Min}, overruns)
		if diff := cmp.Diff(want, waits()); diff != "" {
			t.Errorf("waits between opens (-want +got):\n%s", diff)
		}
		u.assertMetrics(t, metricsText("1", "9", "792", "8"))
		u.stop()
	})
}

// TestReaderBacksOffFromAParserThatDiesEmpty keeps the backoff for a
// parser that fails before delivering anything, such as a read error on
// every open.
func TestReaderBacksOffFromAParserThatDiesEmpty(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ps := []*fakeParser{newFakeParser(), newFakeParser(), newFakeParser(), newFakeParser()}
		open, waits := timedParsers(ps...)
		u := startReader(t, open)
		for _, p := range ps[:3] {
			p.stop()
		}
		ps[3].send(1, 6, "a")
		synctest.Wait()
		want := []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond}
		if diff := cmp.Diff(want, waits()); diff != "" {
			t.Errorf("waits between opens (-want +got):\n%s", diff)
		}
		u.stop()
	})
}
