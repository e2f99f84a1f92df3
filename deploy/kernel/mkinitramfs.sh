#!/bin/bash
# Build a gzip'd cpio initramfs: busybox-static, an /init for test guests,
# and whatever files the caller adds.
#
#   deploy/kernel/mkinitramfs.sh [--arch x86_64|arm64] -o OUT.cpio.gz [options]
#     --arch ARCH            the guest's architecture (default x86_64, the
#                            machine's busybox-static); arm64 takes busybox
#                            from bookworm's busybox-static:arm64 package,
#                            downloaded and unpacked, not installed
#     -a, --add SRC[:DEST]   copy a file in (DEST defaults to /bin/<name>);
#                            repeatable, e.g. a static syscheckd binary and
#                            getprocessinfo_test
#     -m, --module KO        a kernel module to insmod at boot, in the order
#                            given (.ko, .ko.xz or .ko.zst; unpacked here)
#     -r, --run-script FILE  install FILE as /init.d/run (see below)
#
# The /init it writes:
#   1. mounts /proc, /sys, /dev (devtmpfs), /tmp and /run (tmpfs);
#   2. insmods the modules (stock Debian kernels build e1000 as a module);
#   3. brings eth0 up as 10.0.2.15/24 with gateway 10.0.2.2 (QEMU user net)
#      unless the kernel command line says syscheckd.net=off;
#   4. runs every executable in /init.d/ in name order, then the command
#      from the kernel command line, if any:
#        syscheckd.run=/bin/getprocessinfo_test
#        syscheckd.run="/bin/syscheckd --web.listen-address=:10335"
#      with syscheckd.timeout=SECONDS to stop each of them after that long;
#   5. syncs and runs `reboot -f` (boot QEMU with -no-reboot so it exits).
# It prints markers on the console that tests can wait for:
#   SYSCHECKD-INIT: start | SYSCHECKD-INIT: kernel <release>
#   SYSCHECKD-INIT: insmod <module> ok|failed
#   SYSCHECKD-NET: up 10.0.2.15/24 via 10.0.2.2 | SYSCHECKD-NET: no eth0 | ...
#   SYSCHECKD-RUN: begin <command>
#   SYSCHECKD-RUN: end rc=<exit code> <command>
#   SYSCHECKD-INIT: done
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

out='' adds=() mods=() runscript='' arch=x86_64
while [ $# -gt 0 ]; do
	case $1 in
	--arch) arch=$2; shift 2 ;;
	-o | --output) out=$2; shift 2 ;;
	-a | --add) adds+=("$2"); shift 2 ;;
	-m | --module) mods+=("$2"); shift 2 ;;
	-r | --run-script) runscript=$2; shift 2 ;;
	-h | --help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
	*) die "unknown argument '$1' (see --help)" ;;
	esac
done
[ -n "$out" ] || die "usage: $0 -o OUT.cpio.gz [-a SRC[:DEST]]... [-m KO]... [-r FILE]"

need_pkgs busybox-static cpio gzip xz-utils zstd
busybox=/bin/busybox
file -b "$busybox" 2>/dev/null | grep -q dynamic && die "$busybox is not static (install busybox-static)"
# The applets to link: the machine's busybox lists them (it cannot run a
# foreign one); Debian builds busybox-static with one configuration on
# every architecture.
applets=$("$busybox" --list)
if [ "$(deb_arch "$arch")" != amd64 ]; then
	debarch=$(deb_arch "$arch")
	deb=$(fetch_deb bookworm busybox-static "$SYSCHECKD_CACHE/debs" "$debarch")
	bbdir=$SYSCHECKD_CACHE/busybox/$(basename "$deb" .deb)
	if [ ! -s "$bbdir/busybox" ]; then
		rm -rf "$bbdir.tmp"
		mkdir -p "$bbdir.tmp"
		dpkg-deb -x "$deb" "$bbdir.tmp/root"
		mv "$bbdir.tmp/root/bin/busybox" "$bbdir.tmp/busybox"
		rm -rf "$bbdir.tmp/root" "$bbdir"
		mv "$bbdir.tmp" "$bbdir"
	fi
	busybox=$bbdir/busybox
