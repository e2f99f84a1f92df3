#!/bin/sh
# syscheckd rpm %postun. $1 is 0 on removal, 1 or more on an upgrade.
#
# Tells a running systemd that the unit files changed or are gone, and on an
# upgrade restarts the daemon onto the new binary if it runs, as
# %systemd_postun_with_restart does (try-restart starts nothing that was
# stopped). In an upgrade this is the old package's %postun, run after the
# new files are in place.

if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
	systemctl daemon-reload >/dev/null 2>&1 || :
	if [ "$1" -ge 1 ]; then
		systemctl try-restart syscheckd.service >/dev/null 2>&1 || :
	fi
fi
exit 0
