#!/bin/bash
# Boot a kernel in QEMU with the getprocessinfo kselftest as the only job
# and check its TAP result.
#
#   deploy/kernel/run-kselftest.sh 6.1|6.12 [--stock] [--test-from 6.1|6.12] [--arch x86_64|arm64]
#
# Without --stock: the patched kernel from build-kernel.sh; expects "ok 1".
# With --stock: Debian's own kernel from fetch-stock-kernel.sh (with e1000.ko
# in the initramfs); expects "1..0 # SKIP" because the call is not there.
# The test binary comes from the patched build of the same series, or of
# the series given to --test-from (e.g. the 6.1 binary, which would call
# 335, on stock 6.12 where 335 is uretprobe: the test must skip without
# calling it). --arch arm64 does the same with the arm64 kernels, the
# arm64 kselftest and qemu-system-aarch64. Prints the guest console to
# stderr, the TAP lines and the boot time to stdout; exits 0 when the result
# is the expected one.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

usage="usage: $0 6.1|6.12 [--stock] [--test-from 6.1|6.12] [--arch x86_64|arm64]"
series='' stock='' testfrom='' arch=()
while [ $# -gt 0 ]; do
	case $1 in
	--stock) stock=1; shift ;;
	--test-from) testfrom=$2; shift 2 ;;
	--arch) [ "$2" = x86_64 ] || arch=(--arch "$2"); shift 2 ;;
	6.1 | 6.12) series=$1; shift ;;
	*) die "$usage" ;;
	esac
done
[ -n "$series" ] || die "$usage"
testfrom=${testfrom:-$series}

testbin=$(dirname "$("$here/build-kernel.sh" "${arch[@]}" "$testfrom" | tail -1)")/getprocessinfo_test
mods=()
if [ -n "$stock" ]; then
	kernel=$("$here/fetch-stock-kernel.sh" "${arch[@]}" "$series" | tail -1)
	while read -r m; do mods+=(-m "$m"); done <"$(dirname "$kernel")/modules.order"
	want='^1\.\.0 # SKIP'
else
	kernel=$("$here/build-kernel.sh" "${arch[@]}" "$series" | tail -1)
	want='^ok 1 '
fi
boot=()
[ ${#arch[@]} -eq 0 ] || boot=(-A "${arch[1]}")

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$here/mkinitramfs.sh" "${arch[@]}" -o "$work/initrd.cpio.gz" -a "$testbin" "${mods[@]}" >/dev/null

start=$(date +%s%N)
"$here/boot.sh" "${boot[@]}" -k "$kernel" -i "$work/initrd.cpio.gz" -t 300 \
	-a 'syscheckd.run=/bin/getprocessinfo_test' >"$work/console.log" 2>&1 || true
ms=$((($(date +%s%N) - start) / 1000000))
tr -d '\r' <"$work/console.log" >&2

tap=$(tr -d '\r' <"$work/console.log" | grep -aE '^(TAP version|1\.\.|ok |not ok |# )' || true)
printf '%s\n' "$tap"
echo "boot+test: ${ms} ms (kernel $kernel)"
if grep -qE "$want" <<<"$tap" && grep -aq '^SYSCHECKD-INIT: done' "$work/console.log"; then
	echo "PASS: got /$want/"
else
	echo "FAIL: wanted /$want/"
	exit 1
fi
