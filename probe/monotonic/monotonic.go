// Package monotonic reads CLOCK_MONOTONIC, the one clock the probe worker
// and the kernel log reader share: the worker stamps a system call's return
// with it in its own process, the reader stamps each record it reads, and
// the two readings subtract because the clock is system-wide (time.Time's
// monotonic reading is relative to its process).
package monotonic

import _ "unsafe" // for go:linkname

// Now returns CLOCK_MONOTONIC in nanoseconds, read through the vDSO: it is
// runtime.nanotime, the cheapest reading of that clock from Go.
func Now() int64 { return nanotime() }

//go:linkname nanotime runtime.nanotime
func nanotime() int64
