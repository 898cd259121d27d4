#!/bin/bash
# Entrypoint of graphd-ci/postgres: a stand-in for the official `postgres`
# image's docker-entrypoint.sh, for machines that cannot pull images.
#
# Environment (as in the official image):
#   POSTGRES_USER             superuser name            (default: postgres)
#   POSTGRES_PASSWORD         its password              (required unless
#                             POSTGRES_HOST_AUTH_METHOD=trust)
#   POSTGRES_DB               database created at init  (default: $POSTGRES_USER)
#   POSTGRES_INITDB_ARGS      extra initdb arguments (word-split)
#   POSTGRES_HOST_AUTH_METHOD auth for host connections (default: scram-sha-256)
#   PGDATA                    data directory            (default: /var/lib/postgresql/data)
#
# Arguments: `postgres [ARGS...]` or `-c ... [ARGS...]` runs the server with
# those arguments; anything else is exec'd as a command.
#
# Unlike the official image, the server does not replace this script as PID 1:
# the script stays PID 1 as a tiny supervisor so that PostgreSQL can be
# restarted inside a running container (the container and its published host
# port stay the same):
#   docker exec CONTAINER pg-restart          (preferred; waits until ready)
#   docker exec CONTAINER kill -USR1 1        (same, without waiting)
#   docker exec -u postgres CONTAINER pg_ctl restart -m fast -w
#                                             (also works: the new postmaster
#                                             is adopted; its log output goes
#                                             to the exec, not the container log)
# SIGTERM/SIGINT (docker stop) make PostgreSQL do a fast shutdown; SIGHUP
# reloads its configuration. If the server stops for any other reason (and is
# not restarted by pg_ctl within a few seconds), the container exits with the
# server's exit status, as the official image does.
set -Eeo pipefail

: "${PGDATA:=/var/lib/postgresql/data}"
: "${POSTGRES_USER:=postgres}"
: "${POSTGRES_DB:=$POSTGRES_USER}"
: "${POSTGRES_HOST_AUTH_METHOD:=scram-sha-256}"
export PGDATA POSTGRES_USER POSTGRES_DB POSTGRES_HOST_AUTH_METHOD
SOCKET_DIR=/var/run/postgresql

log() { printf '%s [entrypoint] %s\n' "$(date -u '+%Y-%m-%d %H:%M:%S.%3N UTC')" "$*"; }
err() { log "ERROR: $*" >&2; }

# Called as `docker run IMAGE -c fsync=off`: options for the server.
if [ "${1:0:1}" = '-' ]; then
	set -- postgres "$@"
fi

# Any other command: run it as is.
if [ "${1:-}" != postgres ]; then
	exec "$@"
fi

# As root: prepare the directories, then run this script again as postgres
# (so that everything below, including the server, runs as postgres).
if [ "$(id -u)" = 0 ]; then
	mkdir -p "$PGDATA" "$SOCKET_DIR"
	chmod 00700 "$PGDATA" || :
	chmod 03775 "$SOCKET_DIR" || :
	find "$PGDATA" \! -user postgres -exec chown postgres:postgres '{}' + || :
	find "$SOCKET_DIR" \! -user postgres -exec chown postgres:postgres '{}' + || :
	exec setpriv --reuid=postgres --regid=postgres --init-groups -- "${BASH_SOURCE[0]}" "$@"
fi

# Not root (either re-exec'd above or run with --user).
mkdir -p "$PGDATA" 2>/dev/null || :
chmod 00700 "$PGDATA" 2>/dev/null || :
if [ ! -w "$SOCKET_DIR" ]; then
	err "$SOCKET_DIR is missing or not writable by $(id -un)"
	exit 1
fi

shift # drop "postgres"; "$@" are now the server's arguments

