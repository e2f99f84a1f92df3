package probe

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
)

// KallsymsPath is where the kernel lists its symbols.
const KallsymsPath = "/proc/kallsyms"

// Symbols is the set of system call names kallsyms lists, without prefix:
// "getpid" stands for sys_getpid, __x64_sys_getpid and the like.
type Symbols struct {
	names map[string]struct{}
	Err   error // why the names could not be read; the set is then empty
}

// ReadSymbols reads the system call names from kallsyms at path. Errors go to
// Symbols.Err: a kernel without kallsyms is still probed, unchecked.
func ReadSymbols(path string) Symbols {
	f, err := os.Open(path)
	if err != nil {
		return Symbols{Err: err}
	}
	defer f.Close() //nolint:errcheck // read-only: closing cannot lose data
	s, err := ParseSymbols(f)
	if err != nil {
		return Symbols{Err: fmt.Errorf("read %s: %w", path, err)}
	}
	if len(s.names) == 0 {
		s.Err = fmt.Errorf("%s lists no system calls (CONFIG_KALLSYMS=n?)", path)
	}
	return s
}

// ParseSymbols keeps the system call entry points of kallsyms lines.
func ParseSymbols(r io.Reader) (Symbols, error) {
	names := make(map[string]struct{})
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		symbol := symbolField(sc.Bytes())
		// Most symbols are not system calls: skip them before allocating.
		if !bytes.Contains(symbol, []byte("sys_")) {
			continue
		}
		if name, ok := syscallName(string(symbol)); ok {
			names[name] = struct{}{}
		}
	}
	if err := sc.Err(); err != nil {
		return Symbols{}, err
	}
	return Symbols{names: names}, nil
}

// symbolField returns NAME from "ADDRESS TYPE NAME [MODULE]", or nil.
func symbolField(line []byte) []byte {
	for range 2 {
		i := bytes.IndexAny(line, " \t")
		if i < 0 {
			return nil
		}
		line = bytes.TrimLeft(line[i:], " \t")
	}
	if i := bytes.IndexAny(line, " \t"); i >= 0 {
		line = line[:i]
	}
	return line
}

// syscallName strips the entry-point prefix: sys_NAME (before 4.17, and the
// original recipe) or SYSCALL_DEFINE's __x64_, __ia32_, __do_, __se_sys_NAME.
func syscallName(symbol string) (string, bool) {
	if rest, ok := strings.CutPrefix(symbol, "sys_"); ok {
		return rest, rest != ""
	}
	rest, ok := strings.CutPrefix(symbol, "__")
	if !ok {
		return "", false
	}
	prefix, name, ok := strings.Cut(rest, "_sys_")
	if !ok || name == "" || !isArchPrefix(prefix) {
		return "", false
	}
	return name, true
}

func isArchPrefix(s string) bool {
	switch s {
	case "x64", "ia32", "x32", "do", "se", "arm64", "riscv", "s390x", "s390":
		return true
	}
	return false
}

// Has reports whether the kernel defines the system call name.
func (s Symbols) Has(name string) bool {
	_, ok := s.names[name]
	return ok
}

// Readable reports whether the kernel's system calls could be listed.
func (s Symbols) Readable() bool { return s.Err == nil && len(s.names) > 0 }

//go:generate internal/gensyscalls/generate.sh

// Decision is the symbol check's verdict: call the number, or report Class.
type Decision struct {
	Call   bool
	Class  Class
	Reason string
}

// Decide checks whether calling nr as the system call symbol is safe and
// meaningful on a kernel for machine (uname -m) with syms. An empty symbol
// turns the check off. A number that upstream assigns on that machine to
// another call whose symbol the kernel has is a conflict: calling it would
// run that call (335 is uretprobe on x86_64 since 6.11, which kills the
// caller). Numbers assigned after upstreamSyscallsSeries are not known, and
// machines without a table are not checked for conflicts: there the symbol
// check alone decides.
func Decide(syms Symbols, machine, symbol string, nr int) Decision {
	if symbol == "" {
		return Decision{Call: true, Reason: "symbol check turned off"}
	}
	if !syms.Readable() {
		return Decision{Call: true, Reason: fmt.Sprintf("cannot check kallsyms (%v); calling in isolation anyway", syms.Err)}
	}
	if upstream, ok := upstreamSyscalls[machine][nr]; ok && upstream != symbol && syms.Has(upstream) {
		return Decision{Class: Conflict, Reason: fmt.Sprintf("syscall %d is %s on this kernel, not %s; not calling it", nr, upstream, symbol)}
	}
	if !syms.Has(symbol) {
		return Decision{Class: Absent, Reason: fmt.Sprintf("kallsyms has no sys_%s: this kernel does not have the system call", symbol)}
	}
	return Decision{Call: true, Reason: fmt.Sprintf("kallsyms lists sys_%s", symbol)}
}
