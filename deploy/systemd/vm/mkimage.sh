#!/bin/bash
# Turn a root file system from mkrootfs.sh into a raw ext4 disk image for
# QEMU, with packages installed and files added. Nothing is mounted: the
# tree is copied, changed in a chroot, and written with mkfs.ext4 -d.
#
#   deploy/systemd/vm/mkimage.sh -r ROOTFS -o IMAGE [options]
#     -i DEB        dpkg -i DEB in the chroot (repeatable, in order). The
#                   maintainer scripts see no running systemd there, so they
#                   only enable units.
#     -a SRC:DEST   copy SRC to DEST in the image (repeatable)
#     -e UNIT       systemctl enable UNIT in the chroot (repeatable)
#     -s SIZE       image size for mkfs.ext4 (default 1500M, sparse)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=SCRIPTDIR/../../kernel/lib.sh
. "$here/../../kernel/lib.sh"

rootfs='' image='' size=1500M debs=() adds=() units=()
while [ $# -gt 0 ]; do
	case $1 in
	-r) rootfs=$2; shift 2 ;;
	-o) image=$2; shift 2 ;;
	-i) debs+=("$2"); shift 2 ;;
	-a) adds+=("$2"); shift 2 ;;
	-e) units+=("$2"); shift 2 ;;
	-s) size=$2; shift 2 ;;
	*) die "unknown argument '$1'" ;;
	esac
done
if [ -z "$rootfs" ] || [ -z "$image" ]; then
	die "usage: $0 -r ROOTFS -o IMAGE [-i DEB] [-a SRC:DEST] [-e UNIT]"
fi
[ -f "$rootfs/.complete" ] || die "$rootfs is not a finished mkrootfs.sh tree"
command -v mkfs.ext4 >/dev/null || need_pkgs e2fsprogs

tree=$(mktemp -d "${image}.tree.XXXXXX")
trap 'rm -rf "$tree"' EXIT
cp -a "$rootfs/." "$tree/"
rm -f "$tree/.complete"

in_root() { chroot "$tree" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"; }

for a in ${adds[@]+"${adds[@]}"}; do
	src=${a%%:*} dest=${a#*:}
	mkdir -p "$tree$(dirname "$dest")"
	cp "$src" "$tree$dest"
done
for d in ${debs[@]+"${debs[@]}"}; do
	cp "$d" "$tree/tmp/install.deb"
	in_root dpkg -i /tmp/install.deb >&2 || die "dpkg -i ${d##*/} failed in the chroot"
	rm -f "$tree/tmp/install.deb"
done
for u in ${units[@]+"${units[@]}"}; do
	in_root systemctl enable "$u" >&2 || die "systemctl enable $u failed in the chroot"
done

rm -f "$image"
mkfs.ext4 -q -F -L root -d "$tree" "$image" "$size" >&2 || die "mkfs.ext4 -d failed"
echo "$image"
