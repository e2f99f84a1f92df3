// Package history keeps the recent results of each probe for the page a
// person reads at /: the last results in a ring, and the last failures kept
// apart, so that a failure an hour ago is still there after a hundred
// successes pushed it out of the ring.
package history

import (
	"sync"
	"time"

	"github.com/syscheckd/syscheckd/probe"
)

// Entry is one probe's result as the page shows it.
type Entry struct {
	Time   time.Time
	Class  probe.Class
	Reason string
	// Returned tells whether Latency (the call's) is known.
	Returned bool
	Latency  time.Duration
	// Line is the matching kernel record's text, if one was read.
	Line      string
	KmsgDelay time.Duration
	// OnDemand marks a probe run through GET /probe rather than the
	// schedule.
	OnDemand bool
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

// History holds one probe's recent entries. It is safe for concurrent use:
// the probe loop adds while HTTP handlers read.
type History struct {
	mu       sync.Mutex
	recent   ring
	failures ring
}

// New returns a History that keeps the last n entries and the last
// failures failures.
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

// Recent returns the kept entries, oldest first.
func (h *History) Recent() []Entry {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.recent.list()
}

// Failures returns the kept failures, oldest first, including those that
// have left Recent.
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
