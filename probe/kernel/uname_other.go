//go:build !linux

package kernel

import (
	"errors"
	"fmt"
)

// uname reports that only Linux is identified: the files this package
// reads are Linux's.
func uname() (Identity, error) {
	return Identity{}, fmt.Errorf("uname: %w", errors.ErrUnsupported)
}
