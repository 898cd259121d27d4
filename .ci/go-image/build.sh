#!/usr/bin/env bash
# Build graphd-ci/golang:1.26, a local stand-in for the official `golang`
# builder image: Debian bookworm (minbase + ca-certificates + git) with this
# machine's Go toolchain (GOROOT, /usr/local/go) copied in.
#
#   .ci/go-image/build.sh [TAG]     (or TAG=... env; default graphd-ci/golang:1.26)
#   FORCE=1 .ci/go-image/build.sh   rebuild the image and the cached tree
#
# Needs root (or sudo), debootstrap and a running Docker daemon. Nothing is
# done if the tag exists and was built from the same inputs (this script,
# lib.sh, the Go version, the host's Go settings and CA bundle: label
# graphd-ci.inputs). The Go settings of this machine that differ
# from Go's defaults (GOPROXY, GOFLAGS, GONOSUMDB, ...) are baked into the
# image as ENV, so a `docker build` in it fetches modules as the host does.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

TAG="${1:-${TAG:-graphd-ci/golang:1.26}}"
GOROOT_HOST="${GOROOT_HOST:-$(go env GOROOT 2>/dev/null || echo /usr/local/go)}"

[ -x "$GOROOT_HOST/bin/go" ] || die "no Go toolchain at $GOROOT_HOST"
go_version="$("$GOROOT_HOST/bin/go" env GOVERSION)"

inputs="$(inputs_hash "$CI_DIR/go-image/build.sh" "$CI_DIR/lib.sh" "$GOROOT_HOST" "$go_version" \
	"$(go_env_build_args)" /etc/ssl/certs/ca-certificates.crt "$(debian_mirror)")"
if [ "${FORCE:-0}" != 1 ] && image_is_current "$TAG" "$inputs"; then
	log "image $TAG is up to date (FORCE=1 rebuilds)"
	exit 0
fi
want="${TAG##*:}"
case "$go_version" in
go"$want" | go"$want".*) ;;
*) log "WARNING: tag $TAG but the toolchain at $GOROOT_HOST is $go_version" ;;
esac

tree="$(debootstrap_tree golang "ca-certificates,git")"

work="$(mktemp -d /var/tmp/graphd-ci-goimage.XXXXXX)"
cleanup() { as_root rm -rf "$work"; }
trap cleanup EXIT
as_root cp -al "$tree" "$work/root"
r="$work/root"

log "copying $go_version from $GOROOT_HOST"
as_root rm -rf "$r/usr/local/go"
as_root cp -a "$GOROOT_HOST" "$r/usr/local/go"
as_root rm -rf "$r/usr/local/go/pkg/obj" # build cache leftovers, if any
# Trust what the host trusts: machines whose HTTPS goes through a proxy with
# its own CA (in /usr/local/share/ca-certificates) need it for the module
# proxy. The tree's files are hard links into the cache: remove, then write.
if [ -s /etc/ssl/certs/ca-certificates.crt ]; then
	log "using the host's CA bundle ($(grep -c 'BEGIN CERTIFICATE' /etc/ssl/certs/ca-certificates.crt) certificates)"
	as_root rm -f "$r/etc/ssl/certs/ca-certificates.crt"
	as_root install -m 0644 /etc/ssl/certs/ca-certificates.crt "$r/etc/ssl/certs/ca-certificates.crt"
	for crt in /usr/local/share/ca-certificates/*.crt; do
		[ -f "$crt" ] || continue
		as_root install -D -m 0644 "$crt" "$r/usr/local/share/ca-certificates/$(basename "$crt")"
	done
fi
as_root mkdir -p "$r/go/src" "$r/go/bin"
as_root chmod -R 1777 "$r/go"

changes=(
	--change 'ENV PATH=/go/bin:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
	--change 'ENV GOPATH=/go'
	--change 'ENV GOTOOLCHAIN=local'
	--change "ENV GOLANG_VERSION=${go_version#go}"
	--change 'ENV LANG=C.UTF-8'
	--change 'WORKDIR /go'
	--change 'LABEL org.opencontainers.image.title=graphd-ci/golang'
	--change "LABEL graphd-ci.inputs=$inputs"
	--change 'CMD ["bash"]'
)
while IFS='=' read -r name value; do
	[ -n "$name" ] || continue
	log "baking host Go setting $name=$value"
	value="${value//\\/\\\\}"
	value="${value//\"/\\\"}"
	changes+=(--change "ENV $name=\"$value\"")
done < <(go_env_build_args)

old_id="$(image_id "$TAG")"
log "importing $TAG"
tar_rootfs "$r" | docker import "${changes[@]}" - "$TAG" >/dev/null
remove_replaced_image "$old_id" "$TAG"
docker run --rm "$TAG" go version >&2
log "built $TAG ($(docker image inspect -f '{{.Size}}' "$TAG" | awk '{ printf "%.0f MB", $1 / 1e6 }'))"
