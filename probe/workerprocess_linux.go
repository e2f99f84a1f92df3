package probe

import (
	"io"
	"syscall"

	"github.com/syscheckd/syscheckd/probe/worker"
)

// WorkerMain is a probe worker's whole life; args are os.Args. It answers each
// system call number read from in with the call's Outcome on out, until in ends.
// A syscheckd binary gets there earlier, from package worker/entry's
// initialiser; test binaries that double as workers call this.
func WorkerMain(args []string, in io.Reader, out io.Writer) int {
	return worker.Main(args, in, out)
}

// workerProcAttr has the kernel kill a worker whose daemon died.
func workerProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
