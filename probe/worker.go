package probe

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ErrTimeout is returned when a call did not return in time; the worker has
// been killed.
var ErrTimeout = errors.New("the call did not return within the timeout")

// ErrWorkerBusy is returned when a killed worker has still not exited, for
// example because it is stuck in an uninterruptible sleep: no second worker
// is started next to it.
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

// Worker is the daemon's Caller: a process of its own, syscheckd
// re-executed with WorkerArg, makes each call. The process stays up between
// calls, because starting one (exec and the Go runtime's and packages'
// initialisation) costs about 3 ms of CPU, thirty thousand times the call.
// A call that kills the worker or does not return in time costs that
// worker: the next call starts a new one.
type Worker struct {
	exe string
	// grace is how long to wait for a worker to exit after it was told to
	// (stdin closed) or killed.
	grace time.Duration
	log   *slog.Logger
	// Started, if set before the first Call, is called for each worker
	// process started.
	Started func()

	// mu makes calls one at a time and guards the fields below.
	mu sync.Mutex
	// proc is the worker serving calls, nil before the first call and
	// after one ended.
	proc *workerProc
	// killed is the last worker killed that had not been reaped within
	// grace; no worker is started while it exists.
	killed *workerProc
}

// workerProc is one worker process and the pipes to it.
type workerProc struct {
	cmd   *exec.Cmd
	stdin *os.File
	// replies carries the lines the worker prints; closed at end of file,
	// when the worker exits.
	replies chan string
	// exited is closed once the process has been reaped: then cmd.ProcessState
	// and stderr may be read.
	exited chan struct{}
	stderr *headBuffer
}

// NewWorker returns a Worker that runs exe, normally "/proc/self/exe": that
// path still reaches the running binary after a package upgrade replaced it.
// log hears of workers that end between calls.
func NewWorker(exe string, log *slog.Logger) *Worker {
	return &Worker{exe: exe, grace: time.Second, log: log}
}

// workerEnv keeps the Go runtime in the worker quiet: no preemption signal
// may interrupt the call (pause would return EINTR), and no other
// goroutine or collector should run during the timed region. The worker's
// loop does not allocate, so it needs no collector.
var workerEnv = []string{"GODEBUG=asyncpreemptoff=1", "GOMAXPROCS=1", "GOGC=off"}

// Call implements Caller.
func (w *Worker) Call(ctx context.Context, nr int) (Outcome, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	request := strconv.AppendInt(nil, int64(nr), 10)
	request = append(request, '\n')
	p, err := w.serving()
	if err != nil {
		return Outcome{}, err
	}
	if _, err := p.stdin.Write(request); err != nil {
		// The worker ended after serving checked on it: one retry with
		// a new one.
		w.ended(p)
		if p, err = w.serving(); err != nil {
			return Outcome{}, err
		}
		if _, err := p.stdin.Write(request); err != nil {
			w.kill(p)
			return Outcome{}, &CrashError{Detail: fmt.Sprintf("cannot send the call to a new worker: %v", err)}
		}
	}
	select {
	case line, ok := <-p.replies:
		if !ok {
			return Outcome{}, w.died(ctx, p)
		}
		out, err := parseOutcome(line)
		if err != nil {
			w.kill(p)
			return Outcome{}, &CrashError{Detail: err.Error()}
		}
		return out, nil
	case <-ctx.Done():
		w.kill(p)
		return Outcome{}, ErrTimeout
	}
}

// serving returns the worker that serves the next call, started if need be.
func (w *Worker) serving() (*workerProc, error) {
	if w.killed != nil {
		select {
		case <-w.killed.exited:
			w.killed = nil
		default:
			return nil, fmt.Errorf("%w (pid %d)", ErrWorkerBusy, w.killed.cmd.Process.Pid)
		}
	}
	if p := w.proc; p != nil {
		select {
		case <-p.exited:
			// Nothing was asked of it: not a failed probe, but worth a
			// line (something else killed it: an administrator, the
			// OOM killer).
			w.ended(p)
		default:
			return p, nil
		}
	}
	p, err := startWorker(w.exe)
	if err != nil {
		return nil, &CrashError{Detail: fmt.Sprintf("cannot start the worker: %v", err)}
	}
	w.proc = p
	if w.Started != nil {
		w.Started()
	}
	return p, nil
}

