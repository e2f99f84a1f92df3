// Package packaging builds syscheckd's .deb, .rpm and release tarball for
// amd64 and arm64, with SHA256SUMS over them, and tests them; it has no Go
// API.
//
// build.sh runs nfpm v2.45.2 (from the Go module proxy, outside syscheckd's
// module graph) on nfpm.yaml. The packages hold the static binary at
// /usr/bin/syscheckd, the units from deploy/systemd (in /lib/systemd/system
// for Debian, /usr/lib/systemd/system for rpm), the daemon's flags file as a
// conffile (/etc/default/syscheckd in the .deb, /etc/sysconfig/syscheckd in
// the .rpm), the example configuration /etc/syscheckd/syscheckd.yml, and the
// alert rules, Alertmanager inhibition, runbook, dashboard and mixin under
// /usr/share/syscheckd. build.sh generates from the binary it packages the
// man page syscheckd(1), the bash and zsh completions, and the license
// notices of every module linked into it (notices/, a separate Go module:
// the Debian copyright file and the rpm's THIRD_PARTY_NOTICES).
//
// The .deb's maintainer scripts enable syscheckd.service on a first install,
// start it on a first install and restart it on an upgrade, and stop it on
// removal. The .rpm's follow %systemd_post, %systemd_preun and
// %systemd_postun_with_restart: a first install applies the preset policy
// (the package's 50-syscheckd.preset says enable) and starts nothing, an
// upgrade restarts a running daemon, removal disables and stops it. Neither
// starts or stops anything where systemd is not the running init (no
// /run/systemd/system), as in a chroot or a debootstrap run, where enabling
// still works because it only creates symlinks.
package packaging
