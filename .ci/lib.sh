# shellcheck shell=bash
# Shared helpers for graphd's CI and container tooling.
#
# Source it from bash:   . .ci/lib.sh
# Every function is safe to call on a developer machine (Debian 12, root or
# sudo) as well as on CI. Nothing here is specific to one CI run.

# Guard against double sourcing.
if [ -n "${GRAPHD_CI_LIB_LOADED:-}" ]; then return 0; fi
GRAPHD_CI_LIB_LOADED=1

CI_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$CI_DIR/.." && pwd)"
GRAPHD_CI_CACHE="${GRAPHD_CI_CACHE:-/var/cache/graphd-ci}"
DEBIAN_SUITE="${DEBIAN_SUITE:-bookworm}"
DOCKERD_LOG="${DOCKERD_LOG:-/tmp/graphd-ci-dockerd.log}"

# ---------------------------------------------------------------------------
# Output helpers
# ---------------------------------------------------------------------------

ci_now() { date +%s; }
CI_T0="${CI_T0:-$(ci_now)}" # shared with the scripts that CI runs
export CI_T0

# log MESSAGE... — one line on stderr, prefixed with the elapsed time.
log() { printf '[ci +%4ss] %s\n' "$(($(ci_now) - CI_T0))" "$*" >&2; }

# banner MESSAGE... — a visible section header.
banner() {
	printf '\n==============================================================================\n' >&2
	printf '=== %s\n' "$*" >&2
	printf '==============================================================================\n' >&2
}

die() { log "ERROR: $*"; exit 1; }

# step NAME CMD [ARGS...] — run one CI step with a banner and its duration.
# Returns the command's exit status (so `set -e` stops the caller on failure).
CI_STEP_TIMES=()
step() {
	local name="$1" t rc=0
	shift
	banner "STEP: $name"
	t=$(ci_now)
	"$@" || rc=$?
	local dt=$(($(ci_now) - t))
	CI_STEP_TIMES+=("$(printf '%5ss  %-40s %s' "$dt" "$name" "$([ $rc -eq 0 ] && echo ok || echo "FAILED (exit $rc)")")")
	if [ $rc -eq 0 ]; then
		log "step '$name' ok in ${dt}s"
	else
		log "step '$name' FAILED (exit $rc) after ${dt}s"
	fi
	return $rc
}

# print_step_times — summary table of every step run so far.
print_step_times() {
	local line
	banner "Step timings (total $(($(ci_now) - CI_T0))s)"
	for line in "${CI_STEP_TIMES[@]}"; do printf '%s\n' "$line" >&2; done
}

# ---------------------------------------------------------------------------
# Packages
# ---------------------------------------------------------------------------

