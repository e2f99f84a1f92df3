#!/bin/sh
# syscheckd rpm %preun. $1 is 0 on removal, 1 or more on an upgrade.
#
# What %systemd_preun does: removal disables and stops the service and the
# optional socket (--now stops only where systemd runs). An upgrade leaves
# them alone: %postun restarts the daemon.

[ "$1" -eq 0 ] || exit 0
command -v systemctl >/dev/null 2>&1 || exit 0

systemctl --no-reload disable --now syscheckd.service syscheckd.socket >/dev/null 2>&1 || :
exit 0
