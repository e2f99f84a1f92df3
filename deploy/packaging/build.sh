#!/bin/sh
# Builds the syscheckd .deb and .rpm into OUTDIR.
#
#   deploy/packaging/build.sh OUTDIR
#
# Environment (all optional):
#   SYSCHECKD_VERSION     package version (default 0.1.0), semver, no leading v
#   SYSCHECKD_BINARY      a prebuilt static binary to ship; by default
#                         ./cmd/syscheckd is built with CGO_ENABLED=0
#   SYSCHECKD_MAINTAINER  "Name <address>" for the package metadata
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

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if [ -z "${SYSCHECKD_BINARY:-}" ]; then
	SYSCHECKD_BINARY=$tmp/syscheckd
	revision=$(git -C "$root" rev-parse HEAD 2>/dev/null || echo unknown)
	(
		cd "$root"
		CGO_ENABLED=0 GOOS=linux GOARCH=amd64 go build -trimpath \
			-ldflags "-s -w \
				-X github.com/prometheus/common/version.Version=$SYSCHECKD_VERSION \
				-X github.com/prometheus/common/version.Revision=$revision" \
			-o "$SYSCHECKD_BINARY" ./cmd/syscheckd
	)
fi
case $SYSCHECKD_BINARY in
/*) ;;
*) SYSCHECKD_BINARY=$(pwd)/$SYSCHECKD_BINARY ;;
esac
if [ ! -x "$SYSCHECKD_BINARY" ]; then
	echo "$0: $SYSCHECKD_BINARY is not an executable file" >&2
	exit 1
fi
export SYSCHECKD_VERSION SYSCHECKD_BINARY SYSCHECKD_MAINTAINER

cd "$root"
for packager in deb rpm; do
	# $NFPM is split on purpose: it is a command with arguments.
	# shellcheck disable=SC2086
	$NFPM package --config deploy/packaging/nfpm.yaml --packager "$packager" --target "$out/"
done