// ended forgets a worker that exited between calls, once reaped.
func (w *Worker) ended(p *workerProc) {
	w.proc = nil
	select {
	case <-p.exited:
	case <-time.After(w.grace):
		w.kill(p)
		return
	}
	w.log.Warn("the probe worker ended between calls; starting a new one",
		"pid", p.cmd.Process.Pid, "err", describeExit(p.cmd.ProcessState, p.stderr.String()))
}

// died reports a worker that closed its output during a call: it crashed.
func (w *Worker) died(ctx context.Context, p *workerProc) error {
	w.proc = nil
	select {
	case <-p.exited:
	case <-ctx.Done():
		w.kill(p)
		return ErrTimeout
	}
	err := describeExit(p.cmd.ProcessState, p.stderr.String())
	if err == nil {
		err = &CrashError{Detail: "exited during the call without an answer"}
	}
	return err
}

// kill ends a worker now and waits up to grace for it to be reaped; one
// that is not is remembered, so that no second worker runs beside it.
func (w *Worker) kill(p *workerProc) {
	if w.proc == p {
		w.proc = nil
	}
	_ = p.cmd.Process.Kill()
	_ = p.stdin.Close()
	select {
	case <-p.exited:
	case <-time.After(w.grace):
		w.killed = p
	}
}

// Close stops the worker, if one runs: it is told to exit by closing its
// input, and killed if it has not within grace. A later Call starts a new
// one.
func (w *Worker) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	p := w.proc
	if p == nil {
		return nil
	}
	w.proc = nil
	_ = p.stdin.Close()
	select {
	case <-p.exited:
		return nil
	case <-time.After(w.grace):
	}
	w.kill(p)
	if w.killed == p {
		return fmt.Errorf("%w (pid %d)", ErrWorkerBusy, p.cmd.Process.Pid)
	}
	return nil
}

// startWorker starts a worker process with a pipe each way.
func startWorker(exe string) (*workerProc, error) {
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		_ = inR.Close()
		_ = inW.Close()
		return nil, err
	}
	p := &workerProc{
		cmd:     exec.Command(exe, WorkerArg),
		stdin:   inW,
		replies: make(chan string, 1),
		exited:  make(chan struct{}),
		stderr:  &headBuffer{limit: 4096},
	}
	// ps and systemctl status then show "syscheckd __probe-worker", not
	// the /proc/self/exe it was started from.
	p.cmd.Args[0] = "syscheckd"
	p.cmd.Env = workerEnv
	p.cmd.Stdin, p.cmd.Stdout, p.cmd.Stderr = inR, outW, p.stderr
	p.cmd.SysProcAttr = workerProcAttr()
	err = p.cmd.Start()
	// The child has its own copies of these ends now.
	_ = inR.Close()
	_ = outW.Close()
	if err != nil {
		_ = inW.Close()
		_ = outR.Close()
		return nil, err
	}
	go func() {
		defer close(p.replies)
		defer func() { _ = outR.Close() }()
		lines := bufio.NewScanner(outR)
		for lines.Scan() {
			select {
			case p.replies <- lines.Text():
			case <-p.exited:
				return // a line nobody asked for, from a worker now gone
			}
		}
	}()
	go func() {
		// The exit status is read from cmd.ProcessState once exited is
		// closed.
		_ = p.cmd.Wait()
		_ = inW.Close()
		close(p.exited)
	}()
	return p, nil
}

// describeExit turns how a worker ended into a CrashError, or nil for a
// worker that exited cleanly.
func describeExit(ps interface{ Sys() any }, stderr string) error {
	ws, ok := ps.Sys().(syscall.WaitStatus)
	switch {
	case !ok:
		return &CrashError{Detail: "unknown exit status"}
	case ws.Signaled():
		return &CrashError{Signal: ws.Signal()}
	case ws.ExitStatus() != 0:
		return &CrashError{Detail: fmt.Sprintf("exit status %d: %s", ws.ExitStatus(), firstLine(stderr))}
	}
	return nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

// headBuffer keeps the first limit bytes written to it: a worker's standard
// error is only read for the first line of a fatal error, and must not grow
// with a worker that lives for months.
type headBuffer struct {
	mu    sync.Mutex
	limit int
	b     []byte
}

func (h *headBuffer) Write(p []byte) (int, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if room := h.limit - len(h.b); room > 0 {
		h.b = append(h.b, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

func (h *headBuffer) String() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return string(h.b)
}
