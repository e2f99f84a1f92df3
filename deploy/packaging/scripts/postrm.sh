#!/bin/sh
# syscheckd .deb postrm. $1 is "remove", "purge", "upgrade", "disappear",
# "failed-upgrade", "abort-install" or "abort-upgrade".
#
# Tells systemd that the unit files are gone and keeps deb-systemd-helper's
# enablement state: masked while only the conffile is left, forgotten on
# purge. The daemon keeps no state of its own (DynamicUser=yes, no
# StateDirectory=), so there is nothing else to delete.
set -e

if [ "$1" = remove ] && [ -d /run/systemd/system ]; then
	systemctl --system daemon-reload >/dev/null || true
fi

case "$1" in
remove)
	deb-systemd-helper mask syscheckd.service syscheckd.socket >/dev/null || true
	;;
purge)
	deb-systemd-helper purge syscheckd.service syscheckd.socket >/dev/null || true
	deb-systemd-helper unmask syscheckd.service syscheckd.socket >/dev/null || true
	;;
esac
exit 0
