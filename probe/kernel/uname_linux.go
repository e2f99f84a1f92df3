package kernel

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// uname returns the Release, Version and Machine of uname(2).
func uname() (Identity, error) {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return Identity{}, fmt.Errorf("uname: %w", err)
	}
	return Identity{
		Release: unix.ByteSliceToString(u.Release[:]),
		Version: unix.ByteSliceToString(u.Version[:]),
		Machine: unix.ByteSliceToString(u.Machine[:]),
	}, nil
}
