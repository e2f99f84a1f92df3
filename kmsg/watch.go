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

// Watcher matches kernel records against one probe's pattern; it is a Sink.
// A record meets an expectation only if the kernel wrote it, its text matches
// and it is newer than the last record seen when the expectation opened.
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

	// Tracing, for a person asking why; guarded by w.mu.
	traced   bool
	limit    int
	trace    []Considered
	untraced int
}

// Verdict says why a record did or did not meet an expectation.
type Verdict string

// The verdicts, in the order Observe decides them.
const (
	PatternMismatch Verdict = "pattern mismatch"
	Spoofed         Verdict = "spoofed: the text matches but the record was written from userspace, not by the kernel"
	Older           Verdict = "older: the text matches but the record is not newer than the last one read before the call"
	Matched         Verdict = "matched"
	Extra           Verdict = "extra: the text matches but an earlier record already met the expectation"
)

// Considered is one record a traced expectation saw, and its verdict.
type Considered struct {
	Record  Record
	Verdict Verdict
}

// Expect opens an expectation for a record the caller is about to make the
// kernel write: before the call, lest an early record be missed. Close it.
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

// ExpectTraced is Expect, also keeping the first limit records considered.
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
// expectation opened; ok is false if there was none, and any record is newer.
func (e *Expectation) After() (seq uint64, ok bool) { return e.after, !e.any }

// Considered returns the records considered so far and how many beyond limit.
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

// Hub passes every record and loss to Sinks that a reload can change while
// the Reader keeps the log open. Its zero value has no Sinks.
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
