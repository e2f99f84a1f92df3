// Package systemd holds syscheckd's systemd units and the tests that keep them
// honest; it has no Go API.
//
// syscheckd.service runs the daemon as Type=notify under a transient user with
// CAP_SYSLOG as its only capability, in a sandbox that `systemd-analyze
// security` rates at an exposure of 2.0 or lower. Some hardening options would
// break the daemon without an error at start-up, and the tests fail if one
// comes back:
//
//   - SystemCallFilter= as an allow list denies syscall numbers that
//     libseccomp cannot name, the custom getProcessInfo syscall among them.
//   - ProtectKernelLogs=yes hides /dev/kmsg and drops CAP_SYSLOG.
//   - PrivateDevices=yes builds a /dev without /dev/kmsg.
//   - ProtectKernelTunables=yes and ProcSubset=pid hide /proc/kallsyms.
//   - PrivateUsers=yes confines CAP_SYSLOG to a user namespace, where the
//     kernel does not honour it for /dev/kmsg.
//
// syscheckd.socket optionally lets systemd own :10335 (--web.systemd-socket),
// and the file default becomes /etc/default/syscheckd in the .deb and
// /etc/sysconfig/syscheckd in the .rpm; its ARGS variable carries the
// daemon's flags, and the unit reads both. 50-syscheckd.preset is the .rpm's
// vendor preset (enable syscheckd.service), which its %post applies.
//
// The VM tests (build tag e2e, vm_e2e_test.go and vm_stock_e2e_test.go) prove
// the unit on a real systemd: a Debian bookworm root file system made by
// vm/mkrootfs.sh (debootstrap, cached), the .deb installed by dpkg into a
// disk image by vm/mkimage.sh (mkfs.ext4 -d, nothing mounted), booted under
// QEMU on the patched 6.1 kernel from deploy/kernel/systemd-host and on
// Debian's stock 6.1 kernel. vm/vm-scenario runs the steps inside the guest
// and reports on the serial console. On the patched kernel the guest then
// purges the .deb and installs the .rpm with Debian's rpm, under Fedora's
// catch-all 99-default-disable.preset: with a site preset that disables the
// service it stays disabled and stopped through an upgrade; without, the
// package's preset enables it, and an upgrade restarts it.
package systemd
