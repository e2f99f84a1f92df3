// Package kmsg reads the kernel log from /dev/kmsg and matches the records a
// probed system call is expected to printk.
//
// Each read of /dev/kmsg returns one record, "PRIO,SEQ,USEC,FLAGS;TEXT\n"
// followed by optional " KEY=value" continuation lines. PRIO carries the
// syslog facility in its upper bits: the kernel stamps every record written
// from userspace (a write to /dev/kmsg) with LOG_USER, while printk records
// carry LOG_KERN (0). That facility is the only thing a forger cannot choose,
// so a record counts as proof that the kernel ran the code only when its
// facility is 0.
//
// Opening /dev/kmsg needs CAP_SYSLOG when kernel.dmesg_restrict=1 (the
// default on Debian). Without it, the Reader keeps retrying and reports
// syscheck_kmsg_up 0 instead of failing the daemon.
//
// A record becomes readable only once the kernel finalizes it: a printk
// that ends in a newline is final at once, one without stays open for a
// continuation until the next record arrives. The probed system call must
// therefore end its message with "\n", as the getProcessInfo patches do.
//
// Sequence numbers are contiguous, so a gap between two records read is a
// count of records the reader never saw. When the ring buffer overwrote
// records the reader had not read yet, the kernel fails the read with EPIPE
// and moves the position to the oldest record it still holds;
// go-kmsg-parser v2.1.0 does not recognise the wrapped error and closes its
// channel instead. The Reader then reopens at once where a fresh open
// starts, at that oldest record: it skips the records it already read by
// sequence number, counts the gap before the first new one as lost at
// once, and passes the rest on, a probe's record written meanwhile among
// them. Only the first open seeks to the end: older records are not ours.
package kmsg
