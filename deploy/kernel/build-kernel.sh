#!/bin/bash
# Build a small bootable test kernel with the getProcessInfo() system call.
#
#   deploy/kernel/build-kernel.sh [--arch x86_64|arm64] [--previous] 6.1|6.12
#
# --arch arm64 cross-builds an arm64 Image instead of the x86_64 bzImage,
# with Debian's gcc-aarch64-linux-gnu, config/arm64/*.config merged after
# config/*.config, and the kselftest linked against libc6-dev-arm64-cross;
# its results go to kernels/<series>-arm64-<hash>/ (Image instead of
# bzImage, the other files the same). x86_64 is the default and its
# directory names stay <series>-<hash>.
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

usage="usage: $0 [--arch x86_64|arm64] [--previous] 6.1|6.12"
variant='' arch=x86_64
while [ $# -gt 1 ]; do
	case $1 in
	--previous) variant=/previous; shift ;;
	--arch) arch=$2; shift 2 ;;
	*) die "$usage" ;;
	esac
done
[ $# -eq 1 ] || die "$usage"
case $arch in
x86_64) karch=x86_64 cross='' image=bzImage imagepath=arch/x86/boot/bzImage symprefix=__x64_sys_ tag='' ;;
arm64 | aarch64)
	arch=arm64 karch=arm64 cross=aarch64-linux-gnu- image=Image imagepath=arch/arm64/boot/Image
	symprefix=__arm64_sys_ tag=-arm64
	;;
*) die "unsupported architecture '$arch' (want x86_64 or arm64)" ;;
esac
series=$1
suite=$(suite_for "$series")
patchdir=$here/patches/$series
[ -d "$patchdir" ] || die "no patches for $series in $patchdir"

need_pkgs build-essential binutils flex bison bc libelf-dev libssl-dev xz-utils kmod
fragments=("$here"/config/*.config)
if [ "$arch" = arm64 ]; then
	need_pkgs gcc-aarch64-linux-gnu libc6-dev-arm64-cross
	fragments+=("$here"/config/arm64/*.config)
fi

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
		if [ "$arch" != x86_64 ]; then
			echo "arch=$arch"
			"${cross}gcc" --version | head -1
		fi
		for f in "$patchdir"/*.patch "${fragments[@]}" "$here/build-kernel.sh" "$here/lib.sh"; do
			echo "== ${f#"$here"/}"
			cat "$f"
		done
	} | sha256sum | cut -c1-16
)
out=$SYSCHECKD_CACHE/kernels/$series$tag-$key
# The result directory appears whole (renamed into place at the end).
if [ -s "$out$variant/$image" ]; then
	log "cached: linux-source-$series $pkgver $arch ($key)${variant:+, the previous build}"
	echo "$out$variant/$image"
	exit 0
fi

# One kernel build at a time on this machine.
exec 9>"$SYSCHECKD_CACHE/build/.lock"
flock 9
if [ -s "$out$variant/$image" ]; then # built by whoever held the lock
	echo "$out$variant/$image"
	exit 0
fi

start=$(date +%s)
build=$SYSCHECKD_CACHE/build/$series$tag-$key
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

mk() { make -j"$(nproc)" ARCH=$karch ${cross:+CROSS_COMPILE=$cross} KBUILD_BUILD_USER=syscheckd KBUILD_BUILD_HOST=build "$@"; }

log "configuring $arch: tinyconfig + $(for f in "${fragments[@]}"; do printf '%s ' "${f#"$here"/config/}"; done)"
{
	mk tinyconfig
	scripts/kconfig/merge_config.sh -m .config "${fragments[@]}"
	mk olddefconfig
} >"$buildlog" 2>&1 || { tail -30 "$buildlog" >&2; die "configuration failed, see $buildlog"; }
# merge_config only warns when Kconfig drops a wanted option: fail instead.
absent=$(grep -h '^CONFIG_.*=' "${fragments[@]}" | while read -r want; do
	grep -qx "$want" .config || echo "$want"
done)
[ -z "$absent" ] || die "options not in the final .config: $absent"

log "building $image with -j$(nproc) (log: $buildlog)"
mk "$image" >>"$buildlog" 2>&1 || { tail -40 "$buildlog" >&2; die "kernel build failed, see $buildlog"; }
log "building the kselftest"
{
	mk headers
	make -C tools/testing/selftests/getprocessinfo ${cross:+ARCH=$karch CROSS_COMPILE=$cross} \
		OUTPUT="$PWD/tools/testing/selftests/getprocessinfo"
} >>"$buildlog" 2>&1 || { tail -40 "$buildlog" >&2; die "kselftest build failed, see $buildlog"; }

if [ "$arch" = x86_64 ]; then
	nr=$(awk '$3 == "getProcessInfo" {print $1}' arch/x86/entry/syscalls/syscall_64.tbl)
else
	# The number as userspace sees it: the uapi headers just installed
	# (asm/unistd_64.h from scripts/syscall.tbl in 6.12, asm-generic/unistd.h in 6.1).
	nr=$(grep -rhE '^#define __NR_getProcessInfo [0-9]+$' usr/include | awk '{print $3; exit}')
fi
[ -n "$nr" ] || die "no number for getProcessInfo in the $arch build"
grep -q " ${symprefix}getProcessInfo\$" System.map || die "${symprefix}getProcessInfo missing from System.map"

# keep DIR WHAT: copy the kernel just built and what describes it to DIR.
keep() {
	local dir=$1 what=$2 id release
	# The GNU build-id note, as `readelf -n` and /sys/kernel/notes show it.
	id=$(readelf -n vmlinux | awk '/Build ID:/ {print $3; exit}')
	[ -n "$id" ] || die "$what: vmlinux has no GNU build-id note"
	release=$(cat include/config/kernel.release)
	mkdir -p "$dir"
	cp "$imagepath" vmlinux System.map "$dir/"
	cp .config "$dir/config"
	cp tools/testing/selftests/getprocessinfo/getprocessinfo_test "$dir/"
	echo "$nr" >"$dir/syscall-nr"
	echo "$id" >"$dir/build-id"
	echo "$release" >"$dir/release"
	{
		echo "series=$series"
		[ "$arch" = x86_64 ] || echo "arch=$arch"
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
mk KBUILD_BUILD_VERSION=previous "$image" >>"$buildlog" 2>&1 || { tail -40 "$buildlog" >&2; die "previous build failed, see $buildlog"; }
keep "$tmp/previous" "the previous build"
[ "$(cat "$tmp/build-id")" != "$(cat "$tmp/previous/build-id")" ] || die "the previous build has the build's build-id"
[ "$(cat "$tmp/release")" = "$(cat "$tmp/previous/release")" ] || die "the previous build has another release"

rm -rf "$out"
mv "$tmp" "$out"
cd /
[ "${SYSCHECKD_KEEP_BUILD:-}" = 1 ] || rm -rf "$build" "$buildlog"
log "built in $(($(date +%s) - start)) s"
echo "$out$variant/$image"
