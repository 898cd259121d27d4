#!/usr/bin/env bash
# Checks of the Makefile targets a new user runs first (CI runs this after `make check`):
#
#   1. `make help` prints two aligned columns, whatever the length of the target names.
#   2. `make build` stamps bin/graphd with the commit: `bin/graphd version` names `git rev-parse HEAD`.
#   3. `make run` builds and execs graphd, so that one signal stops make, graphd and graphd's embedded
#      PostgreSQL: SIGINT to the process group (what Ctrl-C in a terminal sends), and SIGTERM to make alone
#      (what `kill`, `timeout` and process supervisors send). GNU make forwards SIGTERM to its child; a
#      SIGINT sent to make's pid alone it does not forward, for any recipe.
#
#   .ci/make-checks.sh
#
# Needs make, curl, git and the PostgreSQL server binaries (make run installs them as root).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"

fail=0
check_fail() {
	log "FAIL: $*"
	fail=1
}

# --- 1. make help -------------------------------------------------------------
help="$(make --no-print-directory help)"
printf '%s\n' "$help" >&2
cols="$(printf '%s\n' "$help" | awk '
	!/^  [^ ]+  +[^ ]/ { print "bad line: " $0; next }
	{ match($0, /^  [^ ]+ +/); print RLENGTH }' | sort -u)"
case "$cols" in
*bad*) check_fail "make help: a line is not '  TARGET  description': $cols" ;;
*$'\n'*) check_fail "make help: descriptions start in different columns: $(echo $cols)" ;;
'') check_fail "make help printed nothing" ;;
*) log "make help: $(printf '%s\n' "$help" | wc -l) targets, descriptions aligned at column $cols" ;;
esac

# --- 2. make build stamps the version -----------------------------------------
make --no-print-directory build >/dev/null
version="$(bin/graphd version)"
head="$(git rev-parse HEAD)"
log "bin/graphd version: $version"
case "$version" in
"graphd "*"(commit $head"*) ;;
*) check_fail "bin/graphd version does not name commit $head" ;;
esac

# --- 3. make run stops on one signal --------------------------------------------
tmp="$(mktemp -d)"
chmod 755 "$tmp" # as root, PostgreSQL runs as the postgres user and must enter the data directory
make_pid=
cleanup() {
	if [ -n "$make_pid" ] && kill -0 "$make_pid" 2>/dev/null; then kill -KILL -- "-$make_pid" 2>/dev/null || true; fi
	local pg
	pg="$(head -n 1 "$tmp/data/pgdata/postmaster.pid" 2>/dev/null || true)"
	if [ -n "$pg" ]; then kill -QUIT "$pg" 2>/dev/null || true; fi
	rm -rf "$tmp"
}
trap cleanup EXIT

# alive PID — whether PID is a live process (not a zombie).
alive() { [ -n "$1" ] && [ -e "/proc/$1" ] && ! grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null; }

# run_and_signal SIGNAL TARGET — start `make run` in its own session (like a terminal's foreground job),
# wait until graphd is ready, send SIGNAL to TARGET (group: the whole process group; make: make's pid
# only), and check that make, graphd and PostgreSQL are all gone within 30 s.
run_and_signal() {
	local sig="$1" target="$2" port graphd_pid pg_pid i
	port="$(free_port)"
	GRAPHD_DATA_DIR="$tmp/data" GRAPHD_ADDR="127.0.0.1:$port" setsid make --no-print-directory run >"$tmp/run.log" 2>&1 </dev/null &
	make_pid=$!
	for ((i = 0; i < 120; i++)); do
		curl -fsS --max-time 2 -o /dev/null "http://127.0.0.1:$port/readyz" 2>/dev/null && break
		kill -0 "$make_pid" 2>/dev/null || {
			tail -n 30 "$tmp/run.log" >&2
			check_fail "make run exited before graphd was ready"
			return
		}
		sleep 0.5
	done
	graphd_pid="$(pgrep -P "$make_pid" || true)"
	pg_pid="$(head -n 1 "$tmp/data/pgdata/postmaster.pid" 2>/dev/null || true)"
	if [ -z "$graphd_pid" ] || [ "$(cat "/proc/$graphd_pid/comm")" != graphd ] || [ -z "$pg_pid" ]; then
		ps -o pid,ppid,pgid,args --ppid "$make_pid" >&2 || true
		check_fail "make run: graphd is not make's child (pid '$graphd_pid'), or no PostgreSQL (pid '$pg_pid')"
		return
	fi
	case "$target" in
	group) kill -s "$sig" -- "-$make_pid" ;;
	make) kill -s "$sig" "$make_pid" ;;
	esac
	for ((i = 0; i < 60; i++)); do
		alive "$make_pid" || alive "$graphd_pid" || alive "$pg_pid" || break
		sleep 0.5
	done
	local left=()
	alive "$make_pid" && left+=("make ($make_pid)")
	alive "$graphd_pid" && left+=("graphd ($graphd_pid)")
	alive "$pg_pid" && left+=("postgres ($pg_pid)")
	if [ ${#left[@]} -gt 0 ]; then
		tail -n 20 "$tmp/run.log" >&2
		check_fail "SIG$sig to $target: still running after 30 s: ${left[*]}"
		kill -KILL "$graphd_pid" "$make_pid" 2>/dev/null || true
		sleep 1
	else
		log "SIG$sig to $target: make, graphd and PostgreSQL stopped in $((i / 2))s"
	fi
	wait "$make_pid" 2>/dev/null || true
	make_pid=
}

run_and_signal INT group
run_and_signal TERM make

exit $fail
