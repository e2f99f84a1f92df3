package probe

import (
	"fmt"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// ErrnoName returns the symbolic name of errno, such as "ENOSYS".
func ErrnoName(errno syscall.Errno) string {
	if name := unix.ErrnoName(errno); name != "" {
		return name
	}
	return "errno " + strconv.Itoa(int(errno))
}

// SignalName returns the symbolic name of sig, such as "SIGILL".
func SignalName(sig syscall.Signal) string {
	if name := unix.SignalName(sig); name != "" {
		return name
	}
	return "signal " + strconv.Itoa(int(sig))
}

// Kernel identifies the running kernel, as uname(2) reports it.
type Kernel struct {
	Release, Version, Machine string
}

// Uname reads the running kernel's identity.
func Uname() (Kernel, error) {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return Kernel{}, fmt.Errorf("uname: %w", err)
	}
	return Kernel{
		Release: unix.ByteSliceToString(u.Release[:]),
		Version: unix.ByteSliceToString(u.Version[:]),
		Machine: unix.ByteSliceToString(u.Machine[:]),
	}, nil
}
