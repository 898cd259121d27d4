#!/usr/bin/env bash
# Smoke test of the standalone image (Dockerfile.standalone), one container and nothing else, as README.md's
# "Use graphd in your tests" shows it:
#   1. start it with GRAPHD_ADMIN_TOKEN and a fixture of another tenant mounted in /fixtures; wait for /readyz;
#      every process in it (tini, graphd, PostgreSQL) runs as a non-root user;
#   2. the admin API refuses a call without the admin token (401, Graph envelope); import
#      examples/seed-connector.json through it, mint a token (POST /_graphd/tokens), send the seed's PATCH
#      (examples/seed-patch.json) and check the seed's response, find the PATCH in the journal; the mounted
#      fixture was imported into its tenant; `docker exec … graphd token` works too; `graphd version` names the
#      commit; the HEALTHCHECK reports healthy;
#   3. restart the container: the data is still there (the PATCHed values, ETag W/"2"), the journal is empty;
#   4. remove the container and its volume, and the build images nothing uses.
#
#   .ci/standalone-smoke.sh
#
# Environment:
#   GRAPHD_STANDALONE_IMAGE  image (default graphd:standalone; built by .ci/standalone-image/build.sh if missing)
#   READY_TIMEOUT            seconds to wait for /readyz (default 120)
#   KEEP=1                   leave the container running afterwards (for debugging)
#
# Needs Docker (started if needed), curl and jq.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"

IMAGE="${GRAPHD_STANDALONE_IMAGE:-graphd:standalone}"
READY_TIMEOUT="${READY_TIMEOUT:-120}"
NAME=graphd-ci-standalone
DEV_TENANT=00000000-0000-4000-8000-000000000001
OTHER_TENANT=6c1f5e0a-3b9d-4e2a-9f10-2b7c4d8e9a01
MOUNTED_ID=0c0ffee0-0000-4000-8000-00000000f127
SEED_ID=104d7361-7361-104d-6173-4d1061734d10
ADMIN_TOKEN="ci-admin-$(head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n')"
GRAPHD_COMMIT="${GRAPHD_COMMIT:-$(git rev-parse HEAD 2>/dev/null || echo unknown)}"

ensure_dockerd || die "Docker is not available"
command -v jq >/dev/null || die "jq is not installed"
docker_image_exists "$IMAGE" || "$CI_DIR/standalone-image/build.sh" "$IMAGE"

tmp="$(mktemp -d)"
finish() {
	local rc=$?
	if [ $rc -ne 0 ]; then
		banner "standalone smoke test FAILED (exit $rc): container state and logs"
		docker ps -a --filter "name=^$NAME\$" || true
		docker logs --tail 200 "$NAME" 2>&1 | cut -c1-400 || true
	fi
	if [ "${KEEP:-0}" = 1 ]; then
		log "KEEP=1: container $NAME left running; remove it with: docker rm -f -v $NAME"
	else
		docker rm -f -v "$NAME" >/dev/null 2>&1 || true
	fi
	rm -rf "$tmp"
	exit $rc
}
trap finish EXIT

PORT="$(free_port)"
BASE="http://127.0.0.1:$PORT"
ENDPOINT="$BASE/beta/deviceManagement/certificateConnectorDetails"

# call METHOD URL [BODY_FILE] [HEADER...] — prints the status code; the body goes to $tmp/body.
call() {
	local method="$1" url="$2" body="${3:-}"
	shift 3 || shift $#
	local -a args=(-sS -o "$tmp/body" -w '%{http_code}' --max-time 10 -X "$method" -H 'Accept: application/json')
	if [ -n "$body" ]; then args+=(-H 'Content-Type: application/json' --data-binary "@$body"); fi
	local h
	for h in "$@"; do args+=(-H "$h"); done
	curl "${args[@]}" "$url"
}
admin() { call "$1" "$BASE$2" "${3:-}" "Authorization: Bearer $ADMIN_TOKEN"; }
graph() { call "$1" "$2" "${3:-}" "Authorization: Bearer $TOKEN"; }

