package probe

import (
	"context"
	"errors"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"

	"github.com/syscheckd/syscheckd/kmsg"
)

func TestOutcomeProtocolRoundTrip(t *testing.T) {
	for _, o := range []Outcome{
		{Return: 0, Duration: 1500, ReturnedAt: 123456789},
		{Return: -1, Errno: syscall.ENOSYS, Duration: 300, ReturnedAt: 1},
		{Return: 4242, ReturnedAt: 1 << 62},
	} {
		got, err := parseOutcome(formatOutcome(o))
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(o, got); diff != "" {
			t.Errorf("round trip (-want +got):\n%s", diff)
		}
	}
}

func TestParseOutcomeRejectsGarbage(t *testing.T) {
	for _, in := range []string{"", "1 2 3", "1 2 3 4 5", "a 0 1 2", "0 -1 1 2", "0 0 -5 2", "fatal error: unexpected signal"} {
		if _, err := parseOutcome(in); err == nil {
			t.Errorf("parseOutcome(%q) accepted", in)
		}
	}
}

type waitStatus syscall.WaitStatus

func (w waitStatus) Sys() any { return syscall.WaitStatus(w) }

func TestInterpretExit(t *testing.T) {
	tests := []struct {
		name    string
		status  syscall.WaitStatus // as wait(2) encodes it
		stdout  string
		stderr  string
		want    Outcome
		wantErr string
	}{
		{name: "reported outcome", status: 0, stdout: "0 0 812 99\n", want: Outcome{Duration: 812, ReturnedAt: 99}},
		{name: "killed by SIGILL", status: syscall.WaitStatus(unix.SIGILL), wantErr: "the worker was killed by SIGILL (illegal instruction)"},
		{name: "killed by SIGSEGV with core flag", status: syscall.WaitStatus(unix.SIGSEGV) | 0x80, wantErr: "the worker was killed by SIGSEGV (segmentation fault)"},
		{name: "runtime fatal error", status: 2 << 8, stderr: "fatal error: unexpected signal\n\ngoroutine 1", wantErr: "the worker failed: exit status 2: fatal error: unexpected signal"},
		{name: "exit 0 without output", status: 0, stdout: "", wantErr: `the worker failed: worker output "": want 4 fields`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := interpretExit(waitStatus(tt.status), tt.stdout, tt.stderr)
			if tt.wantErr != "" {
				var crash *CrashError
				if !errors.As(err, &crash) || err.Error() != tt.wantErr {
					t.Fatalf("err = %v, want CrashError %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
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
	return NewWorker(exe)
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
	if now := kmsg.Monotonic(); out.ReturnedAt > now || now-out.ReturnedAt > int64(10*time.Second) {
		t.Errorf("ReturnedAt %d is not a recent CLOCK_MONOTONIC reading (now %d)", out.ReturnedAt, now)
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

func TestWorkerKilledBySignalIsACrash(t *testing.T) {
	// rt_sigreturn without a signal frame loads garbage registers: SIGSEGV.
	_, err := testWorker(t).Call(t.Context(), unix.SYS_RT_SIGRETURN)
	var crash *CrashError
	if !errors.As(err, &crash) || crash.Signal != unix.SIGSEGV {
		t.Fatalf("err = %v, want a crash by SIGSEGV", err)
	}
}

func TestWorkerThatNeverReturnsIsKilledAndReaped(t *testing.T) {
	w := testWorker(t)
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := w.Call(ctx, unix.SYS_PAUSE)
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("err = %v, want ErrTimeout", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("Call took %s with a 200ms timeout", took)
	}
	w.mu.Lock()
	pid, exited := w.pid, w.exited
	w.mu.Unlock()
	select {
	case <-exited:
	default:
		t.Fatalf("worker %d not reaped after the timeout", pid)
	}
	if _, err := os.Stat("/proc/" + strconv.Itoa(pid)); err == nil {
		t.Errorf("worker %d still exists", pid)
	}
	// The next call starts a new worker.
	if _, err := w.Call(t.Context(), unix.SYS_GETPID); err != nil {
		t.Errorf("call after a timeout: %v", err)
	}
}

func TestWorkerNeverRunsTwoAtOnce(t *testing.T) {
	w := testWorker(t)
	stuck := make(chan struct{})
	w.exited, w.pid = stuck, 4242 // a worker that could not be reaped
	_, err := w.Call(t.Context(), unix.SYS_GETPID)
	if !errors.Is(err, ErrWorkerBusy) || !strings.Contains(err.Error(), "pid 4242") {
		t.Fatalf("err = %v, want ErrWorkerBusy naming pid 4242", err)
	}
	close(stuck)
	if _, err := w.Call(t.Context(), unix.SYS_GETPID); err != nil {
		t.Errorf("call once the old worker exited: %v", err)
	}
}

func TestWorkerThatCannotStartIsACrash(t *testing.T) {
	_, err := NewWorker("/nonexistent/syscheckd").Call(t.Context(), unix.SYS_GETPID)
	var crash *CrashError
	if !errors.As(err, &crash) || crash.Signal != 0 || !strings.Contains(err.Error(), "cannot start the worker") {
		t.Fatalf("err = %v", err)
	}
}

func TestWorkerMainRejectsBadArguments(t *testing.T) {
	for _, args := range [][]string{{"x", WorkerArg}, {"x", WorkerArg, "abc"}, {"x", WorkerArg, "1024"}, {"x", WorkerArg, "-1"}} {
		var out strings.Builder
		if code := WorkerMain(args, &out); code != 2 {
			t.Errorf("WorkerMain(%q) = %d, want 2", args, code)
		}
	}
}
