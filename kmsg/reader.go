package kmsg

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/euank/go-kmsg-parser/v2/kmsgparser"

	"github.com/syscheckd/syscheckd/probe/monotonic"
)

// Opener opens the kernel log. kmsgparser.NewParser opens /dev/kmsg; tests
// pass fakes of the Parser interface, since the library offers no other way
// to feed it input.
type Opener func() (kmsgparser.Parser, error)

// Sink receives what a Reader reads, one call at a time from the Reader's
// goroutine. It must not block: the kernel keeps writing while it waits.
type Sink interface {
	// Observe is called once for every record read.
	Observe(Record)
	// Lost is called with the number of records skipped before the next
	// record read.
	Lost(n uint64)
}

// Backoff bounds the wait before reopening the kernel log.
type Backoff struct {
	Min, Max time.Duration
}

// DefaultBackoff reopens quickly after an overrun and retries a missing
// capability every half minute at most, so the log is not flooded.
var DefaultBackoff = Backoff{Min: 100 * time.Millisecond, Max: 30 * time.Second}

// Reader keeps /dev/kmsg open and read, counts records and losses, and
// survives the parser stopping. Its zero value is not usable; use NewReader.
type Reader struct {
	open    Opener
	metrics *Metrics
	log     *slog.Logger
	backoff Backoff
	clock   func() int64

	up atomic.Bool
	// closing is set while the Reader closes a parser itself, so that the
	// parser's complaint about its file being closed is not logged.
	closing atomic.Bool
	// observing is the monotonic.Now() time at which the current Sink call
	// started, or 0 outside one: a Sink that never returns stalls the reader.
	observing atomic.Int64
	// overrun is set when the current parser's read failed with EPIPE:
	// the kernel overwrote records before the reader read them.
	overrun atomic.Bool

	// Owned by the Run goroutine.
	lastSeq uint64
	seen    bool
	// overruns counts the overruns since the last one logged, warned when.
	overruns int
	warned   time.Time
}

// NewReader returns a Reader that opens the kernel log with open.
func NewReader(open Opener, m *Metrics, log *slog.Logger, backoff Backoff) *Reader {
	return &Reader{open: open, metrics: m, log: log, backoff: backoff, clock: monotonic.Now}
}

// Up reports whether the kernel log is open and being read.
func (r *Reader) Up() bool { return r.up.Load() }

// Stalled reports whether the reader has been stuck in its Sink for longer
// than limit: the only way it can stop making progress without the Run
// goroutine returning.
func (r *Reader) Stalled(limit time.Duration) bool {
	start := r.observing.Load()
	return start != 0 && time.Duration(r.clock()-start) > limit
}

