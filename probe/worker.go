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

// ErrTimeout means a call did not return in time; its worker was killed.
var ErrTimeout = errors.New("the call did not return within the timeout")

// ErrWorkerBusy means a killed worker has not exited yet; none starts beside it.
var ErrWorkerBusy = errors.New("the previous probe worker has not exited yet")

// CrashError reports a worker that ended without reporting an outcome.
type CrashError struct {
	Signal syscall.Signal // 0 if the worker exited or never started
	Detail string         // what happened otherwise, or what the worker printed
}

func (e *CrashError) Error() string {
	if e.Signal != 0 {
		return fmt.Sprintf("the worker was killed by %s (%v)", SignalName(e.Signal), e.Signal)
	}
	return "the worker failed: " + e.Detail
}

// Worker is the daemon's Caller: syscheckd re-executed with WorkerArg makes
// each call. The process stays up between calls, since starting one costs far
// more than a call; a call that kills it or times out costs only that worker.
type Worker struct {
	exe   string
	grace time.Duration // for a worker to exit once told to or killed
	log   *slog.Logger
	// Started, if set before the first Call, is called for each worker started.
	Started func()

	mu     sync.Mutex  // one call at a time; guards the fields below
	proc   *workerProc // nil before the first call and after one ended
	killed *workerProc // killed, not reaped within grace: none may start beside it
}

type workerProc struct {
	cmd     *exec.Cmd
	stdin   *os.File
	replies chan string // the worker's output lines; closed when it exits
	// exited is closed once reaped; then cmd.ProcessState and stderr are final.
	exited chan struct{}
	stderr *headBuffer
}

// NewWorker returns a Worker that runs exe: normally "/proc/self/exe", which is
// still this binary after an upgrade. log hears of workers ending between calls.
func NewWorker(exe string, log *slog.Logger) *Worker {
	return &Worker{exe: exe, grace: time.Second, log: log}
}

// workerEnv keeps the worker's runtime quiet around the call: no preemption
// signal (pause would return EINTR), no other goroutine, no collector.
var workerEnv = []string{"GODEBUG=asyncpreemptoff=1", "GOMAXPROCS=1", "GOGC=off"}

// Call implements Caller.
func (w *Worker) Call(ctx context.Context, nr int) (Outcome, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if ctx.Err() != nil {
		// A worker started now would only be killed at once.
		return Outcome{}, ErrTimeout
	}
	request := strconv.AppendInt(nil, int64(nr), 10)
	request = append(request, '\n')
	p, err := w.serving()
	if err != nil {
		return Outcome{}, err
	}
	if _, err := p.stdin.Write(request); err != nil {
		// The worker ended after serving checked on it: retry once.
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
			// Ended unasked (OOM killer, administrator): logged, not a failure.
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

// Close stops the worker, if one runs: closing its input tells it to exit,
// and it is killed after grace. A later Call starts a new one.
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
	// ps then shows "syscheckd __probe-worker", not /proc/self/exe.
	p.cmd.Args[0] = "syscheckd"
	p.cmd.Env = workerEnv
	p.cmd.Stdin, p.cmd.Stdout, p.cmd.Stderr = inR, outW, p.stderr
	p.cmd.SysProcAttr = workerProcAttr()
	err = p.cmd.Start()
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
		_ = p.cmd.Wait()
		_ = inW.Close()
		close(p.exited)
	}()
	return p, nil
}

// describeExit turns how a worker ended into a CrashError; nil for a clean exit.
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

// headBuffer keeps the first limit bytes: only a fatal error's first line is
// read, and a worker's stderr must not grow for the months it lives.
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