# expect CODE WANT WHAT — fail naming WHAT unless the status code is WANT.
expect() {
	[ "$1" = "$2" ] || die "$3: HTTP $1, want $2; body: $(head -c 2000 "$tmp/body")"
	log "$3: HTTP $1"
}

# expect_body TEXT... — every TEXT must occur verbatim in $tmp/body.
expect_body() {
	local want
	for want in "$@"; do
		grep -qF -- "$want" "$tmp/body" || die "response body lacks $want; body: $(head -c 2000 "$tmp/body")"
	done
}

wait_ready() {
	local t
	t=$(ci_now)
	until curl -fsS --max-time 2 -o /dev/null "$BASE/readyz" 2>/dev/null; do
		[ "$(docker inspect -f '{{.State.Running}}' "$NAME")" = true ] || die "the container stopped"
		[ $(($(ci_now) - t)) -lt "$READY_TIMEOUT" ] || die "graphd not ready after ${READY_TIMEOUT}s"
		sleep 0.5
	done
	log "graphd ready after $(($(ci_now) - t))s"
}

# --- 1. start ------------------------------------------------------------------------------------------
docker rm -f -v "$NAME" >/dev/null 2>&1 || true
mkdir -p "$tmp/fixtures"
cat >"$tmp/fixtures/other-tenant.json" <<EOF
{"tenant": "$OTHER_TENANT", "certificateConnectorDetails": [{"id": "$MOUNTED_ID", "connectorName": "mounted fixture"}]}
EOF
# Readable by the image's user, whatever the host's umask.
chmod 0755 "$tmp" "$tmp/fixtures"
chmod 0644 "$tmp/fixtures/other-tenant.json"
log "starting $IMAGE as $NAME on $BASE"
docker run -d --name "$NAME" -p "127.0.0.1:$PORT:8080" -e GRAPHD_ADMIN_TOKEN="$ADMIN_TOKEN" \
	-v "$tmp/fixtures:/fixtures:ro" "$IMAGE" >/dev/null
wait_ready

# Every process of the container, PostgreSQL included, runs as the image's user.
procs="$(docker top "$NAME" -eo pid,uid,args)"
printf '%s\n' "$procs" >&2
awk 'NR > 1 && $2 == 0 { bad = 1 } END { exit bad }' <<<"$procs" || die "a process in the container runs as root"
grep -qE '^ *[0-9]+ +10001 +/usr/lib/postgresql/15/bin/postgres ' <<<"$procs" || die "no PostgreSQL server running as uid 10001"

# --- 2. the admin API and the seed PATCH ---------------------------------------------------------------
code="$(call GET "$BASE/_graphd/requests" "")"
expect "$code" 401 "GET /_graphd/requests without the admin token"
expect_body '"code":"InvalidAuthenticationToken"'

code="$(admin POST "/_graphd/tenants/$DEV_TENANT/import" examples/seed-connector.json)"
expect "$code" 200 "POST /_graphd/tenants/$DEV_TENANT/import examples/seed-connector.json"
[ "$(jq -c '{c: .certificateConnectorDetails, s: .healthMetricSamples}' "$tmp/body")" = '{"c":1,"s":3}' ] ||
	die "import answered $(cat "$tmp/body"), want 1 connector and 3 samples"

printf '{"tenant":"%s","scopes":["DeviceManagementConfiguration.ReadWrite.All"]}' "$DEV_TENANT" >"$tmp/token.json"
code="$(admin POST /_graphd/tokens "$tmp/token.json")"
expect "$code" 200 "POST /_graphd/tokens"
TOKEN="$(jq -er '.access_token' "$tmp/body")"
[ "$(jq -r '.token_type' "$tmp/body")" = Bearer ] || die "token_type is not Bearer: $(cat "$tmp/body")"

