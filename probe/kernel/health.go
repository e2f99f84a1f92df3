package kernel

import (
	"bytes"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
)

// Health is what the kernel reports about its own trouble since boot. A
// value whose Present is false could not be read; Errs says why.
type Health struct {
	// Tainted is the taint mask of /proc/sys/kernel/tainted: 0 is an
	// untainted kernel; TaintFlags names the bits.
	Tainted        uint64
	TaintedPresent bool
	// OopsCount and WarnCount count oopses and WARN()s since boot, from
	// /sys/kernel/oops_count and /sys/kernel/warn_count: Linux 6.2 and
	// later (and Debian's 6.1); older kernels lack both files.
	OopsCount        uint64
	OopsCountPresent bool
	WarnCount        uint64
	WarnCountPresent bool
	// Errs holds one error per value not present; a missing file's matches
	// fs.ErrNotExist.
	Errs []error
}

// ReadHealth reads the kernel's health from the files under root ("/" in
// production).
func ReadHealth(root string) Health {
	var h Health
	read := func(rel string, v *uint64, present *bool) {
		n, err := readNumber(filepath.Join(root, rel))
		if err != nil {
			h.Errs = append(h.Errs, err)
			return
		}
		*v, *present = n, true
	}
	read(taintedPath, &h.Tainted, &h.TaintedPresent)
	read(oopsCountPath, &h.OopsCount, &h.OopsCountPresent)
	read(warnCountPath, &h.WarnCount, &h.WarnCountPresent)
	return h
}

// readNumber reads a file holding one decimal number and a newline, as
// the kernel writes them.
func readNumber(path string) (uint64, error) {
	b, err := readFile(path, maxSmallFile)
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseUint(string(bytes.TrimSpace(b)), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	return n, nil
}

// TaintBit is one bit of the kernel's taint mask.
type TaintBit struct {
	Bit uint
	// Letter is the bit's letter in the kernel's "Tainted:" line.
	Letter string
	// Meaning is what set the bit, after the kernel's
	// Documentation/admin-guide/tainted-kernels.rst.
	Meaning string
}

// taintBits are the bits Linux 6.15 defines (include/linux/panic.h), in
// order: bit i is taintBits[i].
var taintBits = [...]TaintBit{
	{0, "P", "a proprietary module was loaded (G in the Tainted: line when not)"},
	{1, "F", "a module was force loaded"},
	{2, "S", "the kernel runs on an out-of-specification system"},
	{3, "R", "a module was force unloaded"},
	{4, "M", "the processor reported a machine check exception"},
	{5, "B", "a bad page was referenced or a page had unexpected flags"},
	{6, "U", "a userspace application requested a taint"},
	{7, "D", "the kernel died recently: an oops or BUG"},
	{8, "A", "an ACPI table was overridden by the user"},
	{9, "W", "the kernel issued a warning"},
	{10, "C", "a staging driver was loaded"},
	{11, "I", "a workaround for a platform firmware bug was applied"},
	{12, "O", "an externally-built (out-of-tree) module was loaded"},
	{13, "E", "an unsigned module was loaded"},
	{14, "L", "a soft lockup occurred"},
	{15, "K", "the kernel has been live patched"},
	{16, "X", "auxiliary taint, defined by and for distributions"},
	{17, "T", "the kernel was built with the struct randomization plugin"},
	{18, "N", "an in-kernel test has been run"},
	{19, "J", "userspace used a mutating debug operation in fwctl"},
}

// TaintBits returns the taint bits the kernel documents, lowest first.
func TaintBits() []TaintBit { return slices.Clone(taintBits[:]) }

// TaintFlags returns the letter of each bit set in mask, lowest bit first;
// a bit newer than this list appears as "bit" and its number, e.g. "bit20".
// An untainted kernel (mask 0) has none.
func TaintFlags(mask uint64) []string {
	var flags []string
	for bit := range uint(64) {
		if mask&(1<<bit) == 0 {
			continue
		}
		if bit < uint(len(taintBits)) {
			flags = append(flags, taintBits[bit].Letter)
		} else {
			flags = append(flags, "bit"+strconv.FormatUint(uint64(bit), 10))
		}
	}
	return flags
}
