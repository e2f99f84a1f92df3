#!/bin/sh
# syscheckd rpm %preun. $1 is 0 on removal, 1 or more on an upgrade.
#
# Removal disables and, when systemd is running, stops the service and the
# optional socket. An upgrade leaves them alone: %post restarts the daemon.

[ "$1" -eq 0 ] || exit 0
command -v systemctl >/dev/null 2>&1 || exit 0

systemctl --no-reload disable syscheckd.service syscheckd.socket >/dev/null 2>&1 || :
if [ -d /run/systemd/system ]; then
	systemctl stop syscheckd.socket syscheckd.service >/dev/null 2>&1 || :
fi
exit 0
