package kmsg

import (
	"context"
	"errors"
	"regexp"
	"sync"
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

// Observe implements Sink.
func (w *Watcher) Observe(r Record) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.seen || r.Seq > w.lastSeq {
		w.lastSeq, w.seen = r.Seq, true
	}
	if !w.pattern.MatchString(r.Text) {
		return
	}
	if !r.FromKernel() {
		w.metrics.Spoofed.Inc()
		return
	}
	e := w.open
	if e == nil || (!e.any && r.Seq <= e.after) {
		w.metrics.Unsolicited.Inc()
		return
	}
	select {
	case e.found <- r:
	default:
		// The expectation was already met: this is a second call's record.
		w.metrics.Unsolicited.Inc()
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
