// Package worker is the probe worker's side of the daemon's pipe: what
// "syscheckd __probe-worker" runs. The daemon's side is probe.Worker.
//
// It imports as little as it can, and nothing that imports Prometheus,
// HTTP or YAML: package entry runs Main from its initialiser, and Go
// initialises a package's imports before it, so what this package imports
// is what a worker initialises and keeps in memory for as long as it lives.
package worker

import (
	"strconv"
	"syscall"
	"time"
)

// Arg makes syscheckd a probe worker. Not being a flag, it keeps flag
// parsing and logging out of the worker.
const Arg = "__probe-worker"

// Comm is a worker process's command name, as ps and systemd show it.
const Comm = "syscheckd-work"

// MaxSyscall is the highest number a worker accepts: probe.MaxSyscall,
// which a test in package probe holds it to.
const MaxSyscall = 1023

// IsWorker reports whether args (os.Args) start a probe worker.
func IsWorker(args []string) bool { return len(args) > 1 && args[1] == Arg }

// Outcome is what a worker reports after its call returned.
type Outcome struct {
	Return     int64
	Errno      syscall.Errno
	Duration   time.Duration
	ReturnedAt int64 // monotonic.Now() right after the call
}

// AppendOutcome formats o as the worker's one-line answer without
// allocating: "return errno duration returned-at\n", in decimal.
func AppendOutcome(dst []byte, o Outcome) []byte {
	dst = strconv.AppendInt(dst, o.Return, 10)
	dst = append(dst, ' ')
	dst = strconv.AppendUint(dst, uint64(o.Errno), 10)
	dst = append(dst, ' ')
	dst = strconv.AppendInt(dst, int64(o.Duration), 10)
	dst = append(dst, ' ')
	dst = strconv.AppendInt(dst, o.ReturnedAt, 10)
	return append(dst, '\n')
}

// parseRequest reads the system call number of one request line (without
// its newline) without allocating. It accepts 0 to MaxSyscall.
func parseRequest(line []byte) (int, bool) {
	if len(line) == 0 || len(line) > 4 {
		return 0, false
	}
	nr := 0
	for _, c := range line {
		if c < '0' || c > '9' {
			return 0, false
		}
		nr = nr*10 + int(c-'0')
	}
	return nr, nr <= MaxSyscall
}
