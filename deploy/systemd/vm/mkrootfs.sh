#!/bin/bash
# Make (or take from the cache) a minimal Debian bookworm root file system
# with systemd as init, for booting under QEMU in the systemd VM tests.
#
#   deploy/systemd/vm/mkrootfs.sh [patched|stock]
#
# patched (the default) is debootstrap --variant=minbase with systemd, udev
# and dbus (and rpm, to install the .rpm too), set up for a serial console
# and QEMU's user network; it boots on
# the patched kernel from deploy/kernel/systemd-host/build-kernel.sh, which
# has every driver built in. stock adds Debian's own 6.1 kernel
# (linux-image-amd64 with its initramfs and modules), installed by apt in
# the chroot; it boots with the /boot/vmlinuz and /boot/initrd.img inside it.
#
# The tree is cached by a hash of this script in
#   $SYSCHECKD_CACHE/rootfs/<flavour>-<hash>/
# (a directory owned by root; only mkimage.sh reads it). The last line on
# stdout is its path; progress goes to stderr. Nothing is mounted: the
# chroot steps need no /proc.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../../kernel/lib.sh
. "$here/../../kernel/lib.sh"

flavour=${1:-patched}
case $flavour in
patched) include=systemd,systemd-sysv,udev,dbus,rpm ;;
stock) include=systemd,systemd-sysv,udev,dbus,kmod,initramfs-tools,linux-image-amd64 ;;
*) die "usage: $0 [patched|stock]" ;;
esac
mirror=http://deb.debian.org/debian

need_pkgs debootstrap

key=$(cat "$0" | sha256sum | cut -c1-16)
out=$SYSCHECKD_CACHE/rootfs/$flavour-$key
if [ -f "$out/.complete" ]; then
	log "cached: $flavour ($key)"
	echo "$out"
	exit 0
fi

mkdir -p "$SYSCHECKD_CACHE/rootfs"
exec 9>"$SYSCHECKD_CACHE/rootfs/.lock"
flock 9
if [ -f "$out/.complete" ]; then
	echo "$out"
	exit 0
fi

start=$(date +%s)
tmp=$out.tmp
rm -rf "$tmp"
log "debootstrap bookworm ($flavour: $include)"
debootstrap --variant=minbase --include="$include" bookworm "$tmp" "$mirror" >"$tmp.log" 2>&1 ||
	{ tail -30 "$tmp.log" >&2; die "debootstrap failed, see $tmp.log"; }

in_root() { chroot "$tmp" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 "$@"; }

# A fixed machine-id: no first-boot preset run that could re-enable or
# disable units behind the test's back.
echo 5ec0c4ecd5ec0c4ecd5ec0c4ecd5ec0c >"$tmp/etc/machine-id"
echo syscheckd-vm >"$tmp/etc/hostname"
printf '/dev/vda / ext4 rw,relatime 0 1\n' >"$tmp/etc/fstab"
# QEMU's user network: static address, no DHCP wait; systemd-networkd is
# part of the systemd package. No LLDP: it needs AF_PACKET, which the patched
# kernel leaves out, and networkd fails the whole link without it.
cat >"$tmp/etc/systemd/network/10-qemu.network" <<-NET
	[Match]
	Name=e*
	[Network]
	Address=10.0.2.15/24
	Gateway=10.0.2.2
	LinkLocalAddressing=no
	LLDP=no
	EmitLLDP=no
NET
in_root systemctl enable systemd-networkd.service >&2
# Nothing waits for the network; only the console talks to the test. No
# login prompt on the serial console either: it would interleave with the
# markers the test reads.
in_root systemctl mask systemd-networkd-wait-online.service serial-getty@ttyS0.service getty@tty1.service >&2
in_root apt-get clean
rm -rf "$tmp"/var/lib/apt/lists/* "$tmp"/var/cache/apt/*.bin
if [ "$flavour" = stock ]; then
	ls "$tmp"/boot/vmlinuz-* "$tmp"/boot/initrd.img-* >&2 || die "no kernel or initramfs in /boot"
fi
touch "$tmp/.complete"
rm -rf "$out"
mv "$tmp" "$out"
rm -f "$tmp.log"
log "made in $(($(date +%s) - start)) s"
echo "$out"
