#!/bin/bash
# Build a small bootable test kernel with the getProcessInfo() system call.
#
#   deploy/kernel/build-kernel.sh [--previous] 6.1|6.12
#
# Source: Debian's linux-source-<series> package (bookworm for 6.1, trixie
# for 6.12, fetched with apt-get download, never installed). It applies
# patches/<series>/*.patch, configures `make tinyconfig` plus
# config/*.config, and builds bzImage and the static kselftest
# getprocessinfo_test against the patched headers.
#
# Each build makes two kernels from the same tree: "the build" and, right
# after it, "the previous build": the same sources, configuration and
# release (uname -r), relinked with KBUILD_BUILD_VERSION=previous, so that
# only uname -v ("#previous ...") and the GNU build-id differ. Tests use it
# as the custom kernel a host still runs when it did not reboot into the
# new one. Relinking costs seconds where a second build would cost minutes.
#
# Results are cached by a hash of every input (package version, patches,
# fragment, these scripts, compiler) in
#   $SYSCHECKD_CACHE/kernels/<series>-<hash>/
#     bzImage vmlinux System.map config release build-id syscall-nr
#     getprocessinfo_test inputs
#     previous/   the same files for the previous build
# (SYSCHECKD_CACHE defaults to /var/cache/syscheckd-test), so a warm run
# does not rebuild. vmlinux is the ELF file the bzImage was made from, with
# the GNU build-id note (kbuild links with --build-id=sha1) that the running
# kernel shows in /sys/kernel/notes: kernel CI makes the manifest entry from
# it (syscheckd --kernel.print-entry --kernel.vmlinux=...). build-id holds
# the same value as `readelf -n` prints it, release the kernel's uname -r.
# The last line on stdout is the bzImage path (of the previous build with
# --previous); all progress goes to stderr. Builds are serialised with a
# lock: the machine has 2 cores. SYSCHECKD_KEEP_BUILD=1 keeps the build tree
# for inspection.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

usage="usage: $0 [--previous] 6.1|6.12"
variant=''
if [ "${1:-}" = --previous ]; then
	variant=/previous
	shift
