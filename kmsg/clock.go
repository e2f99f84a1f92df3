package kmsg

import _ "unsafe" // for go:linkname

// Monotonic returns CLOCK_MONOTONIC in nanoseconds, read through the vDSO.
//
// Records are stamped with it when they are read, and the probe worker stamps
// the system call's return with it in another process: CLOCK_MONOTONIC is
// system-wide, so the two readings can be subtracted, which time.Time's
// process-relative monotonic reading cannot do. It is runtime.nanotime, the
// cheapest way to read that clock from Go.
func Monotonic() int64 { return nanotime() }

//go:linkname nanotime runtime.nanotime
func nanotime() int64
