package probe

import (
	"github.com/syscheckd/syscheckd/probe/monotonic"

	"bufio"
	"fmt"
	"io"
	"os"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// WorkerMain is the whole life of a probe worker: args are os.Args. It
// reads one system call number per line from in, makes the call and writes
// its Outcome to out, until in ends. It returns the process's exit status.
// When a call kills the process, nothing more is written and the parent
// sees the signal.
func WorkerMain(args []string, in io.Reader, out io.Writer) int {
	if len(args) != 2 {
		fmt.Fprintln(out, "usage: syscheckd", WorkerArg, "(numbers on standard input)")
		return 2
	}
	// Started from /proc/self/exe, the worker's command name would be
	// "exe" in ps, top and systemd's log lines. /proc/self/comm names the
	// process's main thread, whichever thread runs this. It must come
	// before prepareToCrash: a process that is not dumpable has its /proc
	// files owned by root, and the unit's dynamic user could not write it.
	// A failure only leaves the name as it was.
	_ = os.WriteFile("/proc/self/comm", []byte(WorkerComm), 0)
	if err := prepareToCrash(); err != nil {
		fmt.Fprintln(out, err)
		return 1
	}
	return serve(bufio.NewReaderSize(in, 64), out, make([]byte, 0, 96))
}

// serve is the worker's loop. It does not allocate (the worker runs with
// the collector off), so nothing but the call runs between two requests.
func serve(in *bufio.Reader, out io.Writer, buf []byte) int {
	for {
		line, err := in.ReadSlice('\n')
		if err == io.EOF && len(line) == 0 {
			return 0 // the daemon closed the pipe: stop
		}
		if err != nil {
			return 3 // a request without its newline, or one too long
		}
		nr, ok := parseRequest(line[:len(line)-1])
		if !ok {
			return 2
		}
		if _, err := out.Write(appendOutcome(buf[:0], call(nr))); err != nil {
			return 1 // the parent reports a worker that ended without an outcome
		}
	}
}

// call makes system call nr with no arguments and times it. RawSyscall
// skips the scheduler hooks of unix.Syscall, which would otherwise be
// timed too; nothing else runs in the worker, so blocking is harmless.
func call(nr int) Outcome {
	start := monotonic.Now()
	r1, _, errno := unix.RawSyscall(uintptr(nr), 0, 0, 0)
	end := monotonic.Now()
	return Outcome{Return: int64(r1), Errno: errno, Duration: time.Duration(end - start), ReturnedAt: end}
}

// fatalSignals are those a misbehaving system call raises in its caller:
// SIGILL (uretprobe outside a trampoline), SIGSEGV (rt_sigreturn without a
// frame), and their kin.
var fatalSignals = []syscall.Signal{unix.SIGILL, unix.SIGSEGV, unix.SIGBUS, unix.SIGFPE, unix.SIGSYS, unix.SIGTRAP}

// kernelSigaction is struct sigaction as the rt_sigaction system call
// takes it on x86_64 and arm64.
type kernelSigaction struct {
	handler  uintptr
	flags    uint64
	restorer uintptr
	mask     uint64
}

// prepareToCrash makes the worker die by the signal itself instead of the Go
// runtime catching it and exiting with status 2, so the parent can name the
// signal; and it turns off core dumps, which a crash every probe interval
// would otherwise leave behind. rt_sigaction is called directly because
// os/signal cannot restore the default action of synchronous signals.
func prepareToCrash() error {
	if err := unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0); err != nil {
		return fmt.Errorf("prctl(PR_SET_DUMPABLE): %w", err)
	}
	dfl := kernelSigaction{} // handler 0 is SIG_DFL
	for _, sig := range fatalSignals {
		if err := sigaction(sig, &dfl); err != nil {
			return err
		}
	}
	// Only the daemon ends its worker (by closing its input, or SIGKILL):
	// a Ctrl-C in the terminal, a hangup or systemd's SIGTERM to the whole
	// unit at stop must not kill it in the middle of a call, where it
	// would look like a crash.
	ign := kernelSigaction{handler: 1} // SIG_IGN
	for _, sig := range []syscall.Signal{unix.SIGINT, unix.SIGTERM, unix.SIGHUP} {
		if err := sigaction(sig, &ign); err != nil {
			return err
		}
	}
	return nil
}

func sigaction(sig syscall.Signal, act *kernelSigaction) error {
	_, _, errno := unix.RawSyscall6(unix.SYS_RT_SIGACTION, uintptr(sig), uintptr(unsafe.Pointer(act)), 0, 8, 0, 0)
	if errno != 0 {
		return fmt.Errorf("rt_sigaction(%v): %w", sig, errno)
	}
	return nil
}

// workerProcAttr has the kernel kill a worker whose daemon died, so no
// worker outlives the daemon that would have reaped it.
func workerProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