fi
[ $# -eq 1 ] || die "$usage"
series=$1
suite=$(suite_for "$series")
patchdir=$here/patches/$series
[ -d "$patchdir" ] || die "no patches for $series in $patchdir"

need_pkgs build-essential binutils flex bison bc libelf-dev libssl-dev xz-utils kmod

# Run from `make test`, the environment carries the outer make's MAKELEVEL
# and MAKEFLAGS. The kselftest's lib.mk only sets OUTPUT to its own directory
# at MAKELEVEL 0; one level down it would link the test to
# /getprocessinfo_test. Each make below starts afresh.
unset MAKELEVEL MAKEFLAGS MFLAGS

mkdir -p "$SYSCHECKD_CACHE"/{debs,kernels,build}
deb=$(fetch_deb "$suite" "linux-source-$series" "$SYSCHECKD_CACHE/debs")
pkgver=$(dpkg-deb -f "$deb" Version)

# Every input that changes the result goes into the key.
key=$(
	{
		echo "linux-source-$series $pkgver"
		gcc --version | head -1
		for f in "$patchdir"/*.patch "$here"/config/*.config "$here/build-kernel.sh" "$here/lib.sh"; do
			echo "== ${f#"$here"/}"
			cat "$f"
		done
	} | sha256sum | cut -c1-16
)
out=$SYSCHECKD_CACHE/kernels/$series-$key
# The result directory appears whole (renamed into place at the end).
if [ -s "$out$variant/bzImage" ]; then
	log "cached: linux-source-$series $pkgver ($key)${variant:+, the previous build}"
	echo "$out$variant/bzImage"
	exit 0
fi

# One kernel build at a time on this machine.
exec 9>"$SYSCHECKD_CACHE/build/.lock"
flock 9
if [ -s "$out$variant/bzImage" ]; then # built by whoever held the lock
	echo "$out$variant/bzImage"
	exit 0
fi

start=$(date +%s)
build=$SYSCHECKD_CACHE/build/$series-$key
buildlog=$build.log
rm -rf "$build" "$build.x"
mkdir -p "$build.x"
log "unpacking linux-source-$series $pkgver"
dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$build.x" --wildcards './usr/src/linux-source-*.tar.xz'
tar -xf "$build.x/usr/src/linux-source-$series.tar.xz" -C "$build.x"
mv "$build.x/linux-source-$series" "$build"
rm -rf "$build.x"
cd "$build"

for p in "$patchdir"/*.patch; do
	log "applying ${p##*/}"
	patch -p1 --forward --quiet <"$p" >&2 || die "${p##*/} does not apply to linux-source-$series $pkgver"
done

mk() { make -j"$(nproc)" ARCH=x86_64 KBUILD_BUILD_USER=syscheckd KBUILD_BUILD_HOST=build "$@"; }

log "configuring: tinyconfig + $(cd "$here/config" && echo *.config)"
{
	mk tinyconfig
	scripts/kconfig/merge_config.sh -m .config "$here"/config/*.config
	mk olddefconfig
} >"$buildlog" 2>&1 || { tail -30 "$buildlog" >&2; die "configuration failed, see $buildlog"; }
# merge_config only warns when Kconfig drops a wanted option: fail instead.
absent=$(grep -h '^CONFIG_.*=' "$here"/config/*.config | while read -r want; do
	grep -qx "$want" .config || echo "$want"
done)
[ -z "$absent" ] || die "options not in the final .config: $absent"

log "building bzImage with -j$(nproc) (log: $buildlog)"
mk bzImage >>"$buildlog" 2>&1 || { tail -40 "$buildlog" >&2; die "kernel build failed, see $buildlog"; }
log "building the kselftest"
{
	mk headers
	make -C tools/testing/selftests/getprocessinfo OUTPUT="$PWD/tools/testing/selftests/getprocessinfo"
} >>"$buildlog" 2>&1 || { tail -40 "$buildlog" >&2; die "kselftest build failed, see $buildlog"; }

nr=$(awk '$3 == "getProcessInfo" {print $1}' arch/x86/entry/syscalls/syscall_64.tbl)
grep -q ' __x64_sys_getProcessInfo$' System.map || die "__x64_sys_getProcessInfo missing from System.map"

# keep DIR WHAT: copy the kernel just built and what describes it to DIR.
keep() {
	local dir=$1 what=$2 id release
	# The GNU build-id note, as `readelf -n` and /sys/kernel/notes show it.
	id=$(readelf -n vmlinux | awk '/Build ID:/ {print $3; exit}')
	[ -n "$id" ] || die "$what: vmlinux has no GNU build-id note"
	release=$(cat include/config/kernel.release)
	mkdir -p "$dir"
	cp arch/x86/boot/bzImage vmlinux System.map "$dir/"
	cp .config "$dir/config"
	cp tools/testing/selftests/getprocessinfo/getprocessinfo_test "$dir/"
	echo "$nr" >"$dir/syscall-nr"
	echo "$id" >"$dir/build-id"
	echo "$release" >"$dir/release"
	{
		echo "series=$series"
		echo "package=linux-source-$series $pkgver"
		echo "syscall=getProcessInfo nr=$nr"
		echo "key=$key"
		echo "build=$what"
		echo "release=$release"
		echo "version=$(sed -n 's/^#define UTS_VERSION "\(.*\)"$/\1/p' include/generated/utsversion.h)"
		echo "build_id=$id"
		echo "build_seconds=$(($(date +%s) - start))"
	} >"$dir/inputs"
	log "$what: $release, build-id $id"
}

tmp=$out.tmp.$$
rm -rf "$tmp"
keep "$tmp" "the build"

# The previous build: the same tree relinked with another uname -v, hence
# another build-id; only init/version.o is recompiled.
log "relinking as the previous build (KBUILD_BUILD_VERSION=previous)"
mk KBUILD_BUILD_VERSION=previous bzImage >>"$buildlog" 2>&1 || { tail -40 "$buildlog" >&2; die "previous build failed, see $buildlog"; }
keep "$tmp/previous" "the previous build"
[ "$(cat "$tmp/build-id")" != "$(cat "$tmp/previous/build-id")" ] || die "the previous build has the build's build-id"
[ "$(cat "$tmp/release")" = "$(cat "$tmp/previous/release")" ] || die "the previous build has another release"

rm -rf "$out"
mv "$tmp" "$out"
cd /
[ "${SYSCHECKD_KEEP_BUILD:-}" = 1 ] || rm -rf "$build" "$buildlog"
log "built in $(($(date +%s) - start)) s"
echo "$out$variant/bzImage"
