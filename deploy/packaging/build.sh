#!/bin/sh
# Builds the syscheckd .deb, .rpm and release tarball of each architecture
# into OUTDIR, and OUTDIR/SHA256SUMS over every file it holds.
#
#   deploy/packaging/build.sh OUTDIR
#
# Besides the binary, it generates from that very binary what the packages
# ship about it, so that none of it is written by hand or can go stale:
#   - the man page syscheckd(1): kingpin's --help-man (the flags, their
#     defaults and help) with a fixed header and the FILES, EXIT STATUS,
#     SIGNALS and SEE ALSO sections of man/syscheckd.1.tail, gzip -9n;
#   - the bash and zsh completions (--completion-script-bash, -zsh);
#   - the license notices of every module linked into the binary: the
#     Debian copyright file (DEP-5, copyright below as its header) and a
#     plain-text third-party notices file for the rpm, by notices/ (its own
#     Go module, so its dependency stays out of syscheckd's).
#
# The tarball, syscheckd-VERSION.linux-ARCH.tar.gz, holds the binary, the
# example configuration, LICENSE and the third-party notices in a directory
# of the same name, as Prometheus's own releases do.
#
# Environment (all optional):
#   SYSCHECKD_VERSION     package version (default 0.1.0), semver, no leading v
#   SYSCHECKD_ARCH        Go architectures to build, amd64 and/or arm64
#                         (default "amd64 arm64")
#   SYSCHECKD_BINARY      a prebuilt static binary to ship, for the one
#                         architecture SYSCHECKD_ARCH names; by default
#                         ./cmd/syscheckd is built with CGO_ENABLED=0
#   SYSCHECKD_MAINTAINER  "Name <address>" for the package metadata
#   SOURCE_DATE_EPOCH     the man page's date (default: the newest entry of
#                         changelog.yaml), for reproducible packages
#   NFPM                  the nfpm command; by default nfpm v2.45.2 is run
#                         from the Go module proxy (later versions fail to
#                         download), outside syscheckd's own module graph
set -eu

if [ $# -ne 1 ]; then
	echo "usage: $0 OUTDIR" >&2
	exit 2
fi

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
mkdir -p "$1"
out=$(cd "$1" && pwd)

SYSCHECKD_VERSION=${SYSCHECKD_VERSION:-0.1.0}
SYSCHECKD_MAINTAINER=${SYSCHECKD_MAINTAINER:-syscheckd developers <syscheckd@example.org>}
NFPM=${NFPM:-go run github.com/goreleaser/nfpm/v2/cmd/nfpm@v2.45.2}
SYSCHECKD_ARCH=${SYSCHECKD_ARCH:-amd64 arm64}
for arch in $SYSCHECKD_ARCH; do
	case $arch in
	amd64 | arm64) ;;
	*)
		echo "$0: SYSCHECKD_ARCH: $arch is not amd64 or arm64" >&2
		exit 2
		;;
	esac
done
if [ -n "${SYSCHECKD_BINARY:-}" ] && [ "$(echo "$SYSCHECKD_ARCH" | wc -w)" -ne 1 ]; then
	echo "$0: SYSCHECKD_BINARY ships one binary: set SYSCHECKD_ARCH to its architecture" >&2
	exit 2
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# build ARCH FILE builds ./cmd/syscheckd for linux/ARCH, statically.
build() {
	revision=$(git -C "$root" rev-parse HEAD 2>/dev/null || echo unknown)
	(
		cd "$root"
		CGO_ENABLED=0 GOOS=linux GOARCH=$1 go build -trimpath \
			-ldflags "-s -w \
				-X github.com/prometheus/common/version.Version=$SYSCHECKD_VERSION \
				-X github.com/prometheus/common/version.Revision=$revision" \
			-o "$2" ./cmd/syscheckd
	)
}