code="$(graph PATCH "$ENDPOINT/$SEED_ID" examples/seed-patch.json)"
expect "$code" 200 "PATCH $ENDPOINT/$SEED_ID (the seed's request)"
expect_body '"@odata.etag":"W/\"2\""' "\"id\":\"$SEED_ID\"" '"connectorName":"Connector Name value"' \
	'"machineName":"Machine Name value"' '"enrollmentDateTime":"2016-12-31T23:57:59.3726057-08:00"' \
	'"lastCheckinDateTime":"2017-01-01T00:02:46.0431416-08:00"' '"connectorVersion":"Connector Version value"'

code="$(admin GET "/_graphd/requests?method=PATCH")"
expect "$code" 200 "GET /_graphd/requests?method=PATCH"
[ "$(jq -c '[.value[] | {status, path, tenant, name: .requestBody.connectorName}]' "$tmp/body")" = \
	"[{\"status\":200,\"path\":\"/beta/deviceManagement/certificateConnectorDetails/$SEED_ID\",\"tenant\":\"$DEV_TENANT\",\"name\":\"Connector Name value\"}]" ] ||
	die "the journal does not hold exactly the seed PATCH: $(head -c 2000 "$tmp/body")"

# The fixture mounted at /fixtures went into the tenant it names.
printf '{"tenant":"%s","roles":["DeviceManagementConfiguration.Read.All"]}' "$OTHER_TENANT" >"$tmp/token.json"
admin POST /_graphd/tokens "$tmp/token.json" >/dev/null
other_token="$(jq -er '.access_token' "$tmp/body")"
code="$(call GET "$ENDPOINT/$MOUNTED_ID" "" "Authorization: Bearer $other_token")"
expect "$code" 200 "GET the mounted fixture's connector in tenant $OTHER_TENANT"
expect_body '"connectorName":"mounted fixture"'

# graphd's CLI in the container attaches to the running server's cluster.
TOKEN="$(docker exec "$NAME" graphd token)"
code="$(graph GET "$ENDPOINT/$SEED_ID")"
expect "$code" 200 "GET $ENDPOINT/$SEED_ID with a token from docker exec graphd token"

version="$(docker exec "$NAME" graphd version)"
log "graphd version: $version"
case "$version" in
*"(commit $GRAPHD_COMMIT"*) ;;
*) die "graphd version in the image does not name commit $GRAPHD_COMMIT" ;;
esac

t=$(ci_now)
while :; do
	health="$(docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}' "$NAME")"
	case "$health" in
	healthy) break ;;
	none) die "the image has no HEALTHCHECK" ;;
	esac
	if [ $(($(ci_now) - t)) -ge 60 ]; then
		docker inspect -f '{{json .State.Health}}' "$NAME" >&2 || true
		die "the container is '$health' after 60s"
	fi
	sleep 1
done
log "container healthy (after $(($(ci_now) - t))s more)"

# --- 3. restart: the data stays ------------------------------------------------------------------------
t=$(ci_now)
docker restart "$NAME" >/dev/null
log "restarted in $(($(ci_now) - t))s"
wait_ready
code="$(graph GET "$ENDPOINT/$SEED_ID")"
expect "$code" 200 "GET $ENDPOINT/$SEED_ID after the restart"
expect_body '"@odata.etag":"W/\"2\""' '"connectorName":"Connector Name value"' \
	'"enrollmentDateTime":"2016-12-31T23:57:59.3726057-08:00"' '"connectorVersion":"Connector Version value"'
code="$(admin GET "/_graphd/requests?method=PATCH")"
expect "$code" 200 "GET /_graphd/requests?method=PATCH after the restart"
[ "$(jq -c '.value' "$tmp/body")" = '[]' ] || die "the journal survived the restart: $(head -c 2000 "$tmp/body")"
docker logs "$NAME" 2>&1 | grep -q '"msg":"embedded postgres stopped"' ||
	die "graphd did not stop PostgreSQL on docker restart's SIGTERM"

# --- 4. clean up -----------------------------------------------------------------------------------------
docker rm -f -v "$NAME" >/dev/null
docker image prune -f --filter label=io.graphd.stage >/dev/null
left="$(docker images -q -f dangling=true -f label=io.graphd.stage)"
[ -z "$left" ] || die "untagged graphd build images left after pruning: $left"

banner "standalone smoke test passed"
