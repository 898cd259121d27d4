# graphd container image.
#
#   docker build -t graphd .                                   (golang:1.26 from a registry)
#   docker build --build-arg GO_IMAGE=graphd-ci/golang:1.26 -t graphd .
#                                    (no registry: local builder from .ci/go-image/build.sh)
#   --build-arg VERSION=v1.2.3 --build-arg COMMIT=$(git rev-parse HEAD)
#                                    (what `graphd version` prints; default dev and unknown)
#
# Written for the classic builder (DOCKER_BUILDKIT=0) as well as BuildKit:
# no RUN --mount, no COPY --chmod, no heredocs.

ARG GO_IMAGE=golang:1.26

# Modules: this stage is reused until go.mod or go.sum change. The io.graphd.stage labels let CI prune the
# untagged images the classic builder leaves per build (docker image prune --filter label=io.graphd.stage)
# while it keeps this stage tagged, and so cached.
FROM ${GO_IMAGE} AS deps
LABEL io.graphd.stage=deps
# Module download settings; unset unless given with --build-arg, so the
# builder image's own settings apply by default.
ARG GOPROXY
ARG GOSUMDB
ARG GOFLAGS
ARG GONOSUMDB
ARG GONOPROXY
ARG GOPRIVATE
ARG GOINSECURE
ENV CGO_ENABLED=0 GOTOOLCHAIN=local
WORKDIR /src
COPY go.mod go.sum ./
# Also compile the modules graphd imports (and the standard library packages they use) into this stage's
# build cache, so that a source change recompiles only graphd's own packages. A package missing from the list
# is compiled by the build stage instead; a failure here only costs that time.
RUN go mod download \
 && (go build -trimpath \
       github.com/go-jose/go-jose/v4 github.com/go-jose/go-jose/v4/jwt github.com/gorilla/mux \
       github.com/jackc/pgx/v5 github.com/jackc/pgx/v5/pgconn github.com/jackc/pgx/v5/pgtype \
       github.com/jackc/pgx/v5/pgxpool github.com/jackc/pgx/v5/stdlib \
       github.com/pressly/goose/v3 github.com/pressly/goose/v3/lock \
       github.com/prometheus/client_golang/prometheus github.com/prometheus/client_golang/prometheus/collectors \
       github.com/prometheus/client_golang/prometheus/promhttp \
     || echo "warming the build cache failed: the build stage compiles everything")

FROM deps AS build
LABEL io.graphd.stage=build
ARG GOFLAGS
COPY . .
# What `graphd version` reports (.git is not in the build context): make compose-up and CI pass them.
ARG VERSION=dev
ARG COMMIT=
# Only graphd's own packages compile here; the deps stage's build cache has the rest. (This stage is not kept:
# CI prunes it, and only /out goes into the image.)
RUN go build -trimpath -ldflags="-s -w -X main.version=${VERSION} -X main.commit=${COMMIT}" -o /out/graphd ./cmd/graphd \
 && mkdir -p /out/tmp && chmod 1777 /out/tmp

FROM scratch
LABEL io.graphd.stage=image org.opencontainers.image.title=graphd
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /out/tmp /tmp
COPY --from=build /out/graphd /graphd
USER 65532:65532
ENV GRAPHD_ADDR=0.0.0.0:8080
EXPOSE 8080
# `graphd healthcheck` GETs http://$GRAPHD_ADDR/readyz (0.0.0.0 -> 127.0.0.1).
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 CMD ["/graphd", "healthcheck"]
ENTRYPOINT ["/graphd"]
CMD ["serve"]
