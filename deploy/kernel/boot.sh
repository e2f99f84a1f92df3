#!/bin/bash
# Boot a kernel and initramfs in QEMU (TCG only: KVM is broken under nesting
# on these machines), with the serial console on stdout.
#
#   deploy/kernel/boot.sh -k BZIMAGE -i INITRD [options]
#   deploy/kernel/boot.sh -k BZIMAGE -d DISK [-i INITRD] [options]
#   deploy/kernel/boot.sh -A arm64 -k IMAGE -i INITRD [options]
#     -A, --arch ARCH       x86_64 (default: qemu-system-x86_64, console
#                           ttyS0) or arm64 (qemu-system-aarch64 -M virt
#                           -cpu max, console ttyAMA0, the kernel a raw arm64
#                           Image; -d and -c are x86_64 only)
#     -a, --append 'ARGS'   more kernel command line, e.g.
#                           'syscheckd.run=/bin/getprocessinfo_test'
#     -p, --port PORT       forward 127.0.0.1:PORT on the host to the guest's
#                           port 10335 (syscheckd's default)
#     -g, --guest-port N    guest port to forward to (default 10335)
#     -t, --timeout SECS    kill QEMU after SECS (default 300)
#     -M, --memory MB       guest memory (default 512)
#     -d, --disk IMAGE      a raw disk image as the guest's virtio disk
#                           (/dev/vda); the initramfs is then optional
#     -c, --control SOCKET  the guest's second serial port (ttyS1) as a Unix
#                           socket that QEMU listens on, for the test to talk
#                           to the guest; ttyS0 stays on stdout
#
# Exits with QEMU's status (0 after the guest's `reboot -f`), or 124 on time-out.
set -euo pipefail

kernel='' initrd='' disk='' control='' append='' port='' gport=10335 tmo=300 mem=512 arch=x86_64
while [ $# -gt 0 ]; do
	case $1 in
	-A | --arch) arch=$2; shift 2 ;;
	-k | --kernel) kernel=$2; shift 2 ;;
	-i | --initrd) initrd=$2; shift 2 ;;
	-a | --append) append=$2; shift 2 ;;
	-p | --port) port=$2; shift 2 ;;
	-g | --guest-port) gport=$2; shift 2 ;;
	-t | --timeout) tmo=$2; shift 2 ;;
	-M | --memory) mem=$2; shift 2 ;;
	-d | --disk) disk=$2; shift 2 ;;
	-c | --control) control=$2; shift 2 ;;
	-h | --help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
	*) echo "${0##*/}: unknown argument '$1'" >&2; exit 2 ;;
	esac
done
if [ -z "$kernel" ] || { [ -z "$initrd" ] && [ -z "$disk" ]; }; then
	echo "usage: ${0##*/} -k BZIMAGE -i INITRD|-d DISK [-a ARGS] [-p PORT] [-t SECS]" >&2
	exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
case $arch in
x86_64) ;;
arm64 | aarch64)
	command -v qemu-system-aarch64 >/dev/null || need_pkgs qemu-system-arm
	if [ -n "$disk" ] || [ -n "$control" ]; then
		echo "${0##*/}: -d and -c are for x86_64 guests only" >&2
		exit 2
	fi
	nic=user,model=e1000
	[ -n "$port" ] && nic+=",hostfwd=tcp:127.0.0.1:$port-:$gport"
	# The virt board's PL011 UART is ttyAMA0; its PCIe host bridge carries
	# the same e1000 NIC as on x86_64. -cpu max with pauth-impdef: the
	# architected pointer-authentication algorithm (QARMA) costs TCG much
	# more time than QEMU's own.
	exec timeout -k 5 "$tmo" \
		qemu-system-aarch64 -M virt -accel tcg -cpu max,pauth-impdef=on -m "$mem" -smp 1 \
		-nographic -no-reboot \
		-kernel "$kernel" -initrd "$initrd" \
		-append "console=ttyAMA0 panic=-1 $append" \
		-nic "$nic" </dev/null
	;;
*)
	echo "${0##*/}: unknown architecture '$arch' (want x86_64 or arm64)" >&2
	exit 2
	;;
esac
command -v qemu-system-x86_64 >/dev/null || need_pkgs qemu-system-x86

nic=user,model=e1000
[ -n "$port" ] && nic+=",hostfwd=tcp:127.0.0.1:$port-:$gport"
extra=()
[ -n "$initrd" ] && extra+=(-initrd "$initrd")
[ -n "$disk" ] && extra+=(-drive "file=$disk,format=raw,if=virtio")
# An explicit -serial replaces -nographic's default one, so ttyS0 is named.
[ -n "$control" ] && extra+=(-serial mon:stdio -serial "unix:$control,server=on,wait=off")

exec timeout -k 5 "$tmo" \
	qemu-system-x86_64 -accel tcg -cpu max -m "$mem" -smp 1 \
	-nographic -no-reboot \
	-kernel "$kernel" "${extra[@]}" \
	-append "console=ttyS0 panic=-1 $append" \
	-nic "$nic" </dev/null
