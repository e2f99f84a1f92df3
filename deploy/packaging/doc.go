// Package packaging builds syscheckd's .deb and .rpm and tests them; it has
// no Go API.
//
// build.sh runs nfpm v2.45.2 (from the Go module proxy, outside syscheckd's
// module graph) on nfpm.yaml. The packages hold the static binary at
// /usr/bin/syscheckd, the units from deploy/systemd (in /lib/systemd/system
// for Debian, /usr/lib/systemd/system for rpm) and /etc/default/syscheckd as a
// conffile. Their maintainer scripts enable syscheckd.service on a first
// install, start it on a first install and restart it on an upgrade, and stop
// it on removal; they start and stop nothing where systemd is not the running
// init (no /run/systemd/system), as in a chroot or a debootstrap run, where
// enabling still works because it only creates symlinks.
package packaging