# prebuilt is SYSCHECKD_BINARY, made absolute: the loop below exports
# SYSCHECKD_BINARY to nfpm for each architecture in turn.
prebuilt=${SYSCHECKD_BINARY:-}
if [ -n "$prebuilt" ]; then
	case $prebuilt in
	/*) ;;
	*) prebuilt=$(pwd)/$prebuilt ;;
	esac
	if [ ! -x "$prebuilt" ]; then
		echo "$0: $prebuilt is not an executable file" >&2
		exit 1
	fi
fi

# The man page and the completions come from a binary this machine can run:
# the flags are the same on every architecture. That is the binary shipped
# when it is this machine's, else one built from the same tree.
hostarch=$(go env GOHOSTARCH)
if [ -n "$prebuilt" ] && [ "$SYSCHECKD_ARCH" = "$hostarch" ]; then
	docbin=$prebuilt
else
	docbin=$tmp/syscheckd-$hostarch
	build "$hostarch" "$docbin"
fi

# Everything generated goes to $gen, which nfpm.yaml reads as
# ${SYSCHECKD_GENERATED}.
gen=$tmp/generated
mkdir "$gen"

# The man page. kingpin's header puts the whole multi-line version.Print in
# .TH and names no description, and its text is not escaped for roff: keep
# its DESCRIPTION and OPTIONS sections only, escape them, and frame them.
if [ -n "${SOURCE_DATE_EPOCH:-}" ]; then
	mandate=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%d)
else
	mandate=$(sed -n 's/^ *date: *\([0-9-]\{10\}\).*/\1/p' "$here/changelog.yaml" | head -1)
