#!/usr/bin/env bash
# Compose smoke test of docker-compose.yml (PostgreSQL + graphd), as the
# README describes it:
#   1. PostgreSQL's healthcheck must not pass while the image's entrypoint
#      initialises the database (a slow init script keeps its temporary
#      server up), only once the real server runs.
#   2. Build graphd (the module stage tagged, the untagged build images
#      pruned afterwards), start the stack, wait for /readyz.
#   3. Load examples/seed-connector.json the README's way (compose exec -T
#      graphd /graphd import - < file), PATCH the seed id with
#      examples/seed-patch.json and check the seed's response, GET it, call
#      getHealthMetrics, create a row, check that `graphd version` names the
#      commit and the container's HEALTHCHECK passes; then tear everything
#      down (volumes too).
#
#   .ci/compose-smoke.sh
#
# Environment:
#   GO_IMAGE        builder image        (default graphd-ci/golang:1.26; built
#                                         by .ci/go-image/build.sh if it is a
#                                         graphd-ci/ image and missing)
#   POSTGRES_IMAGE  database image       (default graphd-ci/postgres:15; same)
#   PROJECT         compose project name (default graphd-ci)
#   GRAPHD_PORT     published port       (default 8080)
#   READY_TIMEOUT   seconds to wait for /readyz (default 180)
#   KEEP=1          leave the stack running afterwards (for debugging)
#
# Needs Docker (started if needed), docker-compose or `docker compose`,
# curl, and jq or python3.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"

export GO_IMAGE="${GO_IMAGE:-graphd-ci/golang:1.26}"
export POSTGRES_IMAGE="${POSTGRES_IMAGE:-graphd-ci/postgres:15}"
export GRAPHD_PORT="${GRAPHD_PORT:-8080}"
PROJECT="${PROJECT:-graphd-ci}"
READY_TIMEOUT="${READY_TIMEOUT:-180}"
BASE="http://127.0.0.1:$GRAPHD_PORT"
ENDPOINT="$BASE/beta/deviceManagement/certificateConnectorDetails"
SEED_ID=104d7361-7361-104d-6173-4d1061734d10
FIXTURE=examples/seed-connector.json
SEED_PATCH=examples/seed-patch.json
# The build's version stamp: `graphd version` in the container must name this commit.
GRAPHD_COMMIT="$(git rev-parse HEAD 2>/dev/null || echo unknown)"
GRAPHD_VERSION=ci
export GRAPHD_COMMIT GRAPHD_VERSION
# The Dockerfile's module stage, tagged so that pruning keeps it cached.
DEPS_TAG="${DEPS_TAG:-graphd-ci/graphd-deps:latest}"

ensure_dockerd || die "Docker is not available"

# No buildx plugin: BuildKit cannot be used, take the classic builder.
if ! docker buildx version >/dev/null 2>&1; then
	export DOCKER_BUILDKIT=0 COMPOSE_BAKE=false
fi
export COMPOSE_DOCKER_CLI_BUILD="${COMPOSE_DOCKER_CLI_BUILD:-1}"
# docker-compose 1.29 gives up on a slow daemon after 60 s; a loaded 2-core
# machine can be that slow.
export COMPOSE_HTTP_TIMEOUT="${COMPOSE_HTTP_TIMEOUT:-300}" DOCKER_CLIENT_TIMEOUT="${DOCKER_CLIENT_TIMEOUT:-300}"

