package probe

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// WorkerArg is the first argument that turns syscheckd into a probe worker.
// It is not a flag, so that flag parsing and logging never run in a worker.
const WorkerArg = "__probe-worker"

// IsWorker reports whether args (os.Args) start a probe worker.
func IsWorker(args []string) bool { return len(args) > 1 && args[1] == WorkerArg }

// Outcome is what a worker reports after its call returned.
type Outcome struct {
	Return int64
	Errno  syscall.Errno
	// Duration is the call's latency.
	Duration time.Duration
	// ReturnedAt is the kmsg.Monotonic reading taken right after the call.
	ReturnedAt int64
}

// formatOutcome and parseOutcome are the worker's protocol: one line on its
// standard output.
func formatOutcome(o Outcome) string {
	return fmt.Sprintf("%d %d %d %d\n", o.Return, uintptr(o.Errno), int64(o.Duration), o.ReturnedAt)
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

// ErrTimeout is returned when a call did not return in time; the worker has
// been killed.
var ErrTimeout = errors.New("the call did not return within the timeout")

// ErrWorkerBusy is returned when the previous worker has still not exited,
// for example because it is stuck in an uninterruptible sleep: no second
// worker is started next to it.
var ErrWorkerBusy = errors.New("the previous probe worker has not exited yet")

// CrashError reports a worker that ended without reporting an outcome.
type CrashError struct {
	// Signal killed the worker; 0 if it exited or never started.
	Signal syscall.Signal
	// Detail says what happened otherwise, or what the worker last printed.
	Detail string
}

func (e *CrashError) Error() string {
	if e.Signal != 0 {
		return fmt.Sprintf("the worker was killed by %s (%v)", SignalName(e.Signal), e.Signal)
	}
	return "the worker failed: " + e.Detail
}

// Worker is the daemon's Caller: each call runs in a new process, syscheckd
// re-executed with WorkerArg, which makes the call and prints its Outcome.
type Worker struct {
	exe string
	// grace is how long to wait for a killed worker to be reaped before
	// giving up on it for this probe.
	grace time.Duration

	mu sync.Mutex
	// exited is closed when the last worker started has been reaped.
	exited <-chan struct{}
	pid    int
}

// NewWorker returns a Worker that runs exe, normally "/proc/self/exe": that
// path still reaches the running binary after a package upgrade replaced it.
func NewWorker(exe string) *Worker { return &Worker{exe: exe, grace: time.Second} }

// workerEnv keeps the Go runtime in the worker quiet: no preemption signal
// may interrupt the call (pause would return EINTR), and no other
// goroutine or collector should run during the timed region.
var workerEnv = []string{"GODEBUG=asyncpreemptoff=1", "GOMAXPROCS=1", "GOGC=off"}

// Call implements Caller.
func (w *Worker) Call(ctx context.Context, nr int) (Outcome, error) {
	w.mu.Lock()
	if w.exited != nil {
		select {
		case <-w.exited:
		default:
			pid := w.pid
			w.mu.Unlock()
			return Outcome{}, fmt.Errorf("%w (pid %d)", ErrWorkerBusy, pid)
		}
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(w.exe, WorkerArg, strconv.Itoa(nr))
	cmd.Env = workerEnv
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.SysProcAttr = workerProcAttr()
	if err := cmd.Start(); err != nil {
		w.mu.Unlock()
		return Outcome{}, &CrashError{Detail: fmt.Sprintf("cannot start the worker: %v", err)}
	}
	exited := make(chan struct{})
	w.exited, w.pid = exited, cmd.Process.Pid
	w.mu.Unlock()

	go func() {
		// The error is in cmd.ProcessState, read below once exited is closed.
		_ = cmd.Wait()
		close(exited)
	}()

	select {
	case <-exited:
	case <-ctx.Done():
		_ = cmd.Process.Kill()
		select {
		case <-exited:
		case <-time.After(w.grace):
		}
		return Outcome{}, ErrTimeout
	}
	return interpretExit(cmd.ProcessState, stdout.String(), stderr.String())
}

// interpretExit turns how a worker ended into an Outcome or a CrashError.
func interpretExit(ps interface{ Sys() any }, stdout, stderr string) (Outcome, error) {
	ws, ok := ps.Sys().(syscall.WaitStatus)
	switch {
	case !ok:
		return Outcome{}, &CrashError{Detail: "unknown exit status"}
	case ws.Signaled():
		return Outcome{}, &CrashError{Signal: ws.Signal()}
	case ws.ExitStatus() != 0:
		return Outcome{}, &CrashError{Detail: fmt.Sprintf("exit status %d: %s", ws.ExitStatus(), firstLine(stderr))}
	}
	out, err := parseOutcome(stdout)
	if err != nil {
		return Outcome{}, &CrashError{Detail: err.Error()}
	}
	return out, nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}