fi
"$docbin" --help-man >"$tmp/kingpin.1"
grep -q '^\.SH "OPTIONS"$' "$tmp/kingpin.1" || {
	echo "$0: $docbin --help-man printed no OPTIONS section" >&2
	exit 1
}
# roff escapes for kingpin's text lines: a backslash is \e, a line may not
# start with . or ', and the dashes of options (--web.listen-address, -h)
# are minus signs (\-), so that they can be searched for and copied. Its .TP lines stay as they are;
# its flag lines (\fB--flag=DEFAULT\fR) keep their font escapes.
roff_text='
	/^\.TP$/b
	/^\\fB.*\\fR$/{
		s/^\\fB\(.*\)\\fR$/\1/
		s/\\/\\e/g
		s/-/\\-/g
		s/^/\\fB/
		s/$/\\fR/
		b
	}
	s/\\/\\e/g
	s/^\([.'"'"']\)/\\\&\1/
	s/--/\\-\\-/g
	s/\(^\|[^[:alnum:]\\/]\)-\([[:alnum:]]\)/\1\\-\2/g
	:option
	s/\(\\-\\-[[:alnum:]._]*\(\\-[[:alnum:]._]*\)*\)-\([[:alnum:]]\)/\1\\-\3/
	t option
'
{
	printf '.TH SYSCHECKD 1 "%s" "syscheckd %s" "User Commands"\n' "$mandate" "$SYSCHECKD_VERSION"
	printf '.SH NAME\nsyscheckd \\- probe a custom Linux system call and export the results as Prometheus metrics\n'
	printf '.SH SYNOPSIS\n.B syscheckd\n.RI [ flags ]\n'
	printf '.SH DESCRIPTION\n'
	sed -n '/^\.SH "DESCRIPTION"$/,/^\.SH "OPTIONS"$/{/^\.SH/d;/^$/d;p}' "$tmp/kingpin.1" | sed "$roff_text"
	printf '.PP\nUnder systemd the daemon runs as \\fBsyscheckd.service\\fR, with its flags in the\n'
	printf '\\fBARGS\\fR variable of the environment file listed under \\fBFILES\\fR.\n'
	printf '.SH OPTIONS\n'
	sed -n '/^\.SH "OPTIONS"$/,/^\.SH /{/^\.SH/d;p}' "$tmp/kingpin.1" | sed "$roff_text"
	cat "$here/man/syscheckd.1.tail"
} >"$gen/syscheckd.1"
gzip -9n <"$gen/syscheckd.1" >"$gen/syscheckd.1.gz"

"$docbin" --completion-script-bash >"$gen/syscheckd.bash"
# kingpin's zsh script defines _syscheckd and calls compdef when sourced.
# Installed in $fpath, zsh autoloads the file as the body of _syscheckd, so
# the first <TAB> would only define the function and complete nothing: call
# it then, as cobra's scripts do.
{
	"$docbin" --completion-script-zsh
	cat <<-'ZSH'

		# Autoloaded from $fpath, this file is the body of _syscheckd: run the
		# function it just defined (not when the file is sourced).
		if [ "$funcstack[1]" = "_syscheckd" ]; then
		    _syscheckd "$@"
		fi
	ZSH
} >"$gen/_syscheckd"

# The mixin's sources, in their directories: dashboards/dashboards.libsonnet
# imports ../../grafana/syscheckd.json, which nfpm.yaml installs beside it.
mkdir "$gen/mixin"
(cd "$root/deploy/mixin" && find . -name '*.libsonnet' -type f) | LC_ALL=C sort | while read -r f; do
	install -D -m 0644 "$root/deploy/mixin/$f" "$gen/mixin/$f"
done
[ -f "$gen/mixin/mixin.libsonnet" ] || {
	echo "$0: deploy/mixin/mixin.libsonnet is missing" >&2
	exit 1
}
chmod -R u=rwX,go=rX "$gen/mixin"

export SYSCHECKD_VERSION SYSCHECKD_MAINTAINER

for arch in $SYSCHECKD_ARCH; do
	bin=${prebuilt:-$tmp/$arch/syscheckd}
	[ -n "$prebuilt" ] || build "$arch" "$bin"
	# What is the same for every architecture, and this one's notices.
	archgen=$tmp/$arch/generated
	mkdir -p "$archgen"
	cp -R "$gen/." "$archgen/"
	(
		cd "$here/notices"
		go run . -binary "$bin" -module-root "$root" \
			-copyright-header "$here/copyright" \
			-copyright "$archgen/copyright" -notices "$archgen/THIRD_PARTY_NOTICES"
	)
	SYSCHECKD_PACKAGE_ARCH=$arch SYSCHECKD_BINARY=$bin SYSCHECKD_GENERATED=$archgen
	export SYSCHECKD_PACKAGE_ARCH SYSCHECKD_BINARY SYSCHECKD_GENERATED
	for packager in deb rpm; do
		# $NFPM is split on purpose: it is a command with arguments.
		# shellcheck disable=SC2086
		(cd "$root" && $NFPM package --config deploy/packaging/nfpm.yaml --packager "$packager" --target "$out/")
	done

	# The release tarball, reproducible: sorted, owned by root, dated as
	# the man page.
	name=syscheckd-$SYSCHECKD_VERSION.linux-$arch
	mkdir "$tmp/$arch/$name"
	install -m 0755 "$bin" "$tmp/$arch/$name/syscheckd"
	install -m 0644 "$root/LICENSE" "$archgen/THIRD_PARTY_NOTICES" "$root/deploy/config/syscheckd.yml" "$tmp/$arch/$name/"
	tar -C "$tmp/$arch" --sort=name --owner=0 --group=0 --numeric-owner \
		--mtime="$mandate 00:00:00Z" -cf - "$name" | gzip -9n >"$out/$name.tar.gz"
done

# Checksums of everything in OUTDIR, as the release lists them.
(
	cd "$out"
	find . -maxdepth 1 -type f ! -name SHA256SUMS -printf '%f\n' | LC_ALL=C sort | xargs sha256sum >"$tmp/SHA256SUMS"
	mv "$tmp/SHA256SUMS" SHA256SUMS
)