fi

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,sbin,dev,proc,sys,tmp,run,root,etc,init.d,lib/modules/syscheckd}
cp "$busybox" "$root/bin/busybox"
for applet in $applets; do
	[ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"
done
# The kernel opens /dev/console for init before /init mounts devtmpfs.
if [ "$(id -u)" = 0 ]; then
	mknod -m 600 "$root/dev/console" c 5 1
	mknod -m 666 "$root/dev/null" c 1 3
fi
echo 'root:x:0:0:root:/root:/bin/sh' >"$root/etc/passwd"
echo 'root:x:0:' >"$root/etc/group"
printf '127.0.0.1 localhost\n10.0.2.2 host\n' >"$root/etc/hosts"

for a in "${adds[@]}"; do
	src=${a%%:*}
	dest=/bin/${src##*/}
	[ "$a" != "$src" ] && dest=${a#*:}
	[ -f "$src" ] || die "no such file: $src"
	mkdir -p "$root$(dirname "$dest")"
	cp -L "$src" "$root$dest"
done

i=0
for m in "${mods[@]}"; do
	[ -f "$m" ] || die "no such module: $m"
	i=$((i + 1))
	base=${m##*/}
	dest=$root/lib/modules/syscheckd/$(printf '%02d' $i)-${base%%.ko*}.ko
	case $m in
	*.ko.xz) xz -dc "$m" >"$dest" ;;
	*.ko.zst) zstd -qdc "$m" >"$dest" ;;
	*.ko.gz) gzip -dc "$m" >"$dest" ;;
	*.ko) cp "$m" "$dest" ;;
	*) die "not a kernel module: $m" ;;
	esac
done

if [ -n "$runscript" ]; then
	[ -f "$runscript" ] || die "no such file: $runscript"
	cp "$runscript" "$root/init.d/run"
	chmod 755 "$root/init.d/run"
fi

cat >"$root/init" <<'INIT'
#!/bin/sh
# /init for syscheckd test guests (written by deploy/kernel/mkinitramfs.sh).
export PATH=/bin:/sbin HOME=/root
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
# Start on a fresh line: the firmware leaves escape sequences on the console.
echo
echo "SYSCHECKD-INIT: start"
echo "SYSCHECKD-INIT: kernel $(uname -r)"

cmdline=$(cat /proc/cmdline)
# param NAME: value of NAME=... or NAME="..." on the kernel command line
param() {
	case " $cmdline" in
	*" $1=\""*) v=${cmdline#*"$1=\""}; echo "${v%%\"*}" ;;
	*" $1="*) v=${cmdline#*"$1="}; echo "${v%% *}" ;;
	esac
}

for m in /lib/modules/syscheckd/*.ko; do
	[ -e "$m" ] || continue
	if insmod "$m"; then
		echo "SYSCHECKD-INIT: insmod ${m##*/} ok"
	else
		echo "SYSCHECKD-INIT: insmod ${m##*/} failed"
	fi
done

ip link set lo up
if [ "$(param syscheckd.net)" = off ]; then
	echo "SYSCHECKD-NET: off"
elif [ -e /sys/class/net/eth0 ]; then
	if ip link set eth0 up && ip addr add 10.0.2.15/24 dev eth0 &&
		ip route add default via 10.0.2.2; then
		echo "SYSCHECKD-NET: up 10.0.2.15/24 via 10.0.2.2"
	else
		echo "SYSCHECKD-NET: failed"
	fi
else
	echo "SYSCHECKD-NET: no eth0"
fi

timeout=$(param syscheckd.timeout)
run() {
	echo "SYSCHECKD-RUN: begin $*"
	if [ -n "$timeout" ]; then
		timeout -s TERM "$timeout" sh -c "$*"
	else
		sh -c "$*"
	fi
	echo "SYSCHECKD-RUN: end rc=$? $*"
}
for s in /init.d/*; do
	[ -x "$s" ] && run "$s"
done
cmd=$(param syscheckd.run)
[ -n "$cmd" ] && run "$cmd"

echo "SYSCHECKD-INIT: done"
sync
reboot -f
# reboot -f should not return; keep PID 1 alive so the kernel does not panic.
while :; do sleep 3600; done
INIT
chmod 755 "$root/init"

mkdir -p "$(dirname "$out")"
(cd "$root" && find . -print0 | LC_ALL=C sort -z |
	cpio --null -o -H newc --owner=0:0 --quiet) | gzip -9n >"$out.tmp"
mv "$out.tmp" "$out"
log "wrote $out ($(du -h "$out" | cut -f1))"
echo "$out"
