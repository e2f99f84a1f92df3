// Package exepages unmaps, in the calling process, the pages of its own
// executable that only its start-up needed.
//
// The kernel maps a file's pages 64 KiB around each page a process touches
// (fault-around), and the initialisers of the 300-odd packages syscheckd
// links touch code in most 64 KiB windows of the binary: after start-up
// about 9 MiB of it was mapped, and stayed mapped, in the daemon and in
// each probe worker, though most of it is code that never runs again.
// Drop unmaps the binary's read-only segments (code, constants, function
// tables); the pages stay in the page cache, those used again come back
// on their next use by a minor fault, and the others are cache the kernel
// may reclaim like any other. docs/performance.md has the measurements.
//
// It imports only what the probe worker already does, as the worker
// calls it too.
package exepages

import (
	"bytes"
	"os"
	"strconv"
	"syscall"
)

// Drop unmaps this process's read-only private mappings of its executable.
// Writable segments are left alone: dropping them would lose the program's
// variables. It saves memory and nothing depends on it, so it reports no
// error; it does nothing where /proc is not mounted.
func Drop() {
	var st syscall.Stat_t
	if err := syscall.Stat("/proc/self/exe", &st); err != nil {
		return
	}
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		return
	}
	for _, r := range readOnly(maps, st.Dev, st.Ino) {
		_, _, _ = syscall.Syscall(syscall.SYS_MADVISE, r[0], r[1]-r[0], syscall.MADV_DONTNEED)
	}
}

// readOnly returns the [start, end) address ranges of the mappings listed in
// maps (/proc/self/maps) of the file dev, ino that are neither writable nor
// shared.
func readOnly(maps []byte, dev, ino uint64) [][2]uintptr {
	var ranges [][2]uintptr
	for line := range bytes.Lines(maps) {
		// 00400000-00a00000 r-xp 00000000 fd:01 1234  /usr/bin/syscheckd
		f := bytes.Fields(line)
		if len(f) < 6 {
			continue
		}
		if perms := f[1]; len(perms) != 4 || perms[1] != '-' || perms[3] != 'p' {
			continue
		}
		if n, err := strconv.ParseUint(string(f[4]), 10, 64); err != nil || n != ino {
			continue
		}
		if d, ok := parseDev(f[3]); !ok || d != dev {
			continue
		}
		start, end, _ := bytes.Cut(f[0], []byte{'-'})
		lo, err1 := strconv.ParseUint(string(start), 16, 64)
		hi, err2 := strconv.ParseUint(string(end), 16, 64)
		if err1 != nil || err2 != nil || hi <= lo {
			continue
		}
		ranges = append(ranges, [2]uintptr{uintptr(lo), uintptr(hi)})
	}
	return ranges
}

// parseDev reads a device as maps shows it, "fd:01" (hexadecimal major and
// minor), and encodes it as stat's st_dev does (glibc's makedev).
func parseDev(s []byte) (uint64, bool) {
	major, minor, ok := bytes.Cut(s, []byte{':'})
	if !ok {
		return 0, false
	}
	maj, err1 := strconv.ParseUint(string(major), 16, 32)
	mnr, err2 := strconv.ParseUint(string(minor), 16, 32)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return maj&0xfff<<8 | maj&^0xfff<<32 | mnr&0xff | mnr&^0xff<<12, true
}
