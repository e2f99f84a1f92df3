//go:build !linux

package probe

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"syscall"
)

// WorkerMain reports that probing needs Linux.
func WorkerMain(_ []string, _ io.Reader, out io.Writer) int {
	fmt.Fprintln(out, errors.ErrUnsupported)
	return 1
}

// ErrnoName returns errno's number: names are only known on Linux.
func ErrnoName(errno syscall.Errno) string { return "errno " + strconv.Itoa(int(errno)) }

// SignalName returns sig's number: names are only known on Linux.
func SignalName(sig syscall.Signal) string { return "signal " + strconv.Itoa(int(sig)) }

// Kernel identifies the running kernel.
type Kernel struct {
	Release, Version, Machine string
}

// Uname reports that the kernel can only be identified on Linux.
func Uname() (Kernel, error) { return Kernel{}, errors.ErrUnsupported }

func workerProcAttr() *syscall.SysProcAttr { return nil }
