#!/bin/bash
# Regenerates probe/upstream_syscalls.go from the syscall tables of the
# newest kernel syscheckd's tests build (Debian's linux-source-6.12, the
# package deploy/kernel/build-kernel.sh builds from).
#
#   probe/internal/gensyscalls/generate.sh [OUTPUT]
#
# OUTPUT defaults to probe/upstream_syscalls.go. Needs root, as the kernel
# builds do: the package is fetched into $SYSCHECKD_CACHE/debs (default
# /var/cache/syscheckd-test), where the kernel tests find it too.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
# shellcheck source=../../../deploy/kernel/lib.sh
. "$root/deploy/kernel/lib.sh"

series=6.12
out=${1:-$root/probe/upstream_syscalls.go}
case $out in /*) ;; *) out=$PWD/$out ;; esac

deb=$(fetch_deb "$(suite_for "$series")" "linux-source-$series" "$SYSCHECKD_CACHE/debs")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$tmp" "./usr/src/linux-source-$series.tar.xz"
tables=(arch/x86/entry/syscalls/syscall_64.tbl scripts/syscall.tbl arch/arm64/kernel/Makefile.syscalls)
tar -xJf "$tmp/usr/src/linux-source-$series.tar.xz" -C "$tmp" "${tables[@]/#/linux-source-$series/}"
cd "$root"
go run ./probe/internal/gensyscalls -linux "$tmp/linux-source-$series" -series "$series" -o "$out"
