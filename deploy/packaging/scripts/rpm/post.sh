#!/bin/sh
# syscheckd rpm %post. $1 is 1 on a first install, 2 or more on an upgrade.
#
# A first install enables the service (symlinks only, so it works in a
# chroot or an image build) and starts it when systemd is running, which
# /run/systemd/system tells. An upgrade keeps the admin's enable/disable
# choice and restarts the daemon only if it was running.
# syscheckd.socket is shipped but never enabled: it needs
# --web.systemd-socket in /etc/default/syscheckd.

command -v systemctl >/dev/null 2>&1 || exit 0

if [ "$1" -eq 1 ]; then
	systemctl --no-reload enable syscheckd.service >/dev/null 2>&1 || :
fi
if [ -d /run/systemd/system ]; then
	systemctl daemon-reload >/dev/null 2>&1 || :
	if [ "$1" -eq 1 ]; then
		systemctl start syscheckd.service >/dev/null 2>&1 || :
	else
		systemctl try-restart syscheckd.service >/dev/null 2>&1 || :
	fi
fi
exit 0
