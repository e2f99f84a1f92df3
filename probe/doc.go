// Package probe proves that a custom system call is present and working on
// the running kernel: it checks the kernel's symbols, calls the system call
// in a separate worker process, and waits for the kernel log record the
// call is meant to printk.
//
// # Why the checks and the worker
//
// A custom system call number is only a convention between a patched kernel
// and syscheckd. On a stock kernel the same number may belong to an upstream
// system call: on x86_64 since Linux 6.11, 335 (the number the original
// getProcessInfo recipe used) is uretprobe, which kills its caller with
// SIGILL. So a probe first reads /proc/kallsyms and refuses to call a number
// that belongs to an upstream system call on this kernel (result conflict),
// or a system call whose symbol is missing (result absent). When kallsyms
// cannot be read, it calls anyway, but never in the daemon's own process: a
// worker (syscheckd re-executed) makes the call, so a call that kills its
// caller or never returns costs one worker, not the daemon.
//
// # Results and metrics
//
// Each probe ends in exactly one Class, the value of the result label. The
// classes, and the metrics that count them, are listed once, in README.md's
// Results and Metrics tables, which a test holds to the code.
package probe
