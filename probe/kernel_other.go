//go:build !linux

package probe

import (
	"errors"
	"strconv"
	"syscall"
)

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
