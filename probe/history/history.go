// Package history keeps each probe's recent results for the page at /: the
// last results in a ring, and the last failures apart, so that a failure
// outlives the successes that push it out of the ring.
package history

import (
	"sync"
	"time"

	"github.com/syscheckd/syscheckd/probe"
)

// Entry is one probe's result as the page shows it.
type Entry struct {
	Time      time.Time
	Class     probe.Class
	Reason    string
	Returned  bool // whether Latency, the call's, is known
	Latency   time.Duration
	Line      string // the matching kernel record's text, if one was read
	KmsgDelay time.Duration
	OnDemand  bool // run through GET /probe, not the schedule
}

// Failed reports whether the entry is a failure.
func (e Entry) Failed() bool { return e.Class != probe.Success }

// EntryOf turns a probe result into an Entry.
func EntryOf(r probe.Result, onDemand bool) Entry {
	e := Entry{Time: r.Start, Class: r.Class, Reason: r.Reason, Returned: r.Returned, Latency: r.Duration, OnDemand: onDemand}
	if r.Record != nil {
		e.Line, e.KmsgDelay = r.Record.Text, r.KmsgDelay
	}
	return e
}

// History holds one probe's recent entries; it is safe for concurrent use.
type History struct {
	mu       sync.Mutex
	recent   ring
	failures ring
}

// New returns a History that keeps the last n entries and failures failures.
func New(n, failures int) *History {
	return &History{recent: newRing(n), failures: newRing(failures)}
}

// Add records e.
func (h *History) Add(e Entry) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.recent.add(e)
	if e.Failed() {
		h.failures.add(e)
	}
}

// Size is how many entries Recent keeps at most.
func (h *History) Size() int { return len(h.recent.buf) }

// Recent returns the kept entries, oldest first.
func (h *History) Recent() []Entry {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.recent.list()
}

// Failures returns the kept failures, oldest first, even those gone from Recent.
func (h *History) Failures() []Entry {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.failures.list()
}

// ring is a fixed-size buffer that overwrites its oldest entry.
type ring struct {
	buf  []Entry
	next int
	full bool
}

func newRing(n int) ring { return ring{buf: make([]Entry, max(n, 1))} }

func (r *ring) add(e Entry) {
	r.buf[r.next] = e
	r.next = (r.next + 1) % len(r.buf)
	if r.next == 0 {
		r.full = true
	}
}

func (r *ring) list() []Entry {
	if !r.full {
		return append([]Entry(nil), r.buf[:r.next]...)
	}
	return append(append([]Entry(nil), r.buf[r.next:]...), r.buf[:r.next]...)
}
