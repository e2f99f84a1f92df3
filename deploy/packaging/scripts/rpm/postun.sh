#!/bin/sh
# syscheckd rpm %postun. $1 is 0 on removal, 1 or more on an upgrade.
#
# Tells a running systemd that the unit files changed or are gone.

if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
	systemctl daemon-reload >/dev/null 2>&1 || :
fi
exit 0
