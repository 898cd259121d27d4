#!/usr/bin/env bash
# Build graphd-ci/postgres:15, a local stand-in for the official `postgres`
# image, from Debian's postgresql-15 package (no registry needed).
#
#   .ci/postgres-image/build.sh [TAG]      (or TAG=... env; default graphd-ci/postgres:15)
#   FORCE=1 .ci/postgres-image/build.sh    rebuild the image and the cached tree
#
# Needs root (or sudo), debootstrap and a running Docker daemon. The
# debootstrap tree is cached under /var/cache/graphd-ci/rootfs, so a rebuild
# only re-imports it. Nothing is done if the tag exists and was built from the
# same inputs (these scripts and lib.sh: label graphd-ci.inputs).
#
# The image honours POSTGRES_USER/PASSWORD/DB/INITDB_ARGS like the official
# one, keeps data in PGDATA=/var/lib/postgresql/data, prints "database system
# is ready to accept connections" twice on first start (temporary server, then
# the real one), and has `pg-restart` to restart PostgreSQL in place; see
# docker-entrypoint.sh.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

TAG="${1:-${TAG:-graphd-ci/postgres:15}}"
HERE="$CI_DIR/postgres-image"
PG_MAJOR=15

inputs="$(inputs_hash "$HERE/build.sh" "$HERE/docker-entrypoint.sh" "$HERE/pg-restart" "$CI_DIR/lib.sh" "$(debian_mirror)")"
if [ "${FORCE:-0}" != 1 ] && image_is_current "$TAG" "$inputs"; then
	log "image $TAG is up to date (FORCE=1 rebuilds)"
	exit 0
fi

tree="$(debootstrap_tree postgres "postgresql-$PG_MAJOR")"

# Work on a hard-linked copy so the cached tree stays pristine: only new
# files are written and files are removed, never modified in place.
work="$(mktemp -d /var/tmp/graphd-ci-pgimage.XXXXXX)"
cleanup() { as_root rm -rf "$work"; }
trap cleanup EXIT
as_root cp -al "$tree" "$work/root"
r="$work/root"

# The package made a cluster 15/main; the image initialises its own in PGDATA.
as_root rm -rf "$r/var/lib/postgresql/$PG_MAJOR" "$r/etc/postgresql/$PG_MAJOR"
as_root rm -f "$r/var/log/postgresql/"*

as_root install -m 0755 "$HERE/docker-entrypoint.sh" "$r/usr/local/bin/docker-entrypoint.sh"
as_root install -m 0755 "$HERE/pg-restart" "$r/usr/local/bin/pg-restart"
as_root mkdir -p "$r/docker-entrypoint-initdb.d" "$r/var/lib/postgresql/data" "$r/run/postgresql"
as_root chroot "$r" chown postgres:postgres /var/lib/postgresql /var/lib/postgresql/data /run/postgresql
as_root chmod 0700 "$r/var/lib/postgresql/data"
as_root chmod 3775 "$r/run/postgresql"

old_id="$(image_id "$TAG")"
log "importing $TAG"
tar_rootfs "$r" | docker import \
	--change 'ENV PATH=/usr/lib/postgresql/15/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
	--change 'ENV PGDATA=/var/lib/postgresql/data' \
	--change 'ENV LANG=C.UTF-8' \
	--change 'ENV PG_MAJOR=15' \
	--change 'VOLUME /var/lib/postgresql/data' \
	--change 'EXPOSE 5432' \
	--change 'LABEL org.opencontainers.image.title=graphd-ci/postgres org.opencontainers.image.description="Debian bookworm postgresql-15, stand-in for the official postgres image"' \
	--change "LABEL graphd-ci.inputs=$inputs" \
	--change 'ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]' \
	--change 'CMD ["postgres"]' \
	- "$TAG" >/dev/null
remove_replaced_image "$old_id" "$TAG"
log "built $TAG ($(docker image inspect -f '{{.Size}}' "$TAG" | awk '{ printf "%.0f MB", $1 / 1e6 }'))"
