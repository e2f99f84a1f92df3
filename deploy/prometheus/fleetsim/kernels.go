package fleetsim

import (
	"crypto/sha1" //nolint:gosec // a fake build-id has a GNU build-id's shape (SHA-1), no security role
	"encoding/hex"

	"github.com/syscheckd/syscheckd/probe"
	"github.com/syscheckd/syscheckd/probe/kernel"
)

// Build is which kind of kernel a virtual host boots.
type Build int

// The kernel catalogue: the build the fleet's manifest lists, the build
// before it (not in the manifest any more, the system call works), and
// Debian's stock kernel (no system call).
const (
	Current Build = iota
	Previous
	Stock
)

func (b Build) String() string {
	switch b {
	case Current:
		return "current"
	case Previous:
		return "previous"
	case Stock:
		return "stock"
	}
	return "unknown"
}

// Machines are the fleet's two architectures, as uname -m says them.
var Machines = []string{"x86_64", "aarch64"}

// Kernel is one entry of the catalogue: a build for one machine.
type Kernel struct {
	Build    Build
	Identity kernel.Identity
	// Entry is its manifest entry's name; empty for a build the manifest
	// does not list.
	Entry string
	// Absent is the probe's class on this kernel when it lacks the system
	// call (the symbol check decides not to call); "" when it has it.
	Absent probe.Class

	expected func() (string, bool, bool)
}

// Expected is the manifest's verdict on this kernel, as the daemon's
// kernelCheck.expected gives it with a manifest configured: the entry and
// true for a listed build-id, ("", false, true) for any other.
func (k *Kernel) Expected() (name string, matched, configured bool) {
	return k.Entry, k.Entry != "", true
}

// Catalogue returns the kernel of build b for machine (x86_64 or aarch64).
// The releases are realistic; the build-ids are fixed 40-digit hex strings,
// distinct for each build and machine.
func Catalogue(b Build, machine string) *Kernel {
	arch := "amd64"
	if machine == "aarch64" {
		arch = "arm64"
	}
	k := &Kernel{Build: b, Identity: kernel.Identity{Machine: machine}}
	switch b {
	case Current:
		k.Identity.Release = "6.1.119-syscheck3"
		k.Identity.Version = "#1 SMP PREEMPT_DYNAMIC Tue Nov 24 09:12:40 UTC 2026"
		k.Entry = "syscheckd-6.1.119-3-" + arch
	case Previous:
		k.Identity.Release = "6.1.119-syscheck2"
		k.Identity.Version = "#1 SMP PREEMPT_DYNAMIC Mon Oct 19 15:02:11 UTC 2026"
	case Stock:
		// Debian 12's kernel: kallsyms has no sys_getProcessInfo, so the
		// probe reports absent without calling.
		k.Identity.Release = "6.1.0-28-" + arch
		k.Identity.Version = "#1 SMP PREEMPT_DYNAMIC Debian 6.1.119-1 (2024-11-22)"
		k.Absent = probe.Absent
	}
	sum := sha1.Sum([]byte(k.Identity.Release + " " + k.Identity.Version + " " + machine)) //nolint:gosec // see import
	k.Identity.BuildID = hex.EncodeToString(sum[:])
	k.expected = k.Expected
	return k
}

// catalogue holds one *Kernel per build and machine, shared by the hosts
// that run it.
type catalogue map[[2]string]*Kernel

func (c catalogue) get(b Build, machine string) *Kernel {
	key := [2]string{b.String(), machine}
	if k := c[key]; k != nil {
		return k
	}
	k := Catalogue(b, machine)
	c[key] = k
	return k
}