# as_root CMD... — run as root (directly, or through sudo for a developer).
as_root() {
	if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# ensure_packages PKG... — apt-get install only the packages that are missing.
# Services that packages would start (postgresql, docker) are kept from
# starting: a policy-rc.d that denies every start is put in place for the
# install if none exists, and any PostgreSQL cluster that still came up is
# stopped afterwards, so nothing is left listening on 5432.
ensure_packages() {
	local pkg missing=()
	for pkg in "$@"; do
		if [ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null)" != "install ok installed" ]; then
			missing+=("$pkg")
		fi
	done
	if [ ${#missing[@]} -eq 0 ]; then
		log "packages already installed: $*"
		return 0
	fi
	log "installing missing packages: ${missing[*]}"

	local policy=/usr/sbin/policy-rc.d created_policy=
	if [ ! -e "$policy" ]; then
		printf '#!/bin/sh\n# graphd CI: do not start services during apt-get install\nexit 101\n' | as_root tee "$policy" >/dev/null
		as_root chmod 0755 "$policy"
		created_policy=1
	fi

	local rc=0
	as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq || rc=$?
	if [ $rc -eq 0 ]; then
		as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
			"${missing[@]}" </dev/null || rc=$?
	fi
	if [ -n "$created_policy" ]; then as_root rm -f "$policy"; fi
	stop_system_postgres
	return $rc
}

# stop_system_postgres — stop every Debian-managed PostgreSQL cluster that is
# running (the postgresql package creates 15/main; it must not hold 5432).
stop_system_postgres() {
	command -v pg_lsclusters >/dev/null 2>&1 || return 0
	local ver name port status
	while read -r ver name port status _; do
		case "$status" in
		online*)
			log "stopping system PostgreSQL cluster $ver/$name on port $port"
			as_root pg_ctlcluster "$ver" "$name" stop -m fast || true
			;;
		esac
	done < <(pg_lsclusters --no-header 2>/dev/null || true)
}

# ---------------------------------------------------------------------------
# Docker
# ---------------------------------------------------------------------------

# ensure_dockerd [TIMEOUT_SECONDS] — make `docker info` work, starting dockerd
# in the background (log: $DOCKERD_LOG) if no daemon answers. Returns 1 if
# Docker cannot be made to work.
ensure_dockerd() {
	local timeout="${1:-60}" i
	if docker info >/dev/null 2>&1; then
		log "docker daemon already running"
		return 0
	fi
	if ! command -v dockerd >/dev/null 2>&1; then
		log "dockerd not installed"
		return 1
	fi
	if [ "$(id -u)" -ne 0 ]; then
		log "not root: start dockerd yourself (sudo dockerd &)"
		return 1
	fi
	log "starting dockerd (log: $DOCKERD_LOG)"
	# setsid: keep dockerd out of this script's process group so an
	# interrupted CI step does not take the daemon down with it.
	setsid dockerd >"$DOCKERD_LOG" 2>&1 </dev/null &
	local pid=$!
	for ((i = 0; i < timeout; i++)); do
		if docker info >/dev/null 2>&1; then
			log "dockerd (pid $pid) ready after ${i}s"
			return 0
		fi
		if ! kill -0 "$pid" 2>/dev/null; then
			log "dockerd exited; last lines of $DOCKERD_LOG:"
			tail -n 30 "$DOCKERD_LOG" >&2 || true
			return 1
		fi
		sleep 1
	done
	log "dockerd did not answer within ${timeout}s; last lines of $DOCKERD_LOG:"
	tail -n 30 "$DOCKERD_LOG" >&2 || true
	return 1
}

# docker_image_exists TAG
# free_port prints a TCP port on 127.0.0.1 that nothing listens on.
free_port() {
	local p
	for p in $(shuf -i 20000-60000 -n 20); do
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return
		fi
	done
	die "no free port"
}

docker_image_exists() { docker image inspect "$1" >/dev/null 2>&1; }

# image_is_current TAG HASH — TAG exists and was built from inputs with this
# hash (label graphd-ci.inputs). Build scripts skip work only then, so an
# edited entrypoint or build script is never hidden by an old image.
image_is_current() {
	local have
	have="$(docker image inspect -f '{{ index .Config.Labels "graphd-ci.inputs" }}' "$1" 2>/dev/null)" || return 1
	[ "$have" = "$2" ]
}

# image_id TAG — the image ID of TAG, or nothing.
image_id() { docker image inspect -f '{{.Id}}' "$1" 2>/dev/null || true; }

# remove_replaced_image OLD_ID NEW_TAG — after NEW_TAG was rebuilt, delete the
# image it replaced (best effort: it may still be used by a container).
remove_replaced_image() {
	if [ -n "$1" ] && [ "$1" != "$(image_id "$2")" ]; then
		docker rmi "$1" >/dev/null 2>&1 || true
	fi
}

# inputs_hash FILE_OR_STRING... — short hash over files' contents (for
# existing files) and literal strings (for the rest).
inputs_hash() {
	local x
	for x in "$@"; do
		if [ -f "$x" ]; then cat "$x"; else printf '%s' "$x"; fi
		printf '\0'
	done | sha256sum | cut -c1-16
}

# compose_cmd — print the compose command to use: `docker compose` (v2) if the
# plugin exists, else `docker-compose` (v1, Debian's 1.29).
compose_cmd() {
	if docker compose version >/dev/null 2>&1; then
		echo "docker compose"
	elif command -v docker-compose >/dev/null 2>&1; then
		echo "docker-compose"
	else
		return 1
	fi
}

# ---------------------------------------------------------------------------
# Debian root file systems (debootstrap), cached
# ---------------------------------------------------------------------------

# debian_mirror — the Debian mirror this machine's apt uses for $DEBIAN_SUITE
# (deb822 .sources files or one-line sources.list); $DEBIAN_MIRROR overrides.
debian_mirror() {
	if [ -n "${DEBIAN_MIRROR:-}" ]; then
		echo "$DEBIAN_MIRROR"
		return 0
	fi
	local f uri
	for f in "${APT_ETC:-/etc/apt}"/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		# Paragraphs: print the first URI of a paragraph whose Suites has the
		# bare suite name (not -security/-updates).
		uri=$(awk -v suite="$DEBIAN_SUITE" '
			function flush() { if (!done && ok && isdeb && uris != "") { print uris; done=1; exit } ok=0; isdeb=1; uris="" }
			BEGIN { isdeb=1 }
			/^[[:space:]]*$/ { flush(); next }
			/^[[:space:]]*#/ { next }
			tolower($1) == "uris:"   { uris = $2 }
			tolower($1) == "suites:" { for (i = 2; i <= NF; i++) if ($i == suite) ok=1 }
			tolower($1) == "types:"  { isdeb=0; for (i = 2; i <= NF; i++) if ($i == "deb") isdeb=1 }
			END { flush() }
		' "$f")
		if [ -n "$uri" ]; then
			echo "${uri%/}"
			return 0
		fi
	done
	for f in "${APT_ETC:-/etc/apt}"/sources.list "${APT_ETC:-/etc/apt}"/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		uri=$(awk -v suite="$DEBIAN_SUITE" '
			$1 == "deb" {
				i = 2
				if ($i ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
				if ($(i+1) == suite) { print $i; exit }
			}' "$f")
		if [ -n "$uri" ]; then
			echo "${uri%/}"
			return 0
		fi
	done
	echo "http://deb.debian.org/debian"
}

# debootstrap_tree NAME INCLUDE_PACKAGES — print the path of a cached
# `debootstrap --variant=minbase --include=...` tree of $DEBIAN_SUITE, making
# it first if needed. The cache key covers suite, mirror and package list;
# FORCE=1 rebuilds. The tree is built in a temporary folder and renamed into
# place only when debootstrap succeeded, so a failed run leaves no half tree.
# Callers must treat the tree as read-only (copy it, or tar from it).
debootstrap_tree() {
	local name="$1" include="$2" mirror key dir tmp
	mirror="$(debian_mirror)"
	key="$(printf '%s|%s|%s|minbase|v1' "$DEBIAN_SUITE" "$mirror" "$include" | sha256sum | cut -c1-12)"
	dir="$GRAPHD_CI_CACHE/rootfs/$name-$DEBIAN_SUITE-$key"
	as_root mkdir -p "$GRAPHD_CI_CACHE/rootfs"
	if [ -f "$dir/.graphd-ci-complete" ] && [ "${FORCE:-0}" != 1 ]; then
		log "using cached debootstrap tree $dir"
		echo "$dir"
		return 0
	fi
	command -v debootstrap >/dev/null 2>&1 || die "debootstrap is not installed (apt-get install debootstrap)"
	tmp="$dir.tmp.$$"
	as_root rm -rf "$tmp"
	log "debootstrap --variant=minbase --include=$include $DEBIAN_SUITE $tmp $mirror"
	local t rc attempt
	t=$(ci_now)
	for attempt in 1 2; do # a second try, for a mirror's passing hiccup
		rc=0
		as_root debootstrap --variant=minbase --include="$include" "$DEBIAN_SUITE" "$tmp" "$mirror" \
			>"$tmp.log" 2>&1 || rc=$?
		[ $rc -eq 0 ] && break
		log "debootstrap failed (exit $rc, try $attempt); last lines of $tmp.log:"
		tail -n 30 "$tmp.log" >&2 || true
		# debootstrap may leave /proc etc. mounted inside a failed tree.
		umount_under "$tmp"
		as_root rm -rf "$tmp"
	done
	if [ $rc -ne 0 ]; then
		as_root rm -f "$tmp.log"
		return 1
	fi
	umount_under "$tmp"
	log "debootstrap done in $(($(ci_now) - t))s"
	# Drop what no image needs: downloaded .debs and apt lists.
	as_root sh -c "rm -f '$tmp'/var/cache/apt/archives/*.deb '$tmp'/var/cache/apt/*.bin; rm -rf '$tmp'/var/lib/apt/lists/*"
	as_root touch "$tmp/.graphd-ci-complete"
	as_root rm -rf "$dir"
	as_root mv "$tmp" "$dir"
	as_root mv "$tmp.log" "$dir.log"
	echo "$dir"
}

# umount_under DIR — unmount anything mounted below DIR (deepest first).
umount_under() {
	local d="$1" m
	while read -r m; do
		as_root umount -l "$m" 2>/dev/null || true
	done < <(awk -v d="$d/" 'index($2, d) == 1 { print $2 }' /proc/self/mounts | sort -r)
}

# tar_rootfs DIR — write DIR as a tar stream on stdout, without the parts a
# container gets from its runtime (/dev, /proc, /sys contents) and the cache
# marker.
tar_rootfs() {
	as_root tar --numeric-owner --xattrs -C "$1" -c \
		--exclude=./dev/* --exclude=./proc/* --exclude=./sys/* \
		--exclude=./usr/share/doc/* --exclude=./usr/share/man/* --exclude=./usr/share/info/* \
		--exclude=./.graphd-ci-complete \
		.
}

# go_env_build_args — print `--build-arg NAME=VALUE` lines for the Go
# settings of this machine that differ from Go's defaults, so a build in a
# container fetches modules the same way the host does.
go_env_build_args() {
	command -v go >/dev/null 2>&1 || return 0
	local var val def
	for var in GOPROXY GOSUMDB GOFLAGS GONOSUMDB GONOPROXY GOPRIVATE GOINSECURE; do
		val="$(go env "$var")"
		case "$var" in
		GOPROXY) def="https://proxy.golang.org,direct" ;;
		GOSUMDB) def="sum.golang.org" ;;
		*) def="" ;;
		esac
		if [ "$val" != "$def" ]; then
			printf '%s=%s\n' "$var" "$val"
		fi
	done
}
