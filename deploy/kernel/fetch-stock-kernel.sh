#!/bin/bash
# Fetch Debian's stock kernel for a series, without installing it.
#
#   deploy/kernel/fetch-stock-kernel.sh [--arch x86_64|arm64] 6.1|6.12
#
# 6.1 is bookworm's linux-image-6.1.0-*-amd64, 6.12 is trixie's
# linux-image-6.12.*-amd64 (through a private apt sources list); in both
# cases the image that the linux-image-amd64 metapackage currently points
# to. With --arch arm64: linux-image-*-arm64, which linux-image-arm64 points
# to, downloaded through a private apt setup for arm64 (lib.sh's
# foreign_apt; dpkg's architectures are left alone). The package is
# unpacked under $SYSCHECKD_CACHE/stock/<package>_<version>/.
#
# Debian's arm64 vmlinuz (6.1 and 6.12 alike) is the raw, uncompressed
# arm64 Image with its EFI stub (MZ, "ARM\x64" magic at 0x38; no EFI zboot,
# no gzip), which QEMU's -kernel boots as it is. The script checks that
# magic, so that a later packaging change fails here and not at boot.
#
# Debian builds the e1000 driver as a module (only the 8250 serial console,
# gzip initramfs and devtmpfs are built in), so this also unpacks e1000.ko
# and the modules it depends on into modules/ next to the kernel, in load
# order, listed one per line in modules.order; pass each to mkinitramfs.sh
# with -m. The last line on stdout is the vmlinuz path.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

usage="usage: $0 [--arch x86_64|arm64] 6.1|6.12"
arch=x86_64
if [ "${1:-}" = --arch ]; then
	[ $# -ge 2 ] || die "$usage"
	arch=$2
	shift 2
fi
[ $# -eq 1 ] || die "$usage"
series=$1
suite=$(suite_for "$series")
debarch=$(deb_arch "$arch")
need_pkgs kmod xz-utils zstd

run=()
read -r -a run <<<"$(apt_runner "$suite" "$debarch")"
# The metapackage names the current ABI's image package.
pkg=$("${run[@]}" apt-cache depends "linux-image-$debarch" |
	awk -v s="linux-image-$series" '$1 == "Depends:" && index($2, s) == 1 {print $2; exit}')
[ -n "$pkg" ] || die "linux-image-$debarch in $suite does not depend on a linux-image-$series package"
deb=$(fetch_deb "$suite" "$pkg" "$SYSCHECKD_CACHE/debs" "$debarch")
ver=$(dpkg-deb -f "$deb" Version)
out=$SYSCHECKD_CACHE/stock/${pkg}_$ver

if [ ! -s "$out/release" ]; then
	log "unpacking $pkg $ver"
	rm -rf "$out" "$out.tmp"
	mkdir -p "$out.tmp/modules"
	dpkg-deb -x "$deb" "$out.tmp/root"
	vmlinuz=$(find "$out.tmp/root/boot" -name 'vmlinuz-*' | head -1)
	[ -n "$vmlinuz" ] || die "no vmlinuz in $deb"
	release=${vmlinuz##*/vmlinuz-}
	mv "$vmlinuz" "$out.tmp/vmlinuz"
	if [ "$arch" = arm64 ] && [ "$(od -An -c -j56 -N4 "$out.tmp/vmlinuz" | tr -d ' ')" != 'ARMd' ]; then
		die "$pkg: vmlinuz is not a raw arm64 Image (no ARM\\x64 magic at 0x38)"
	fi
	cp "$out.tmp/root/boot/config-$release" "$out.tmp/config"
	moddir=$(find "$out.tmp/root" -type d -path "*/modules/$release" | head -1)

	# Resolve e1000 and its dependencies (depth first, dependencies first).
	order=()
	add_module() {
		local name=$1 ko dep m
		for m in "${order[@]}"; do [ "$m" = "$name" ] && return 0; done
		ko=$(find "$moddir" -name "$name.ko*" | head -1)
		[ -n "$ko" ] || die "module $name not found in $pkg"
		for dep in $(modinfo -F depends "$ko" | tr ',' ' '); do
			add_module "$dep"
		done
		case $ko in
		*.xz) xz -dc "$ko" >"$out.tmp/modules/$name.ko" ;;
		*.zst) zstd -qdc "$ko" >"$out.tmp/modules/$name.ko" ;;
		*) cp "$ko" "$out.tmp/modules/$name.ko" ;;
		esac
		order+=("$name")
	}
	if grep -qx 'CONFIG_E1000=m' "$out.tmp/config"; then
		add_module e1000
	fi
	for m in "${order[@]}"; do echo "$out/modules/$m.ko"; done >"$out.tmp/modules.order"
	echo "$release" >"$out.tmp/release"
	rm -rf "$out.tmp/root"
	mv "$out.tmp" "$out"
fi
log "stock $pkg $ver: $(cat "$out/release"), modules: $(xargs -r -n1 basename <"$out/modules.order" | tr '\n' ' ')"
echo "$out/vmlinuz"
