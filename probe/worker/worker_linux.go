package worker

import (
	"bufio"
	"io"
	"os"
	"syscall"
	"time"
	"unsafe"

	"github.com/syscheckd/syscheckd/probe/monotonic"
	"github.com/syscheckd/syscheckd/probe/worker/exepages"
)

// Main is a probe worker's whole life; args are os.Args. It answers each
// system call number read from in with the call's Outcome on out, until in
// ends, and returns the exit status.
func Main(args []string, in io.Reader, out io.Writer) int {
	if len(args) != 2 {
		_, _ = io.WriteString(out, "usage: syscheckd "+Arg+" (numbers on standard input)\n")
		return 2
	}
	// Without this ps and systemd show "exe". /proc/self/comm is the main thread's,
	// whichever runs this. It must precede prepareToCrash, after which the
	// process's /proc files are root's, not the unit's dynamic user's.
	_ = os.WriteFile("/proc/self/comm", []byte(Comm), 0)
	if err := prepareToCrash(); err != nil {
		_, _ = io.WriteString(out, err.Error()+"\n")
		return 1
	}
	// A worker lives as long as its daemon and runs nothing but serve: the
	// pages of the binary its start-up mapped (most of them only the
	// runtime's and its imports' initialisers ran) need not stay mapped.
	// A call of getppid then maps back the pages of the timed region, so
	// that the first probe's duration has no page fault in it.
	exepages.Drop()
	Call(syscall.SYS_GETPPID)
	return serve(bufio.NewReaderSize(in, 64), out, make([]byte, 0, 96))
}

// serve is the worker's loop; it must not allocate, as the collector is off.
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
		if _, err := out.Write(AppendOutcome(buf[:0], Call(nr))); err != nil {
			return 1 // the parent reports a worker that ended without an outcome
		}
	}
}

// Call makes system call nr with no arguments and times it. RawSyscall skips
// syscall.Syscall's scheduler hooks, which would be timed too. It is what
// golang.org/x/sys/unix.RawSyscall jumps to: the worker needs nothing of
// x/sys/unix, and what it imports is initialised in every worker.
func Call(nr int) Outcome {
	start := monotonic.Now()
	r1, _, errno := syscall.RawSyscall(uintptr(nr), 0, 0, 0)
	end := monotonic.Now()
	return Outcome{Return: int64(r1), Errno: errno, Duration: time.Duration(end - start), ReturnedAt: end}
}

// fatalSignals are what a misbehaving system call raises: SIGILL (uretprobe
// outside a trampoline), SIGSEGV (rt_sigreturn without a frame) and kin.
var fatalSignals = [...]syscall.Signal{syscall.SIGILL, syscall.SIGSEGV, syscall.SIGBUS, syscall.SIGFPE, syscall.SIGSYS, syscall.SIGTRAP}

// kernelSigaction is struct sigaction as rt_sigaction takes it on x86_64 and arm64.
type kernelSigaction struct {
	handler  uintptr
	flags    uint64
	restorer uintptr
	mask     uint64
}

// prepareToCrash lets a fatal signal kill the worker, rather than the Go
// runtime exiting with status 2, so the parent can name it; and turns off core
// dumps. os/signal cannot restore synchronous signals' default action.
func prepareToCrash() error {
	if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, syscall.PR_SET_DUMPABLE, 0, 0); errno != 0 {
		return os.NewSyscallError("prctl(PR_SET_DUMPABLE)", errno)
	}
	dfl := kernelSigaction{} // handler 0 is SIG_DFL
	for _, sig := range fatalSignals {
		if err := sigaction(sig, &dfl); err != nil {
			return err
		}
	}
	// Only the daemon ends its worker: a Ctrl-C, a hangup or systemd's SIGTERM
	// to the unit must not kill it mid-call, where it would look like a crash.
	ign := kernelSigaction{handler: 1} // SIG_IGN
	for _, sig := range [...]syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP} {
		if err := sigaction(sig, &ign); err != nil {
			return err
		}
	}
	return nil
}

func sigaction(sig syscall.Signal, act *kernelSigaction) error {
	_, _, errno := syscall.RawSyscall6(syscall.SYS_RT_SIGACTION, uintptr(sig), uintptr(unsafe.Pointer(act)), 0, 8, 0, 0)
	if errno != 0 {
		return os.NewSyscallError("rt_sigaction("+sig.String()+")", errno)
	}
	return nil
}
