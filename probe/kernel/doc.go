// Package kernel reads what the running kernel says about itself, without
// privileges: which build it is and how healthy it is.
//
// # Identity
//
// A patched kernel that a host failed to reboot into, or that the
// bootloader replaced with the previous custom build, still has the custom
// system call, so a probe alone cannot tell them apart. The build-id can:
// kbuild links vmlinux with --build-id=sha1, and the kernel exposes its own
// ELF notes in /sys/kernel/notes (mode 0444), where the GNU build-id note is
// the same SHA-1 that `readelf -n vmlinux` prints for the booted vmlinux.
// BuildIDFromELF reads it from a vmlinux, so CI can write down the builds
// it made and a host can be checked against them. Release and version
// strings are not identities: two builds can share both.
//
// The identity cannot change without a reboot, so it is read once. Beside
// it, /proc/config.gz (only with CONFIG_IKCONFIG_PROC) gives a digest of the
// build's configuration, and /sys/kernel/security/lockdown (only where
// securityfs is mounted) the lockdown mode.
//
// # Health
//
// The taint mask (/proc/sys/kernel/tainted) and the oops and warning counts
// (/sys/kernel/oops_count and /sys/kernel/warn_count: Linux 6.2 and later,
// and Debian's 6.1) can grow at any time, so they are read at every scrape.
//
// Every file here is world-readable; a file a kernel lacks is a fact to log
// and an absent series, never a guess.
package kernel
