package kmsg

import (
	"context"
	"errors"
	"regexp"
	"sync"
	"sync/atomic"
)

// ErrBusy is returned by Expect while an earlier expectation is still open.
var ErrBusy = errors.New("an expectation is already open")

// Watcher matches kernel records against one probe's pattern. It is a Sink;
// several Watchers can share one Reader through a Fanout.
//
// A record matches an expectation only if it comes from the kernel, its text
// matches the pattern and its sequence number is newer than the last record
// seen when the expectation was opened.
type Watcher struct {
	pattern *regexp.Regexp
	metrics *Metrics

	mu      sync.Mutex
	lastSeq uint64
	seen    bool
	open    *Expectation
}

// NewWatcher returns a Watcher for records whose text matches pattern.
func NewWatcher(pattern *regexp.Regexp, m *Metrics) *Watcher {
	return &Watcher{pattern: pattern, metrics: m}
}

// Expectation waits for one matching record.
type Expectation struct {
	w     *Watcher
	after uint64
	any   bool // no record had been seen yet: any sequence number is newer
	found chan Record
	lost  uint64 // guarded by w.mu

	// A traced expectation keeps the records it considered, for a person
	// asking why a probe did or did not match; guarded by w.mu. Scheduled
	// probes do not trace, so Observe pays one nil check for it.
	traced   bool
	limit    int
	trace    []Considered
	untraced int
}

// Verdict says why a record did or did not meet an expectation.
type Verdict string

// The verdicts, in the order Observe decides them.
const (
	// PatternMismatch: the record's text does not match the pattern.
	PatternMismatch Verdict = "pattern mismatch"
	// Spoofed: the text matches but the record was written from
	// userspace, so it proves nothing about the kernel.
	Spoofed Verdict = "spoofed: the text matches but the record was written from userspace, not by the kernel"
	// Older: the text matches but the record is not newer than the last
	// one read before the expectation opened.
	Older Verdict = "older: the text matches but the record is not newer than the last one read before the call"
	// Matched: the record meets the expectation.
	Matched Verdict = "matched"
	// Extra: the text matches but the expectation was already met.
	Extra Verdict = "extra: the text matches but an earlier record already met the expectation"
)

// Considered is one record a traced expectation saw, and its verdict.
type Considered struct {
	Record  Record
	Verdict Verdict
}

// Expect opens an expectation for a record that the caller is about to make
// the kernel write. Call it before the system call, so that a record read
// before the call returns is not missed, and Close it when done.
func (w *Watcher) Expect() (*Expectation, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.open != nil {
		return nil, ErrBusy
	}
	e := &Expectation{w: w, after: w.lastSeq, any: !w.seen, found: make(chan Record, 1)}
	w.open = e
	return e, nil
}

// ExpectTraced is Expect for an expectation that also keeps the first
// limit records it considers, with their verdicts (see Considered).
func (w *Watcher) ExpectTraced(limit int) (*Expectation, error) {
	e, err := w.Expect()
	if err != nil {
		return nil, err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	e.traced, e.limit = true, limit
	return e, nil
}

// consider records r's verdict on a traced expectation; w.mu is held.
func (e *Expectation) consider(r Record, v Verdict) {
	if !e.traced {
		return
	}
	if len(e.trace) >= e.limit {
		e.untraced++
		return
	}
	e.trace = append(e.trace, Considered{Record: r, Verdict: v})
}

// Observe implements Sink.
func (w *Watcher) Observe(r Record) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.seen || r.Seq > w.lastSeq {
		w.lastSeq, w.seen = r.Seq, true
	}
	e := w.open
	if !w.pattern.MatchString(r.Text) {
		if e != nil {
			e.consider(r, PatternMismatch)
		}
		return
	}
	if !r.FromKernel() {
		w.metrics.Spoofed.Inc()
		if e != nil {
			e.consider(r, Spoofed)
		}
		return
	}
	if e == nil {
		w.metrics.Unsolicited.Inc()
		return
	}
	if !e.any && r.Seq <= e.after {
		w.metrics.Unsolicited.Inc()
		e.consider(r, Older)
		return
	}
	select {
	case e.found <- r:
		e.consider(r, Matched)
	default:
		// The expectation was already met: this is a second call's record.
		w.metrics.Unsolicited.Inc()
		e.consider(r, Extra)
	}
}

// Lost implements Sink.
func (w *Watcher) Lost(n uint64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.open != nil {
		w.open.lost += n
	}
}

// Wait returns the matching record, or ctx's error once it is done.
func (e *Expectation) Wait(ctx context.Context) (Record, error) {
	select {
	case r := <-e.found:
		return r, nil
	case <-ctx.Done():
		return Record{}, ctx.Err()
	}
}

// Lost returns how many records the reader lost while the expectation was
// open: a missing record may be among them.
func (e *Expectation) Lost() uint64 {
	e.w.mu.Lock()
	defer e.w.mu.Unlock()
	return e.lost
}

// After returns the sequence number of the last record read before the
// expectation opened; ok is false when no record had been read yet, and
// then any record is newer.
func (e *Expectation) After() (seq uint64, ok bool) { return e.after, !e.any }

// Considered returns the records a traced expectation considered so far, in
// the order read, and how many more it saw beyond its limit.
func (e *Expectation) Considered() (records []Considered, untraced int) {
	e.w.mu.Lock()
	defer e.w.mu.Unlock()
	return append([]Considered(nil), e.trace...), e.untraced
}

// Close ends the expectation; later matching records count as unsolicited.
func (e *Expectation) Close() {
	e.w.mu.Lock()
	defer e.w.mu.Unlock()
	if e.w.open == e {
		e.w.open = nil
	}
}

// Fanout passes every record and loss to each of its Sinks in turn.
type Fanout []Sink

// Observe implements Sink.
func (f Fanout) Observe(r Record) {
	for _, s := range f {
		s.Observe(r)
	}
}

// Lost implements Sink.
func (f Fanout) Lost(n uint64) {
	for _, s := range f {
		s.Lost(n)
	}
}

// Hub passes every record and loss to a set of Sinks that can change while
// a Reader runs: probes come and go on a configuration reload, and the
// kernel log stays open meanwhile. Its zero value has no Sinks.
type Hub struct {
	sinks atomic.Pointer[Fanout]
}

// Set replaces the Sinks. Records read after Set returns reach the new set.
func (h *Hub) Set(f Fanout) {
	f = append(Fanout(nil), f...)
	h.sinks.Store(&f)
}

// Observe implements Sink.
func (h *Hub) Observe(r Record) {
	if f := h.sinks.Load(); f != nil {
		f.Observe(r)
	}
}

// Lost implements Sink.
func (h *Hub) Lost(n uint64) {
	if f := h.sinks.Load(); f != nil {
		f.Lost(n)
	}
}
