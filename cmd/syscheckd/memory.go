package main

import (
	"os"
	"runtime/debug"

	"github.com/syscheckd/syscheckd/probe/worker/exepages"
)

// settleMemory is called when start-up is over and the daemon is about to
// serve. It returns the start-up's garbage to the kernel now rather than
// over minutes (Go's background scavenger is slow, and the first
// collection comes only once the heap reaches 4 MiB), and unmaps the code
// only the start-up ran: package exepages. Calling it again later, once
// serving has settled too, drops more of the same.
//
// It sets no soft memory limit (GOMEMLIMIT still can): one that saved
// memory while idle, about 2 MiB above the settled footprint, was reached
// by every burst of scrapes, and the collector then ran without pause,
// cutting scrapes answered by 95% (docs/performance.md).
func settleMemory() {
	debug.FreeOSMemory()
	exepages.Drop()
}

// defaultGCPercent is the daemon's GOGC unless the environment sets one.
// Its live heap is under a megabyte between scrapes, so Go's default (100,
// and a heap of 4 MiB at least before the first collection) let its
// memory grow by 2.5 MiB within a minute of probing every 10 ms, to 6.7
// MiB of anonymous memory, mostly garbage and freed pages not yet
// returned. At 50 (a 2 MiB heap before collecting) it stayed at 4.7 MiB;
// collections cost little with so small a heap, but a flood of scrapes
// is served about a third slower (docs/performance.md). GOGC=100
// restores Go's default.
const defaultGCPercent = 50

// setGCDefaults applies defaultGCPercent unless GOGC is set.
func setGCDefaults() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(defaultGCPercent)
	}
}
