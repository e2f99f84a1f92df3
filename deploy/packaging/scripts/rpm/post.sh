#!/bin/sh
# syscheckd rpm %post. $1 is 1 on a first install, 2 or more on an upgrade.
#
# What %systemd_post does: a first install applies the preset policy to the
# service (systemctl preset: symlinks only, so it works in a chroot or an
# image build). The package's 50-syscheckd.preset says enable, a site's own
# preset that sorts earlier can say disable. Nothing is started: as on
# Fedora and RHEL, the admin starts the service (systemctl start syscheckd)
# or the next boot does. An upgrade keeps the admin's enable/disable choice;
# %postun restarts a running daemon onto the new binary.
# syscheckd.socket is shipped but never enabled: it needs
# --web.systemd-socket in /etc/sysconfig/syscheckd.

command -v systemctl >/dev/null 2>&1 || exit 0

if [ "$1" -eq 1 ]; then
	systemctl --no-reload preset syscheckd.service >/dev/null 2>&1 || :
fi
# Debian-style rpm databases and older rpm-based systems have no file
# trigger that reloads systemd when unit files change.
if [ -d /run/systemd/system ]; then
	systemctl daemon-reload >/dev/null 2>&1 || :
fi
exit 0
