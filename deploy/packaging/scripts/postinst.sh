#!/bin/sh
# syscheckd .deb postinst, in the shape of dh_installsystemd's snippets.
# $1 is "configure" (with $2 the previously configured version on an
# upgrade) or abort-upgrade/abort-deconfigure/abort-remove.
#
# Enabling only creates symlinks, so it works offline: in a chroot, a
# debootstrap run or a container without systemd. Starting needs a running
# systemd, which /run/systemd/system tells. syscheckd.socket is shipped but
# never enabled: it needs --web.systemd-socket in /etc/default/syscheckd.
set -e

case "$1" in
configure | abort-upgrade | abort-deconfigure | abort-remove) ;;
*) exit 0 ;;
esac

# Lift the masks that postrm set on removal (only those it set).
deb-systemd-helper unmask syscheckd.service syscheckd.socket >/dev/null || true
# was-enabled is true on a first install, and false after the admin disabled
# the service: an upgrade must not enable it again.
if deb-systemd-helper --quiet was-enabled syscheckd.service; then
	deb-systemd-helper enable syscheckd.service >/dev/null || true
else
	deb-systemd-helper update-state syscheckd.service >/dev/null || true
fi

if [ -d /run/systemd/system ]; then
	systemctl --system daemon-reload >/dev/null || true
	# deb-systemd-invoke honours policy-rc.d and leaves a disabled unit
	# alone. An upgrade restarts onto the new binary.
	if [ -n "$2" ]; then
		deb-systemd-invoke restart syscheckd.service >/dev/null || true
	else
		deb-systemd-invoke start syscheckd.service >/dev/null || true
	fi
fi
exit 0
