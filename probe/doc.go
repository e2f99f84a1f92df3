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
// # Results
//
// Each probe ends in exactly one Class:
//
//	success            the call returned the expected value and its kernel
//	                   record was read
//	absent             the symbol is missing from kallsyms, or ENOSYS
//	conflict           the number belongs to an upstream system call here
//	errno              the call failed with another errno
//	unexpected_return  the call returned something else than expected
//	kmsg_missing       no matching kernel record within the timeout
//	timeout            the call did not return within the timeout
//	crashed            the worker was killed by a signal or could not run
//
// # Metrics
//
// syscheck_probe_success, syscheck_syscall_available, syscheck_probes_total,
// syscheck_syscall_duration_seconds, syscheck_kmsg_delay_seconds,
// syscheck_last_success_timestamp_seconds (label probe) and
// syscheck_kernel_info. Alert rules and dashboards depend on these names.
package probe