init_cluster() {
	if [ -z "${POSTGRES_PASSWORD:-}" ] && [ "$POSTGRES_HOST_AUTH_METHOD" != trust ]; then
		err "Database is uninitialized and superuser password is not specified."
		err "Set POSTGRES_PASSWORD (or POSTGRES_HOST_AUTH_METHOD=trust to allow all connections without a password)."
		exit 1
	fi

	local -a initdb_args=(
		--username="$POSTGRES_USER"
		--encoding=UTF8 --locale=C.UTF-8
		--auth-local=trust --auth-host="$POSTGRES_HOST_AUTH_METHOD"
	)
	local -a extra=()
	if [ -n "${POSTGRES_INITDB_ARGS:-}" ]; then
		# Word-split like the official image (which evals it).
		eval "extra=($POSTGRES_INITDB_ARGS)"
	fi
	log "initdb in $PGDATA (user $POSTGRES_USER, database $POSTGRES_DB)"
	if [ -n "${POSTGRES_PASSWORD:-}" ]; then
		initdb "${initdb_args[@]}" --pwfile=<(printf '%s\n' "$POSTGRES_PASSWORD") "${extra[@]}"
	else
		initdb "${initdb_args[@]}" "${extra[@]}"
	fi

	# Listen on every address (the official image does the same through
	# postgresql.conf.sample), and allow password logins from anywhere.
	printf "\nlisten_addresses = '*'\n" >>"$PGDATA/postgresql.conf"
	printf '\nhost all all all %s\n' "$POSTGRES_HOST_AUTH_METHOD" >>"$PGDATA/pg_hba.conf"

	# Temporary server on the unix socket only, for setup.
	log "starting temporary server (unix socket only)"
	PGUSER="$POSTGRES_USER" pg_ctl -D "$PGDATA" \
		-o "$(printf '%q ' "$@" -c listen_addresses= -p "${PGPORT:-5432}")" -w start

	local -a psql=(psql -v ON_ERROR_STOP=1 --no-password --no-psqlrc
		--username "$POSTGRES_USER" --host "$SOCKET_DIR" --port "${PGPORT:-5432}")
	if [ "$POSTGRES_DB" != postgres ]; then
		log "creating database $POSTGRES_DB"
		"${psql[@]}" --dbname postgres --set db="$POSTGRES_DB" <<-'EOSQL'
			CREATE DATABASE :"db" ;
		EOSQL
	fi

	local f
	for f in /docker-entrypoint-initdb.d/*; do
		[ -e "$f" ] || continue
		case "$f" in
		*.sh)
			if [ -x "$f" ]; then
				log "running $f"
				"$f"
			else
				log "sourcing $f"
				# shellcheck disable=SC1090
				. "$f"
			fi
			;;
		*.sql)
			log "running $f"
			"${psql[@]}" --dbname "$POSTGRES_DB" -f "$f"
			;;
		*.sql.gz)
			log "running $f"
			gunzip -c "$f" | "${psql[@]}" --dbname "$POSTGRES_DB"
			;;
		*) log "ignoring $f" ;;
		esac
	done

	log "stopping temporary server"
	pg_ctl -D "$PGDATA" -m fast -w stop
	log "PostgreSQL init process complete; ready for start up."
}

if [ ! -s "$PGDATA/PG_VERSION" ]; then
	init_cluster "$@"
else
	log "PostgreSQL database directory appears to contain a database; skipping initialization"
fi

# ---------------------------------------------------------------------------
# Supervisor: run the server as a child; PID 1 stays this script.
# ---------------------------------------------------------------------------
pid=
stopping=
restart=
on_stop() {
	stopping=1
	if [ -n "$pid" ]; then kill -INT "$pid" 2>/dev/null || :; fi
}
on_restart() {
	if [ -n "$stopping" ]; then return; fi
	restart=1
	log "restart requested"
	if [ -n "$pid" ]; then kill -INT "$pid" 2>/dev/null || :; fi
}
on_hup() {
	if [ -n "$pid" ]; then kill -HUP "$pid" 2>/dev/null || :; fi
}
trap on_stop TERM INT QUIT
trap on_restart USR1
trap on_hup HUP

# postmaster_pid — PID in $PGDATA/postmaster.pid if that process is alive.
postmaster_pid() {
	local p
	p="$(head -n 1 "$PGDATA/postmaster.pid" 2>/dev/null)" || return 1
	[ -n "$p" ] && kill -0 "$p" 2>/dev/null && echo "$p"
}

# pause SECONDS — sleep, but let trapped signals in at once.
pause() {
	sleep "$1" &
	wait $! 2>/dev/null || :
}

status=0
while :; do
	if [ -z "$pid" ]; then
		postgres "$@" &
		pid=$!
	fi
	# Wait until the server process is gone. `wait` returns early when a
	# trapped signal arrives; adopted servers (started by pg_ctl, so not our
	# children) are polled.
	while :; do
		status=0
		wait "$pid" 2>/dev/null || status=$?
		if [ "$status" -eq 127 ]; then
			# An adopted server is not our child: poll it.
			kill -0 "$pid" 2>/dev/null || break
			pause 0.5
			continue
		fi
		# `wait` returns early (status > 128) when a trapped signal arrives.
		kill -0 "$pid" 2>/dev/null && continue
		if [ "$status" -gt 128 ]; then
			s=0
			wait "$pid" 2>/dev/null || s=$?
			[ "$s" -ne 127 ] && status=$s
		fi
		break
	done
	if [ "$status" -eq 127 ]; then status=0; fi # adopted: no status to collect
	old=$pid
	pid=

	if [ -n "$stopping" ]; then
		exit "$status"
	fi
	if [ -n "$restart" ]; then
		restart=
		log "PostgreSQL (pid $old) stopped with status $status; starting it again"
		continue
	fi
	# Stopped by someone else: `pg_ctl restart` starts a new postmaster right
	# after the old one exits. Adopt it if one appears within a few seconds.
	for _ in $(seq 1 50); do
		if new="$(postmaster_pid)" && [ "$new" != "$old" ]; then
			pid=$new
			log "adopted PostgreSQL started outside the entrypoint (pid $pid)"
			break
		fi
		pause 0.1
		[ -n "$stopping" ] && exit "$status"
	done
	if [ -z "$pid" ]; then
		log "PostgreSQL (pid $old) exited with status $status"
		exit "$status"
	fi
done
