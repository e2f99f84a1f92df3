package probe

import (
	"github.com/syscheckd/syscheckd/probe/monotonic"

	"context"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

type waitStatus syscall.WaitStatus

func (w waitStatus) Sys() any { return syscall.WaitStatus(w) }

func TestDescribeExit(t *testing.T) {
	tests := []struct {
		name    string
		status  syscall.WaitStatus // as wait(2) encodes it
		stderr  string
		wantErr string
	}{
		{name: "clean exit", status: 0},
		{name: "killed by SIGILL", status: syscall.WaitStatus(unix.SIGILL), wantErr: "the worker was killed by SIGILL (illegal instruction)"},
		{name: "killed by SIGSEGV with core flag", status: syscall.WaitStatus(unix.SIGSEGV) | 0x80, wantErr: "the worker was killed by SIGSEGV (segmentation fault)"},
		{name: "runtime fatal error", status: 2 << 8, stderr: "fatal error: unexpected signal\n\ngoroutine 1", wantErr: "the worker failed: exit status 2: fatal error: unexpected signal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := describeExit(waitStatus(tt.status), tt.stderr)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("err = %v, want nil", err)
				}
				return
			}
			var crash *CrashError
			if !errors.As(err, &crash) || err.Error() != tt.wantErr {
				t.Fatalf("err = %v, want CrashError %q", err, tt.wantErr)
			}
		})
	}
}

// The tests below run real workers (this test binary, see TestMain) on the
// machine's kernel, with numbers that are safe to call anywhere: never 335
// or 336.

func testWorker(t *testing.T) *Worker {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	w := NewWorker(exe, slog.New(slog.DiscardHandler))
	t.Cleanup(func() {
		if err := w.Close(); err != nil {
			t.Error(err)
		}
	})
	return w
}

// countStarts counts the worker processes w starts from now on.
func countStarts(w *Worker) *int {
	n := new(int)
	w.Started = func() { *n++ }
	return n
}

// workerPid returns the pid of the worker serving calls, 0 if none.
func workerPid(w *Worker) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.proc == nil {
		return 0
	}
	return w.proc.cmd.Process.Pid
}

func processExists(pid int) bool {
	_, err := os.Stat("/proc/" + strconv.Itoa(pid))
	return err == nil
}

func TestWorkerReturnsWhatTheCallReturned(t *testing.T) {
	w := testWorker(t)
	out, err := w.Call(t.Context(), unix.SYS_GETPID)
	if err != nil {
		t.Fatal(err)
	}
	if out.Errno != 0 || out.Return <= 0 || out.Return == int64(os.Getpid()) {
		t.Errorf("getpid in the worker: %+v; want the worker's own pid", out)
	}
	if out.Duration <= 0 || out.Duration > time.Second {
		t.Errorf("Duration = %s", out.Duration)
	}
	if now := monotonic.Now(); out.ReturnedAt > now || now-out.ReturnedAt > int64(10*time.Second) {
		t.Errorf("ReturnedAt %d is not a recent CLOCK_MONOTONIC reading (now %d)", out.ReturnedAt, now)
	}
}

func TestWorkerServesManyCallsInOneProcess(t *testing.T) {
	w := testWorker(t)
	starts := countStarts(w)
	var pids []int64
	for range 20 {
		out, err := w.Call(t.Context(), unix.SYS_GETPID)
		if err != nil {
			t.Fatal(err)
		}
		pids = append(pids, out.Return)
	}
	for _, pid := range pids {
		if pid != pids[0] {
			t.Fatalf("getpid answered by several workers: %v", pids)
		}
	}
	comm, err := os.ReadFile("/proc/" + strconv.FormatInt(pids[0], 10) + "/comm")
	if err != nil || strings.TrimSpace(string(comm)) != WorkerComm {
		t.Errorf("worker command name %q (%v), want %q", comm, err, WorkerComm)
	}
	if *starts != 1 {
		t.Errorf("%d workers started for 20 calls, want 1", *starts)
	}
}

func TestWorkerReportsErrno(t *testing.T) {
	out, err := testWorker(t).Call(t.Context(), 400) // unassigned on x86_64
	if err != nil {
		t.Fatal(err)
	}
	if out.Errno != syscall.ENOSYS || out.Return != -1 {
		t.Errorf("outcome %+v, want ENOSYS", out)
	}
}

func TestWorkerKilledBySignalIsACrashAndReplaced(t *testing.T) {
	w := testWorker(t)
	first, err := w.Call(t.Context(), unix.SYS_GETPID)
	if err != nil {
		t.Fatal(err)
	}
	// rt_sigreturn without a signal frame loads garbage registers: SIGSEGV.
	_, err = w.Call(t.Context(), unix.SYS_RT_SIGRETURN)
	var crash *CrashError
	if !errors.As(err, &crash) || crash.Signal != unix.SIGSEGV {
		t.Fatalf("err = %v, want a crash by SIGSEGV", err)
	}
	if processExists(int(first.Return)) {
		t.Errorf("crashed worker %d still exists", first.Return)
	}
	next, err := w.Call(t.Context(), unix.SYS_GETPID)
	if err != nil {
		t.Fatalf("call after a crash: %v", err)
	}
	if next.Return == first.Return {
		t.Errorf("the crashed worker %d answered again", first.Return)
	}
}