case "$GO_IMAGE" in graphd-ci/*) "$CI_DIR/go-image/build.sh" "$GO_IMAGE" ;; esac
case "$POSTGRES_IMAGE" in graphd-ci/*) "$CI_DIR/postgres-image/build.sh" "$POSTGRES_IMAGE" ;; esac

compose="$(compose_cmd)" || die "neither 'docker compose' nor docker-compose is installed"
read -r -a COMPOSE <<<"$compose"
COMPOSE+=(--ansi never -p "$PROJECT")
log "compose: ${COMPOSE[*]} (GO_IMAGE=$GO_IMAGE POSTGRES_IMAGE=$POSTGRES_IMAGE)"

tmp="$(mktemp -d)"
finish() {
	local rc=$?
	if [ $rc -ne 0 ]; then
		banner "compose smoke test FAILED (exit $rc): state and logs"
		"${COMPOSE[@]}" ps || true
		"${COMPOSE[@]}" logs --no-color --tail=300 || true
	fi
	if [ "${KEEP:-0}" = 1 ]; then
		log "KEEP=1: stack left running; stop it with: ${COMPOSE[*]} down -v"
	else
		local t0
		t0=$(ci_now)
		"${COMPOSE[@]}" down -v --remove-orphans >/dev/null 2>&1 || "${COMPOSE[@]}" down -v --remove-orphans || true
		log "stack removed in $(($(ci_now) - t0))s"
	fi
	rm -rf "$tmp"
	exit $rc
}
trap finish EXIT

# json_get FILE KEY — top-level string field of a JSON document.
json_get() {
	if command -v jq >/dev/null 2>&1; then
		jq -er --arg k "$2" '.[$k] | strings' "$1"
	else
		python3 -c 'import json,sys; v=json.load(open(sys.argv[1]))[sys.argv[2]]; assert isinstance(v,str); print(v)' "$1" "$2"
	fi
}

# http METHOD URL [BODY_FILE] — prints the status code; the body goes to $tmp/body.
http() {
	local -a args=(-sS -o "$tmp/body" -w '%{http_code}' --max-time 10 -X "$1" -H 'Accept: application/json')
	if [ -n "${3:-}" ]; then args+=(-H 'Content-Type: application/json' --data-binary "@$3"); fi
	curl "${args[@]}" "$2"
}

# expect_body TEXT... — every TEXT must occur verbatim in $tmp/body.
expect_body() {
	local want ok=0
	for want in "$@"; do
		if ! grep -qF -- "$want" "$tmp/body"; then
			log "response body lacks: $want"
			ok=1
		fi
	done
	if [ $ok -ne 0 ]; then
		log "body was: $(head -c 2000 "$tmp/body")"
	fi
	return $ok
}

# Leftovers of an interrupted earlier run would hold the port and volume.
"${COMPOSE[@]}" down -v --remove-orphans >/dev/null 2>&1 || true

# --- 1. PostgreSQL readiness --------------------------------------------------
# An init script that sleeps keeps the entrypoint's temporary server (unix
# socket only) up for a while. The compose healthcheck must stay unhealthy
# until the init is complete, and must have been tried meanwhile.
printf '#!/bin/sh\necho "slow-init: holding the temporary server for 12 s"\nsleep 12\n' >"$tmp/slow-init.sh"
chmod 0755 "$tmp/slow-init.sh"
printf 'services:\n  postgres:\n    volumes:\n      - %s:/docker-entrypoint-initdb.d/slow-init.sh:ro\n' "$tmp/slow-init.sh" >"$tmp/slow-init.yml"
SLOW=("${COMPOSE[@]}" -f docker-compose.yml -f "$tmp/slow-init.yml")
t=$(ci_now)
"${SLOW[@]}" up -d postgres
pg_cid="$("${SLOW[@]}" ps -q postgres)"
[ -n "$pg_cid" ] || die "the postgres service did not start"
tried=0
while :; do
	health="$(docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}' "$pg_cid")"
	logs="$(docker logs "$pg_cid" 2>&1)"
	init_done=0
	if grep -q 'init process complete' <<<"$logs"; then init_done=1; fi
	if [ "$init_done" = 0 ] && grep -q 'slow-init: holding' <<<"$logs"; then
		# A check that ran while the temporary server was up, and failed.
		case " $(docker inspect -f '{{range .State.Health.Log}}{{.ExitCode}} {{end}}' "$pg_cid")" in
		*" 1 "* | *" 2 "*) tried=1 ;;
		esac
	fi
	case "$health" in
	healthy)
		[ "$init_done" = 1 ] || die "PostgreSQL reported healthy while its entrypoint was still initialising"
		break
		;;
	none) die "the postgres service has no healthcheck" ;;
	esac
	[ $(($(ci_now) - t)) -lt 120 ] || die "PostgreSQL not healthy after 120s (health: $health)"
	sleep 1
done
[ "$tried" = 1 ] || die "no failed healthcheck while the temporary server ran: the check proved nothing"
log "PostgreSQL healthcheck: failing during the init, healthy after it ($(($(ci_now) - t))s)"
"${SLOW[@]}" down -v --remove-orphans >/dev/null

# --- 2. build and start --------------------------------------------------------
# The deps stage first, tagged: the compose build reuses it from the cache,
# and pruning the build's untagged images afterwards leaves it alone.
t=$(ci_now)
log "building graphd (Dockerfile, GO_IMAGE=$GO_IMAGE, commit $GRAPHD_COMMIT)"
docker build -q --target deps --build-arg GO_IMAGE="$GO_IMAGE" -t "$DEPS_TAG" . >/dev/null
# `up -d --build`, in two steps so that a failed build leaves no container
# behind (--force-rm).
"${COMPOSE[@]}" build --force-rm graphd
log "built in $(($(ci_now) - t))s"
# The classic builder keeps each build's stages as untagged images (hundreds
# of MB per source change); the labelled ones that nothing uses go.
docker image prune -f --filter label=io.graphd.stage >/dev/null
left="$(docker images -q -f dangling=true -f label=io.graphd.stage)"
[ -z "$left" ] || die "untagged graphd build images left after pruning: $left"
docker_image_exists "$DEPS_TAG" || die "pruning removed the cached module stage $DEPS_TAG"
t=$(ci_now)
"${COMPOSE[@]}" up -d
log "stack started in $(($(ci_now) - t))s"

t=$(ci_now)
log "waiting for $BASE/readyz (up to ${READY_TIMEOUT}s)"
until curl -fsS --max-time 2 -o /dev/null "$BASE/readyz" 2>/dev/null; do
	if [ $(($(ci_now) - t)) -ge "$READY_TIMEOUT" ]; then
		die "graphd not ready after ${READY_TIMEOUT}s"
	fi
	sleep 1
done
log "graphd ready after $(($(ci_now) - t))s"

# --- 3. the README's calls -----------------------------------------------------
# Load the fixture as the README says: the graphd in the container, stdin.
out="$("${COMPOSE[@]}" exec -T graphd /graphd import - <"$FIXTURE")" || die "import into the stack failed: $out"
log "import: $out"
case "$out" in
"imported 1 certificateConnectorDetails, 0 userPfxCertificates and 3 health-metric samples into tenant "*) ;;
*) die "import printed '$out'" ;;
esac

# The seed's PATCH on the seed's id; the server writes compact JSON.
code="$(http PATCH "$ENDPOINT/$SEED_ID" "$SEED_PATCH")"
log "PATCH $ENDPOINT/$SEED_ID -> $code"
[ "$code" = 200 ] || {
	log "body: $(head -c 2000 "$tmp/body")"
	die "PATCH returned HTTP $code, want 200"
}
expect_body '"@odata.etag":"W/\"2\""' "\"id\":\"$SEED_ID\"" '"connectorName":"Connector Name value"' \
	'"machineName":"Machine Name value"' '"enrollmentDateTime":"2016-12-31T23:57:59.3726057-08:00"' \
	'"lastCheckinDateTime":"2017-01-01T00:02:46.0431416-08:00"' '"connectorVersion":"Connector Version value"' ||
	die "PATCH response does not carry the seed values"

# And the change is stored.
code="$(http GET "$ENDPOINT/$SEED_ID")"
log "GET $ENDPOINT/$SEED_ID -> $code"
[ "$code" = 200 ] || die "GET returned HTTP $code, want 200"
expect_body '"enrollmentDateTime":"2016-12-31T23:57:59.3726057-08:00"' '"connectorName":"Connector Name value"' \
	'"machineName":"Machine Name value"' '"connectorVersion":"Connector Version value"' ||
	die "GET after PATCH does not return the seed values"

# The fixture's samples back the actions.
printf '{"metricNames":["pfxImport"]}' >"$tmp/metrics.json"
code="$(http POST "$ENDPOINT/$SEED_ID/getHealthMetrics" "$tmp/metrics.json")"
log "POST $ENDPOINT/$SEED_ID/getHealthMetrics -> $code"
[ "$code" = 200 ] || die "getHealthMetrics returned HTTP $code, want 200"
expect_body '"value":[{"name":"pfxImport","value":359}]' || die "getHealthMetrics does not sum the fixture's samples"

# Create a row (server-generated id).
printf '{"connectorName":"compose smoke test","machineName":"ci"}' >"$tmp/create.json"
code="$(http POST "$ENDPOINT" "$tmp/create.json")"
log "POST $ENDPOINT -> $code"
[ "$code" = 201 ] || die "create returned HTTP $code, want 201: $(head -c 2000 "$tmp/body")"
json_get "$tmp/body" id >/dev/null || die "no id in the create response: $(head -c 2000 "$tmp/body")"

# The image is stamped with the commit it was built from.
version="$("${COMPOSE[@]}" exec -T graphd /graphd version)"
log "graphd version: $version"
case "$version" in
"graphd $GRAPHD_VERSION (commit $GRAPHD_COMMIT,"*) ;;
*) die "graphd version in the image does not name version $GRAPHD_VERSION and commit $GRAPHD_COMMIT" ;;
esac

# The image's HEALTHCHECK (`graphd healthcheck`) must report healthy.
cid="$("${COMPOSE[@]}" ps -q graphd)"
t=$(ci_now)
while :; do
	health="$(docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}' "$cid")"
	case "$health" in
	healthy) break ;;
	none) die "graphd container has no healthcheck" ;;
	esac
	if [ $(($(ci_now) - t)) -ge 60 ]; then
		docker inspect -f '{{json .State.Health}}' "$cid" >&2 || true
		die "graphd container is '$health' after 60s"
	fi
	sleep 2
done
log "graphd container healthy (after $(($(ci_now) - t))s more)"

banner "compose smoke test passed"
