package probe

import (
	"fmt"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// WorkerArg makes syscheckd a probe worker. Not being a flag, it keeps flag
// parsing and logging out of the worker.
const WorkerArg = "__probe-worker"

// WorkerComm is a worker process's command name, as ps and systemd show it.
const WorkerComm = "syscheckd-work"

// IsWorker reports whether args (os.Args) start a probe worker.
func IsWorker(args []string) bool { return len(args) > 1 && args[1] == WorkerArg }

// Outcome is what a worker reports after its call returned.
type Outcome struct {
	Return     int64
	Errno      syscall.Errno
	Duration   time.Duration
	ReturnedAt int64 // monotonic.Now() right after the call
}

// appendOutcome formats o as the worker's one-line answer without allocating.
func appendOutcome(dst []byte, o Outcome) []byte {
	dst = strconv.AppendInt(dst, o.Return, 10)
	dst = append(dst, ' ')
	dst = strconv.AppendUint(dst, uint64(o.Errno), 10)
	dst = append(dst, ' ')
	dst = strconv.AppendInt(dst, int64(o.Duration), 10)
	dst = append(dst, ' ')
	dst = strconv.AppendInt(dst, o.ReturnedAt, 10)
	return append(dst, '\n')
}

func parseOutcome(s string) (Outcome, error) {
	fields := strings.Fields(s)
	if len(fields) != 4 {
		return Outcome{}, fmt.Errorf("worker output %q: want 4 fields", s)
	}
	var n [4]int64
	for i, f := range fields {
		v, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return Outcome{}, fmt.Errorf("worker output %q: %w", s, err)
		}
		n[i] = v
	}
	if n[1] < 0 || n[2] < 0 {
		return Outcome{}, fmt.Errorf("worker output %q: negative errno or duration", s)
	}
	return Outcome{Return: n[0], Errno: syscall.Errno(n[1]), Duration: time.Duration(n[2]), ReturnedAt: n[3]}, nil
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
