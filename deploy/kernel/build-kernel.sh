#!/bin/bash
# Build a small bootable test kernel with the getProcessInfo() system call.
#
#   deploy/kernel/build-kernel.sh 6.1|6.12
#
# Source: Debian's linux-source-<series> package (bookworm for 6.1, trixie
# for 6.12, fetched with apt-get download, never installed). It applies
# patches/<series>/*.patch, configures `make tinyconfig` plus
# config/*.config, and builds bzImage and the static kselftest
# getprocessinfo_test against the patched headers.
#
# Results are cached by a hash of every input (package version, patches,
# fragment, these scripts, compiler) in
#   $SYSCHECKD_CACHE/kernels/<hash>/{bzImage,getprocessinfo_test,syscall-nr,config,inputs}
# (SYSCHECKD_CACHE defaults to /var/cache/syscheckd-test), so a warm run
# does not rebuild. The last line on stdout is the bzImage path; all progress
# goes to stderr. Builds are serialised with a lock: the machine has 2 cores.
# SYSCHECKD_KEEP_BUILD=1 keeps the build tree for inspection.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

[ $# -eq 1 ] || die "usage: $0 6.1|6.12"
series=$1
suite=$(suite_for "$series")
patchdir=$here/patches/$series
[ -d "$patchdir" ] || die "no patches for $series in $patchdir"

need_pkgs build-essential flex bison bc libelf-dev libssl-dev xz-utils kmod

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
if [ -s "$out/bzImage" ]; then
	log "cached: linux-source-$series $pkgver ($key)"
	echo "$out/bzImage"
	exit 0
fi

# One kernel build at a time on this machine.
exec 9>"$SYSCHECKD_CACHE/build/.lock"
flock 9
if [ -s "$out/bzImage" ]; then # built by whoever held the lock
	echo "$out/bzImage"
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

tmp=$out.tmp.$$
rm -rf "$tmp"
mkdir -p "$tmp"
cp arch/x86/boot/bzImage "$tmp/bzImage"
cp tools/testing/selftests/getprocessinfo/getprocessinfo_test "$tmp/"
cp .config "$tmp/config"
cp System.map "$tmp/System.map"
echo "$nr" >"$tmp/syscall-nr"
{
	echo "series=$series"
	echo "package=linux-source-$series $pkgver"
	echo "syscall=getProcessInfo nr=$nr"
	echo "key=$key"
	echo "build_seconds=$(($(date +%s) - start))"
} >"$tmp/inputs"
rm -rf "$out"
mv "$tmp" "$out"
cd /
[ "${SYSCHECKD_KEEP_BUILD:-}" = 1 ] || rm -rf "$build" "$buildlog"
log "built in $(($(date +%s) - start)) s"
echo "$out/bzImage"
