#!/usr/bin/env bash
# Compose smoke test: build and start docker-compose.yml (PostgreSQL +
# graphd), wait for /readyz, create a certificateConnectorDetails row, PATCH
# it with .ci/seed-patch.json and check the answer, check the container's
# HEALTHCHECK, then tear everything down (volumes too).
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
SEED="$CI_DIR/seed-patch.json"

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

# `up -d --build`, in two steps so that a failed build leaves no container
# behind (--force-rm).
t=$(ci_now)
log "building graphd (Dockerfile, GO_IMAGE=$GO_IMAGE)"
"${COMPOSE[@]}" build --force-rm graphd
log "built in $(($(ci_now) - t))s"
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

# Create a row (values differ from the seed so the PATCH is visible).
cat >"$tmp/create.json" <<'EOF'
{
  "@odata.type": "#microsoft.graph.certificateConnectorDetails",
  "connectorName": "compose smoke test",
  "machineName": "ci",
  "connectorVersion": "0"
}
EOF
code="$(http POST "$ENDPOINT" "$tmp/create.json")"
log "POST $ENDPOINT -> $code"
case "$code" in 200 | 201) ;; *)
	log "body: $(head -c 2000 "$tmp/body")"
	die "create failed with HTTP $code"
	;;
esac
id="$(json_get "$tmp/body" id)" || die "no id in the create response: $(head -c 2000 "$tmp/body")"
log "created id $id"

# PATCH it with the seed body; the server writes compact JSON.
code="$(http PATCH "$ENDPOINT/$id" "$SEED")"
log "PATCH $ENDPOINT/$id -> $code"
[ "$code" = 200 ] || {
	log "body: $(head -c 2000 "$tmp/body")"
	die "PATCH returned HTTP $code, want 200"
}
expect_body '"enrollmentDateTime":"2016-12-31T23:57:59.3726057-08:00"' '"connectorName":"Connector Name value"' ||
	die "PATCH response does not carry the seed values"

# And the change is stored.
code="$(http GET "$ENDPOINT/$id")"
log "GET $ENDPOINT/$id -> $code"
[ "$code" = 200 ] || die "GET returned HTTP $code, want 200"
expect_body '"enrollmentDateTime":"2016-12-31T23:57:59.3726057-08:00"' '"connectorName":"Connector Name value"' \
	'"machineName":"Machine Name value"' '"connectorVersion":"Connector Version value"' ||
	die "GET after PATCH does not return the seed values"

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
