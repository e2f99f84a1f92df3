package kmsg

import (
	"bytes"
	"context"
	"io/fs"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
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
	// hub passes records on to whatever else a test sets, such as a Watcher.
	hub    Hub
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
		u.reader.Run(ctx, Fanout{u.sink, &u.hub})
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
		if second.seekEnds != 0 {
			t.Errorf("reopened parser: SeekEnd called %d times, want 0: it resumes at the oldest record held", second.seekEnds)
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

// After an overrun the reader resumes at the oldest record the kernel
// still holds. It counts what the ring dropped as soon as it has reopened,
// not when the kernel next writes: a flood that stops leaves nothing
// uncounted.
func TestReaderCountsAnOverrunsLossWhenItReopens(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		k := newFakeKernel(8)
		k.noise(3) // from before the daemon started: not ours
		u := startReader(t, k.open)
		synctest.Wait()
		k.noise(2) // 4, 5
		synctest.Wait()
		k.noise(20) // 6..25 at once: the ring keeps 18..25, the reader's position 6 is gone
		time.Sleep(time.Second)
		synctest.Wait()

		want := []string{"record 4", "record 5", "lost 12"}
		for seq := 18; seq <= 25; seq++ {
			want = append(want, "record "+strconv.Itoa(seq))
		}
		u.assertEvents(t, want)
		u.assertMetrics(t, metricsText("1", "10", "12", "1"))
		ps := k.opened()
		if len(ps) != 2 {
			t.Fatalf("opened /dev/kmsg %d times, want 2", len(ps))
		}
		if n := ps[0].sawSeekEnd(); n != 1 {
			t.Errorf("first open: SeekEnd called %d times, want 1: records from before the start are not ours", n)
		}
		if n := ps[1].sawSeekEnd(); n != 0 {
			t.Errorf("reopen after the overrun: SeekEnd called %d times, want 0: it must resume at the oldest record held", n)
		}
		u.stop()
	})
}

// A reopened parser reads from the oldest record held, which may be one
// the reader has already passed on (here the parser died of a read error
// while the ring kept everything): those are skipped by sequence number,
// neither passed on twice nor counted, and the records written while the
// reader was closed are passed on.
func TestReaderSkipsRecordsItAlreadyReadWhenItResumes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		k := newFakeKernel(100)
		k.noise(3)
		u := startReader(t, k.open)
		synctest.Wait()
		k.noise(3) // 4..6
		synctest.Wait()
		k.failReaders()
		k.noise(2) // 7, 8, while the reader is closed
		time.Sleep(time.Second)
		synctest.Wait()

		u.assertEvents(t, []string{"record 4", "record 5", "record 6", "record 7", "record 8"})
		u.assertMetrics(t, metricsText("1", "5", "0", "1"))
		u.stop()
	})
}

// A probe's record written after the reader was overrun and before it
// reopened, and still held by the kernel, meets the probe's expectation.
func TestReaderFindsAProbesRecordWrittenDuringAnOverrun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		k := newFakeKernel(8)
		k.noise(3)
		var probed atomic.Uint64
		k.onOverrun = func() {
			if probed.Load() == 0 {
				_, seq := k.write(6, seedLine)
				probed.Store(seq)
			}
		}
		u := startReader(t, k.open)
		w := NewWatcher(seedPattern, u.reader.metrics)
		u.hub.Set(Fanout{w})
		synctest.Wait()
		k.noise(2) // 4, 5
		synctest.Wait()

		e, err := w.Expect()
		if err != nil {
			t.Fatal(err)
		}
		defer e.Close()
		k.noise(20) // 6..25: the reader is overrun, and the probe's record is 26
		ctx, cancel := context.WithTimeout(t.Context(), 900*time.Millisecond)
		defer cancel()
		rec, err := e.Wait(ctx)
		seq := probed.Load()
		if err != nil {
			t.Fatalf("the probe's record %d, written during the overrun and still held, was not matched: %v", seq, err)
		}
		if rec.Seq != seq || seq != 26 {
			t.Errorf("matched record %d, want the probe's, %d (26)", rec.Seq, seq)
		}
		synctest.Wait()
		if lost := e.Lost(); lost != 13 {
			t.Errorf("the expectation saw %d records lost, want 13 (6..18)", lost)
		}
		u.stop()
	})
}

// A flood can overrun a reader again before it reads anything: the record
// at its position is overwritten between the open and the first read. Such
// a parser died of an overrun, not of a broken log, so the reader reopens
// at once each time rather than backing off, and counts every loss.
func TestReaderResumesAtOnceAfterOverrunsThatLeaveNothingToRead(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const floods = 5
		k := newFakeKernel(8)
		var (
			mu    sync.Mutex
			opens []time.Time
		)
		k.onOpen = func() {
			mu.Lock()
			defer mu.Unlock()
			opens = append(opens, time.Now())
			if n := len(opens); n > 1 && n <= floods {
				k.noise(20) // before the new parser's first read
			}
		}
		u := startReader(t, k.open)
		synctest.Wait()
		k.noise(1) // 1
		synctest.Wait()
		start := time.Now()
		k.noise(20) // 2..21: overrun; each reopen but the last is overrun before it reads
		synctest.Wait()

		mu.Lock()
		defer mu.Unlock()
		if len(opens) != floods+1 {
			t.Fatalf("opened /dev/kmsg %d times, want %d", len(opens), floods+1)
		}
		for i, at := range opens[1:] {
			if d := at.Sub(start); d != 0 {
				t.Errorf("reopen %d came %s after the first overrun, want at once", i+1, d)
			}
		}
		// 1 + 20*floods records written; the ring keeps the last 8.
		u.assertMetrics(t, metricsText("1", "9", strconv.Itoa(20*floods-8), strconv.Itoa(floods)))
		if n := strings.Count(u.logs.String(), "ring buffer overrun"); n != 1 {
			t.Errorf("%d warnings about overruns, want 1 for the burst; logs:\n%s", n, u.logs)
		}
		if strings.Contains(u.logs.String(), "broken pipe") {
			t.Errorf("the parser's EPIPE was logged as an error; logs:\n%s", u.logs)
		}
		u.stop()
	})
}
