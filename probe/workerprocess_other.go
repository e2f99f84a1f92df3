//go:build !linux

package probe

import (
	"io"
	"syscall"

	"github.com/syscheckd/syscheckd/probe/worker"
)

// WorkerMain reports that probing needs Linux.
func WorkerMain(args []string, in io.Reader, out io.Writer) int {
	return worker.Main(args, in, out)
}

func workerProcAttr() *syscall.SysProcAttr { return nil }
