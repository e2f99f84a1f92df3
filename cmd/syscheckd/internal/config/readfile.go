package config

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"golang.org/x/sys/unix"
)

// MaxFileSize bounds the configuration file: 32 probes take a few KB, and
// the YAML tree of a file costs tens of times its size in memory.
const MaxFileSize = 1 << 20

// The errors ReadFile wraps when it refuses a file.
var (
	ErrNotRegular = errors.New("not a regular file")
	ErrTooLarge   = errors.New("over the limit")
)

// ReadFile returns the contents of the regular file at path, which must be
// at most limit bytes. Anything else is refused with a one-line error that
// names the path: a FIFO or a device could block the reader forever or
// never end, and a file over the limit could exhaust memory once parsed.
// Symbolic links are followed.
//
// It takes bounded time on a local file system: it opens nothing but
// regular files, opens them non-blocking, and reads at most limit+1 bytes.
func ReadFile(path string, limit int64) ([]byte, error) {
	limit = max(limit, 0)
	// Stat before opening: opening a device can have effects of its own
	// (a watchdog device arms on open).
	st, err := os.Stat(path)
	if err != nil {
		return nil, pathError("open", path, err)
	}
	if err := regular(path, st, limit); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDONLY|unix.O_NONBLOCK|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, pathError("open", path, err)
	}
	defer f.Close() //nolint:errcheck // read-only: closing cannot lose data
	// The path may name something else by now; what counts is what was opened.
	if st, err = f.Stat(); err != nil {
		return nil, pathError("stat", path, err)
	}
	if err := regular(path, st, limit); err != nil {
		return nil, err
	}
	// Files in /proc and /sys report size 0: the limit holds while reading.
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, pathError("read", path, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s is %w of %s", oneLine(path), ErrTooLarge, sizeString(limit))
	}
	return data, nil
}

// regular refuses what ReadFile does not read.
func regular(path string, st fs.FileInfo, limit int64) error {
	if !st.Mode().IsRegular() {
		return fmt.Errorf("%s is %s, %w", oneLine(path), kind(st.Mode()), ErrNotRegular)
	}
	if st.Size() > limit {
		return fmt.Errorf("%s is %d bytes, %w of %s", oneLine(path), st.Size(), ErrTooLarge, sizeString(limit))
	}
	return nil
}

func kind(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	case m.IsDir():
		return "a directory"
	case m&fs.ModeSocket != 0:
		return "a socket"
	}
	return "of an unknown type"
}

// pathError is *fs.PathError's text with the path kept to one line; the
// cause stays wrapped, for errors.Is(err, fs.ErrNotExist).
func pathError(op, path string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return fmt.Errorf("%s %s: %w", op, oneLine(path), err)
}
