#!/bin/sh
# syscheckd .deb prerm. $1 is "remove", "upgrade", "deconfigure" or
# "failed-upgrade".
#
# Stops the service and the optional socket before their files go away. On an
# upgrade it does nothing: postinst restarts the daemon onto the new binary,
# so it is down for one restart rather than for the whole unpack.
set -e

if [ "$1" = remove ] && [ -d /run/systemd/system ]; then
	deb-systemd-invoke stop syscheckd.socket syscheckd.service >/dev/null || true
fi
exit 0
