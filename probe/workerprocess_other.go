//go:build !linux

package probe

import (
	"errors"
	"fmt"
	"io"
	"syscall"
)

// WorkerMain reports that probing needs Linux.
func WorkerMain(_ []string, _ io.Reader, out io.Writer) int {
	fmt.Fprintln(out, errors.ErrUnsupported)
	return 1
}

func workerProcAttr() *syscall.SysProcAttr { return nil }
