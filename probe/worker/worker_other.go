//go:build !linux

package worker

import (
	"errors"
	"io"
)

// Main reports that probing needs Linux.
func Main(_ []string, _ io.Reader, out io.Writer) int {
	_, _ = io.WriteString(out, errors.ErrUnsupported.Error()+"\n")
	return 1
}
