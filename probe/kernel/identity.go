package kernel

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Where the kernel's files are, under the root given to ReadIdentity and
// ReadHealth.
const (
	notesPath     = "sys/kernel/notes"
	configPath    = "proc/config.gz"
	lockdownPath  = "sys/kernel/security/lockdown"
	taintedPath   = "proc/sys/kernel/tainted"
	oopsCountPath = "sys/kernel/oops_count"
	warnCountPath = "sys/kernel/warn_count"
)

// Size limits: far above what the kernel writes (notes: a few hundred bytes;
// config.gz: tens of KiB), low enough that a wrong root cannot exhaust
// memory or keep a read going forever.
const (
	maxSmallFile  = 64 << 10
	maxConfigFile = 16 << 20
)

// Identity is which kernel build is running. Empty fields could not be read.
type Identity struct {
	// Release, Version and Machine are uname(2)'s, as `uname -r -v -m`.
	Release, Version, Machine string
	// BuildID is the lowercase hex of the GNU build-id note in
	// /sys/kernel/notes: the booted vmlinux's, as `readelf -n` prints it.
	BuildID string
	// ConfigDigest is the SHA-256 (hex) of /proc/config.gz's bytes.
	ConfigDigest string
	// Lockdown is the selected mode of /sys/kernel/security/lockdown:
	// "none", "integrity" or "confidentiality".
	Lockdown string
}

// ReadIdentity reads the running kernel's identity: Release, Version and
// Machine from uname(2), the rest from the files under root ("/" in
// production). Each item it cannot read leaves its field empty and adds an
// error to the list, to be logged; a missing file's error matches
// fs.ErrNotExist.
func ReadIdentity(root string) (Identity, []error) {
	return readIdentity(root, uname)
}

// readIdentity is ReadIdentity with uname(2) injected, of which it keeps
// Release, Version and Machine: a test root cannot change what the system
// call returns.
func readIdentity(root string, uname func() (Identity, error)) (Identity, []error) {
	var id Identity
	u, err := uname()
	if err == nil {
		id.Release, id.Version, id.Machine = u.Release, u.Version, u.Machine
	}
	errs := appendErr(nil, err)

	notes := filepath.Join(root, notesPath)
	b, err := readFile(notes, maxSmallFile)
	if err == nil {
		if id.BuildID, err = BuildIDFromNotes(b); err != nil {
			err = fmt.Errorf("%s: %w", notes, err)
		}
	}
	errs = appendErr(errs, err)

	id.ConfigDigest, err = fileDigest(filepath.Join(root, configPath), maxConfigFile)
	errs = appendErr(errs, err)

	lockdown := filepath.Join(root, lockdownPath)
	b, err = readFile(lockdown, maxSmallFile)
	if err == nil {
		if id.Lockdown, err = parseLockdown(b); err != nil {
			err = fmt.Errorf("%s: %w", lockdown, err)
		}
	}
	errs = appendErr(errs, err)
	return id, errs
}

func appendErr(errs []error, err error) []error {
	if err != nil {
		errs = append(errs, err)
	}
	return errs
}

// parseLockdown returns the selected mode of a lockdown file's
// "none [integrity] confidentiality".
func parseLockdown(b []byte) (string, error) {
	for _, f := range bytes.Fields(b) {
		if len(f) > 2 && f[0] == '[' && f[len(f)-1] == ']' {
			return string(f[1 : len(f)-1]), nil
		}
	}
	return "", fmt.Errorf("no [selected] mode in %q", b)
}

// readFile reads path whole, up to limit bytes.
func readFile(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close() //nolint:errcheck // read-only: closing cannot lose data
	// sysfs and procfs files report sizes of 0 or 4096, not their length:
	// read to EOF.
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err // an *fs.PathError: it names the file
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("read %s: larger than %d bytes", path, limit)
	}
	return b, nil
}

// fileDigest returns the hex SHA-256 of path's bytes, up to limit bytes.
func fileDigest(path string, limit int64) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close() //nolint:errcheck // read-only: closing cannot lose data
	h := sha256.New()
	n, err := io.Copy(h, io.LimitReader(f, limit+1))
	if err != nil {
		return "", err // an *fs.PathError: it names the file
	}
	if n > limit {
		return "", fmt.Errorf("read %s: larger than %d bytes", path, limit)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
