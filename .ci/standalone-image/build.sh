#!/usr/bin/env bash
# Build the standalone image (Dockerfile.standalone: Debian, PostgreSQL 15 and graphd in one container) without a
# registry:
#   1. the base, graphd-ci/debian-postgresql:bookworm, a stand-in for debian:bookworm-slim imported from the
#      cached debootstrap tree that .ci/postgres-image/build.sh uses (bookworm minbase + postgresql-15), so no
#      new debootstrap run is needed; the Dockerfile installs what it lacks (tini, ca-certificates) with apt;
#   2. the image, from Dockerfile.standalone with BASE_IMAGE and GO_IMAGE pointing at the local images,
#      stamped with the commit; the deps stage is tagged (the same one Dockerfile builds) and the untagged
#      build images are pruned afterwards, as .ci/compose-smoke.sh does.
#
#   .ci/standalone-image/build.sh [TAG]     (or TAG=... env; default graphd:standalone)
#   FORCE=1 .ci/standalone-image/build.sh   re-import the base
#
# Environment:
#   GO_IMAGE     builder image (default graphd-ci/golang:1.26; built by .ci/go-image/build.sh if it is a
#                graphd-ci/ image)
#   BASE_IMAGE   base image (default graphd-ci/debian-postgresql:bookworm; imported here if it is that one)
#   DEPS_TAG     tag kept on the module stage (default graphd-ci/graphd-deps:latest, shared with compose)
#   GRAPHD_VERSION, GRAPHD_COMMIT   the version stamp (default ci and git rev-parse HEAD)
#
# Needs root (or sudo), debootstrap and a running Docker daemon.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
cd "$REPO_ROOT"

TAG="${1:-${TAG:-graphd:standalone}}"
GO_IMAGE="${GO_IMAGE:-graphd-ci/golang:1.26}"
DEFAULT_BASE=graphd-ci/debian-postgresql:bookworm
BASE_IMAGE="${BASE_IMAGE:-$DEFAULT_BASE}"
DEPS_TAG="${DEPS_TAG:-graphd-ci/graphd-deps:latest}"
GRAPHD_VERSION="${GRAPHD_VERSION:-ci}"
GRAPHD_COMMIT="${GRAPHD_COMMIT:-$(git rev-parse HEAD 2>/dev/null || echo unknown)}"

ensure_dockerd || die "Docker is not available"
# No buildx plugin: BuildKit cannot be used, take the classic builder.
if ! docker buildx version >/dev/null 2>&1; then export DOCKER_BUILDKIT=0; fi

# build_base TAG — import the cached bookworm + postgresql-15 tree as a plain Debian base (no entrypoint, no
# volume), unless TAG was imported from the same inputs.
build_base() {
	local tag="$1" inputs tree work r old_id
	inputs="$(inputs_hash "$CI_DIR/standalone-image/build.sh" "$CI_DIR/lib.sh" "$(debian_mirror)")"
	if [ "${FORCE:-0}" != 1 ] && image_is_current "$tag" "$inputs"; then
		log "image $tag is up to date (FORCE=1 re-imports it)"
		return 0
	fi
	# The same include list as .ci/postgres-image/build.sh, so the same cached tree.
	tree="$(debootstrap_tree postgres "postgresql-15")"
	work="$(mktemp -d /var/tmp/graphd-ci-standalone.XXXXXX)"
	# Hard-linked copy: the cached tree stays pristine (files are only removed here, never changed).
	as_root cp -al "$tree" "$work/root"
	r="$work/root"
	as_root rm -rf "$r/var/lib/postgresql/15" "$r/etc/postgresql/15"
	as_root rm -f "$r/var/log/postgresql/"*
	old_id="$(image_id "$tag")"
	log "importing $tag from $tree"
	tar_rootfs "$r" | docker import \
		--change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
		--change 'ENV LANG=C.UTF-8' \
		--change 'LABEL org.opencontainers.image.title=graphd-ci/debian-postgresql org.opencontainers.image.description="Debian bookworm minbase with postgresql-15, stand-in for debian:bookworm-slim"' \
		--change "LABEL graphd-ci.inputs=$inputs" \
		--change 'CMD ["bash"]' \
		- "$tag" >/dev/null
	as_root rm -rf "$work"
	remove_replaced_image "$old_id" "$tag"
	log "built $tag ($(docker image inspect -f '{{.Size}}' "$tag" | awk '{ printf "%.0f MB", $1 / 1e6 }'))"
}

case "$GO_IMAGE" in graphd-ci/*) "$CI_DIR/go-image/build.sh" "$GO_IMAGE" ;; esac
if [ "$BASE_IMAGE" = "$DEFAULT_BASE" ]; then build_base "$BASE_IMAGE"; fi

t=$(ci_now)
log "building $TAG (Dockerfile.standalone, BASE_IMAGE=$BASE_IMAGE GO_IMAGE=$GO_IMAGE, commit $GRAPHD_COMMIT)"
# The deps stage first, tagged, so that pruning keeps it cached (Dockerfile's deps stage is the same image).
build_log="$(mktemp)"
trap 'rm -f "$build_log"' EXIT
docker_build() {
	docker build "$@" . >"$build_log" 2>&1 || {
		tail -n 60 "$build_log" >&2
		die "docker build $* failed"
	}
}
docker_build --target deps -f Dockerfile.standalone --build-arg GO_IMAGE="$GO_IMAGE" -t "$DEPS_TAG"
old_id="$(image_id "$TAG")"
docker_build --force-rm -f Dockerfile.standalone \
	--build-arg GO_IMAGE="$GO_IMAGE" --build-arg BASE_IMAGE="$BASE_IMAGE" \
	--build-arg VERSION="$GRAPHD_VERSION" --build-arg COMMIT="$GRAPHD_COMMIT" \
	-t "$TAG"
log "built $TAG in $(($(ci_now) - t))s ($(docker image inspect -f '{{.Size}}' "$TAG" | awk '{ printf "%.0f MB", $1 / 1e6 }'))"
# The classic builder keeps each build's stages as untagged images; the labelled ones that nothing uses go,
# and so does the image this build replaced.
remove_replaced_image "$old_id" "$TAG"
docker image prune -f --filter label=io.graphd.stage >/dev/null
left="$(docker images -q -f dangling=true -f label=io.graphd.stage)"
[ -z "$left" ] || die "untagged graphd build images left after pruning: $left"
docker_image_exists "$DEPS_TAG" || die "pruning removed the cached module stage $DEPS_TAG"
