# shellcheck shell=bash
# Helpers shared by the scripts in deploy/kernel/. Source, do not run.

# All downloads, unpacked sources, builds and results live here, outside the
# repository.
SYSCHECKD_CACHE=${SYSCHECKD_CACHE:-/var/cache/syscheckd-test}

log() { printf '%s: %s\n' "${0##*/}" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# need_pkgs PKG...: apt-get install whatever is missing (apt-get update once).
_apt_updated=
need_pkgs() {
	local missing=() p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
			missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	log "installing: ${missing[*]}"
	if [ -z "$_apt_updated" ]; then
		apt-get update -qq >&2 || die "apt-get update failed"
		_apt_updated=1
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		-o DPkg::Lock::Timeout=600 "${missing[@]}" >&2 ||
		die "apt-get install ${missing[*]} failed"
}

# trixie_apt CMD ARGS...: run apt-get/apt-cache against Debian trixie through a
# private sources list, lists directory and package cache, leaving the
# machine's own apt configuration and state alone. Nothing is installed.
TRIXIE_APT_DIR=$SYSCHECKD_CACHE/apt-trixie
_trixie_updated=
trixie_apt() {
	local cmd=$1
	shift
	local d=$TRIXIE_APT_DIR
	local opts=(
		-o "Dir::Etc::sourcelist=$d/sources.list"
		-o "Dir::Etc::sourceparts=/dev/null"
		-o "Dir::State::Lists=$d/lists"
		-o "Dir::Cache=$d/cache"
		-o "APT::Sandbox::User=root"
		-o "Acquire::IndexTargets::deb::DEP-11::DefaultEnabled=false"
	)
	if [ -z "$_trixie_updated" ]; then
		mkdir -p "$d/lists/partial" "$d/cache/archives/partial"
		cat >"$d/sources.list" <<-LIST
			deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main
			deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian-security trixie-security main
		LIST
		# Refresh at most once a day.
		if [ -z "$(find "$d/lists" -maxdepth 1 -name '*_Packages*' -mmin -1440 2>/dev/null | head -1)" ]; then
			apt-get "${opts[@]}" update -qq >&2 || die "trixie apt-get update failed"
		fi
		_trixie_updated=1
	fi
	"$cmd" "${opts[@]}" "$@"
}

# foreign_apt SUITE DEBARCH CMD ARGS...: like trixie_apt, for the packages
# of another architecture (arm64) of bookworm or trixie. apt is told the
# architecture with APT::Architecture(s) on its command line only: dpkg's
# list of architectures (dpkg --add-architecture) stays as it is, and
# nothing is installed, only downloaded. Its own sources list, lists and
# cache live in $SYSCHECKD_CACHE/apt-SUITE-DEBARCH/.
declare -A _foreign_updated=()
foreign_apt() {
	local suite=$1 arch=$2 cmd=$3
	shift 3
	local d=$SYSCHECKD_CACHE/apt-$suite-$arch
	local key=/usr/share/keyrings/debian-archive-keyring.gpg
	local opts=(
		-o "Dir::Etc::sourcelist=$d/sources.list"
		-o "Dir::Etc::sourceparts=/dev/null"
		-o "Dir::State::Lists=$d/lists"
		-o "Dir::Cache=$d/cache"
		-o "APT::Sandbox::User=root"
		-o "Acquire::IndexTargets::deb::DEP-11::DefaultEnabled=false"
		-o "APT::Architecture=$arch"
		-o "APT::Architectures::=$arch"
	)
	if [ -z "${_foreign_updated[$suite-$arch]:-}" ]; then
		mkdir -p "$d/lists/partial" "$d/cache/archives/partial"
		case $suite in
		bookworm | trixie) ;;
		*) die "foreign_apt: unsupported suite $suite" ;;
		esac
		{
			echo "deb [signed-by=$key] http://deb.debian.org/debian $suite main"
			echo "deb [signed-by=$key] http://deb.debian.org/debian $suite-updates main"
			echo "deb [signed-by=$key] http://deb.debian.org/debian-security $suite-security main"
		} >"$d/sources.list"
		# Refresh at most once a day.
		if [ -z "$(find "$d/lists" -maxdepth 1 -name '*_Packages*' -mmin -1440 2>/dev/null | head -1)" ]; then
			apt-get "${opts[@]}" update -qq >&2 || die "$suite $arch apt-get update failed"
		fi
		_foreign_updated[$suite-$arch]=1
	fi
	"$cmd" "${opts[@]}" "$@"
}

# deb_arch ARCH: Debian's name for a kernel architecture (x86_64 or arm64).
deb_arch() {
	case $1 in
	x86_64 | amd64) echo amd64 ;;
	arm64 | aarch64) echo arm64 ;;
	*) die "unsupported architecture '$1' (want x86_64 or arm64)" ;;
	esac
}

# apt_runner SUITE [DEBARCH]: the command prefix that queries SUITE for
# DEBARCH packages (none: the machine's own apt, for bookworm amd64).
apt_runner() {
	local suite=$1 arch=${2:-amd64}
	if [ "$arch" != amd64 ]; then
		echo "foreign_apt $suite $arch"
	elif [ "$suite" = trixie ]; then
		echo trixie_apt
	fi
}

# candidate_version SUITE PKG [DEBARCH]: the version apt would pick (bookworm
# amd64 = the machine's own apt, trixie = the private one, another
# architecture = foreign_apt's).
candidate_version() {
	local suite=$1 pkg=$2 run=()
	read -r -a run <<<"$(apt_runner "$suite" "${3:-}")"
	"${run[@]}" apt-cache policy "$pkg" | awk '/Candidate:/ {print $2; exit}'
}

# fetch_deb SUITE PKG DESTDIR [DEBARCH]: apt-get download PKG (candidate
# version; of DEBARCH, default amd64) into DESTDIR unless already there;
# print the .deb path.
fetch_deb() {
	local suite=$1 pkg=$2 dest=$3 arch=${4:-} run=() ver deb
	read -r -a run <<<"$(apt_runner "$suite" "$arch")"
	ver=$(candidate_version "$suite" "$pkg" "$arch")
	if { [ -z "$ver" ] || [ "$ver" = "(none)" ]; } && [ ${#run[@]} -eq 0 ] && [ -z "$_apt_updated" ]; then
		# A fresh machine may have no package lists yet.
		apt-get update -qq >&2 || die "apt-get update failed"
		_apt_updated=1
		ver=$(candidate_version "$suite" "$pkg" "$arch")
	fi
	if [ -z "$ver" ] || [ "$ver" = "(none)" ]; then die "no candidate for $pkg in $suite"; fi
	mkdir -p "$dest"
	deb=$(find "$dest" -maxdepth 1 -name "${pkg}_${ver//:/%3a}_*.deb" | head -1)
	if [ -z "$deb" ]; then
		log "downloading $pkg $ver ($suite)"
		(cd "$dest" && "${run[@]}" apt-get -o APT::Sandbox::User=root download -qq "$pkg=$ver" >&2) ||
			die "apt-get download $pkg=$ver failed"
		deb=$(find "$dest" -maxdepth 1 -name "${pkg}_${ver//:/%3a}_*.deb" | head -1)
	fi
	[ -n "$deb" ] || die "downloaded $pkg but cannot find the .deb"
	printf '%s\n' "$deb"
}

# suite_for VERSION: the Debian suite that ships that kernel series.
suite_for() {
	case $1 in
	6.1) echo bookworm ;;
	6.12) echo trixie ;;
	*) die "unsupported kernel series '$1' (want 6.1 or 6.12)" ;;
	esac
}
