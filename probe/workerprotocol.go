package probe

import (
	"fmt"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/syscheckd/syscheckd/probe/worker"
)

// WorkerArg makes syscheckd a probe worker. Not being a flag, it keeps flag
// parsing and logging out of the worker.
const WorkerArg = worker.Arg

// WorkerComm is a worker process's command name, as ps and systemd show it.
const WorkerComm = worker.Comm

// IsWorker reports whether args (os.Args) start a probe worker.
func IsWorker(args []string) bool { return worker.IsWorker(args) }

// Outcome is what a worker reports after its call returned. The worker's
// side of the pipe is package worker, which a worker initialises without
// this package's imports.
type Outcome = worker.Outcome

// parseOutcome reads a worker's answer, as worker.AppendOutcome writes it.
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