// Run reads the kernel log into sink until ctx is done. It opens the log at
// its end. After a ring buffer overrun it reopens at once and resumes at
// the oldest record the kernel still holds; whenever else the log cannot be
// opened or the parser stops, it reopens with capped exponential backoff.
// It returns only when ctx is done, after the parser's goroutine has exited.
func (r *Reader) Run(ctx context.Context, sink Sink) {
	wait := r.backoff.Min
	failing := false
	for {
		parser, err := r.openLog()
		if err != nil {
			r.setUp(false)
			if !failing {
				r.log.Error("cannot read the kernel log; retrying", "err", err)
				failing = true
			} else {
				r.log.Debug("kernel log still unreadable", "err", err, "retry_in", wait)
			}
		} else {
			if failing {
				r.log.Info("kernel log readable again")
				failing = false
			}
			r.setUp(true)
			healthy := r.consume(ctx, parser, sink)
			r.setUp(false)
			if ctx.Err() != nil {
				return
			}
			r.metrics.Reopens.Inc()
			if r.overrun.Load() {
				// The records after the overwritten ones are still held,
				// a probe's among them: waiting would let the kernel
				// overwrite those too.
				r.logOverrun()
				wait = r.backoff.Min
				continue
			}
			r.log.Warn("kernel log reader stopped (read error); reopening", "last_seq", r.lastSeq)
			if healthy {
				wait = r.backoff.Min
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, r.backoff.Max)
	}
}

func (r *Reader) setUp(up bool) {
	r.up.Store(up)
	if up {
		r.metrics.Up.Set(1)
	} else {
		r.metrics.Up.Set(0)
	}
}

// openLog opens the log. Until a record has been read it seeks to the end,
// so that records from before the daemon started are neither matched nor
// counted. After that it leaves the parser where a fresh open of /dev/kmsg
// starts, at the oldest record the kernel holds: forward skips the records
// already read and counts the gap before the first new one as lost, at
// once rather than when the kernel next writes.
func (r *Reader) openLog() (kmsgparser.Parser, error) {
	p, err := r.open()
	if err != nil {
		if errors.Is(err, fs.ErrPermission) {
			return nil, fmt.Errorf("%w: reading /dev/kmsg needs CAP_SYSLOG while kernel.dmesg_restrict=1", err)
		}
		return nil, err
	}
	if !r.seen {
		if err := p.SeekEnd(); err != nil {
			_ = p.Close() // the seek error is the one worth reporting
			return nil, fmt.Errorf("seek to end of kernel log: %w", err)
		}
	}
	r.overrun.Store(false)
	p.SetLogger(parserLogger{log: r.log, quiet: &r.closing, overrun: &r.overrun})
	return p, nil
}

// logOverrun warns of an overrun, at most once per healthyFor: a flood
// overruns the reader again and again, and the metrics count every one.
func (r *Reader) logOverrun() {
	r.overruns++
	now := time.Now()
	if !r.warned.IsZero() && now.Sub(r.warned) < healthyFor {
		return
	}
	r.log.Warn("kernel log ring buffer overrun: records were lost; resuming at the oldest record held",
		"last_seq", r.lastSeq, "overruns", r.overruns)
	r.overruns, r.warned = 0, now
}

// healthyFor is how long a parser must have been read before its end is
// treated as a fresh failure rather than part of a failure streak.
const healthyFor = 10 * time.Second

// consume forwards records until the parser's channel closes or ctx is
// done. It reports whether the parser counts as healthy: it ran long
// enough, or it passed records on. Backing off after each parser that
// worked would leave the reader closed for up to Backoff.Max, and every
// probe meanwhile would miss its record.
func (r *Reader) consume(ctx context.Context, p kmsgparser.Parser, sink Sink) bool {
	started := time.Now()
	delivered := false
	msgs := p.Parse()
	defer func() {
		// Closing the file ends the parser's blocked read; draining lets a
		// send already in progress finish, so its goroutine always exits.
		r.closing.Store(true)
		defer r.closing.Store(false)
		_ = p.Close() // read-only: nothing is lost if closing fails
		for range msgs {
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return true
		case m, ok := <-msgs:
			if !ok {
				return delivered || time.Since(started) > healthyFor
			}
			if r.forward(FromMessage(m, r.clock()), sink) {
				delivered = true
			}
		}
	}
}

// forward passes rec on and reports true, or reports false for a record
// already passed on, which a reopened parser reads again. Sequence numbers
// passed on therefore rise, and records plus lost records span them exactly.
func (r *Reader) forward(rec Record, sink Sink) bool {
	if r.seen && rec.Seq <= r.lastSeq {
		return false
	}
	r.observing.Store(r.clock())
	defer r.observing.Store(0)
	if r.seen && rec.Seq > r.lastSeq+1 {
		gap := rec.Seq - r.lastSeq - 1
		r.metrics.Lost.Add(float64(gap))
		sink.Lost(gap)
	}
	r.lastSeq, r.seen = rec.Seq, true
	r.metrics.Records.Inc()
	sink.Observe(rec)
	return true
}

// parserLogger routes go-kmsg-parser's messages into slog. Its errors are
// what precedes the channel closing, so they are kept at warning level,
// except the overrun, which it records in overrun for the Reader to report.
type parserLogger struct {
	log     *slog.Logger
	quiet   *atomic.Bool
	overrun *atomic.Bool
}

func (l parserLogger) Warningf(format string, args ...any) {
	l.log.Warn("kmsg parser: " + fmt.Sprintf(format, args...))
}

func (l parserLogger) Infof(format string, args ...any) {
	l.log.Debug("kmsg parser: " + fmt.Sprintf(format, args...))
}

func (l parserLogger) Errorf(format string, args ...any) {
	if l.overrun != nil && isOverrun(args) {
		l.overrun.Store(true)
		return
	}
	if l.quiet.Load() {
		return
	}
	l.log.Warn("kmsg parser: " + fmt.Sprintf(format, args...))
}

// isOverrun reports whether args hold the EPIPE of a read of /dev/kmsg
// whose position the kernel overwrote. go-kmsg-parser v2.1.0 compares its
// read error with syscall.EPIPE, misses it wrapped in *fs.PathError, and
// logs it here before closing its channel.
func isOverrun(args []any) bool {
	for _, a := range args {
		if err, ok := a.(error); ok && errors.Is(err, syscall.EPIPE) {
			return true
		}
	}
	return false
}