func TestWorkerThatNeverReturnsIsKilledAndReaped(t *testing.T) {
	w := testWorker(t)
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := w.Call(t.Context(), unix.SYS_GETPID); err != nil {
		t.Fatal(err)
	}
	pid := workerPid(w)
	_, err := w.Call(ctx, unix.SYS_PAUSE)
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("err = %v, want ErrTimeout", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("Call took %s with a 200ms timeout", took)
	}
	if w.killed != nil || workerPid(w) != 0 {
		t.Fatalf("worker %d not reaped after the timeout", pid)
	}
	if processExists(pid) {
		t.Errorf("worker %d still exists", pid)
	}
	// The next call starts a new worker.
	if _, err := w.Call(t.Context(), unix.SYS_GETPID); err != nil {
		t.Errorf("call after a timeout: %v", err)
	}
}

func TestWorkerNeverRunsTwoAtOnce(t *testing.T) {
	w := testWorker(t)
	if _, err := w.Call(t.Context(), unix.SYS_GETPID); err != nil {
		t.Fatal(err)
	}
	// A worker that could not be reaped after it was killed.
	stuck := &workerProc{cmd: exec.Command("stuck"), exited: make(chan struct{})}
	stuck.cmd.Process = &os.Process{Pid: 4242}
	w.killed = stuck
	_, err := w.Call(t.Context(), unix.SYS_GETPID)
	if !errors.Is(err, ErrWorkerBusy) || !strings.Contains(err.Error(), "pid 4242") {
		t.Fatalf("err = %v, want ErrWorkerBusy naming pid 4242", err)
	}
	close(stuck.exited)
	if _, err := w.Call(t.Context(), unix.SYS_GETPID); err != nil {
		t.Errorf("call once the old worker exited: %v", err)
	}
}

func TestWorkerEndedBetweenCallsIsReplacedQuietly(t *testing.T) {
	w := testWorker(t)
	starts := countStarts(w)
	first, err := w.Call(t.Context(), unix.SYS_GETPID)
	if err != nil {
		t.Fatal(err)
	}
	exited := w.proc.exited
	if err := syscall.Kill(int(first.Return), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	// Between calls: the next probe comes an interval later.
	select {
	case <-exited:
	case <-time.After(5 * time.Second):
		t.Fatal("the killed worker was not reaped")
	}
	next, err := w.Call(t.Context(), unix.SYS_GETPID)
	if err != nil {
		t.Fatalf("call after the worker was killed between calls: %v", err)
	}
	if next.Return == first.Return || *starts != 2 {
		t.Errorf("pids %d then %d, %d starts: want a second worker", first.Return, next.Return, *starts)
	}
}

func TestWorkerOutlivesSignalsMeantForTheDaemon(t *testing.T) {
	w := testWorker(t)
	starts := countStarts(w)
	first, err := w.Call(t.Context(), unix.SYS_GETPID)
	if err != nil {
		t.Fatal(err)
	}
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP} {
		if err := syscall.Kill(int(first.Return), sig); err != nil {
			t.Fatal(err)
		}
	}
	// Delivery is asynchronous: give a default action time to kill it.
	time.Sleep(200 * time.Millisecond)
	if !processExists(int(first.Return)) {
		t.Fatalf("worker %d died of a signal meant for the daemon", first.Return)
	}
	next, err := w.Call(t.Context(), unix.SYS_GETPID)
	if err != nil {
		t.Fatal(err)
	}
	if next.Return != first.Return || *starts != 1 {
		t.Errorf("pids %d then %d, %d starts: the worker did not survive SIGINT, SIGTERM and SIGHUP", first.Return, next.Return, *starts)
	}
}

func TestWorkerCloseStopsTheProcess(t *testing.T) {
	w := testWorker(t)
	out, err := w.Call(t.Context(), unix.SYS_GETPID)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if processExists(int(out.Return)) {
		t.Errorf("worker %d still exists after Close", out.Return)
	}
	if err := w.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestWorkerThatCannotStartIsACrash(t *testing.T) {
	_, err := NewWorker("/nonexistent/syscheckd", slog.New(slog.DiscardHandler)).Call(t.Context(), unix.SYS_GETPID)
	var crash *CrashError
	if !errors.As(err, &crash) || crash.Signal != 0 || !strings.Contains(err.Error(), "cannot start the worker") {
		t.Fatalf("err = %v", err)
	}
}

func TestWorkerStartsNoProcessForAnExpiredCall(t *testing.T) {
	w := testWorker(t)
	started := 0
	w.Started = func() { started++ }
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := w.Call(ctx, unix.SYS_GETPID); !errors.Is(err, ErrTimeout) {
		t.Errorf("Call with an expired context: %v, want ErrTimeout", err)
	}
	if started != 0 {
		t.Errorf("%d workers started for a call whose time was already up", started)
	}
}
