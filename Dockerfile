# graphd container image.
#
#   docker build -t graphd .                                   (golang:1.26 from a registry)
#   docker build --build-arg GO_IMAGE=graphd-ci/golang:1.26 -t graphd .
#                                    (no registry: local builder from .ci/go-image/build.sh)
#
# Written for the classic builder (DOCKER_BUILDKIT=0) as well as BuildKit:
# no RUN --mount, no COPY --chmod, no heredocs.

ARG GO_IMAGE=golang:1.26

FROM ${GO_IMAGE} AS build
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

# Modules first: this layer is reused until go.mod or go.sum change.
COPY go.mod go.sum ./
RUN go mod download

COPY . .
# The build cache is dropped in the same step: the classic builder cannot
# reuse it across builds, and it would only make this layer bigger.
RUN go build -trimpath -ldflags='-s -w' -o /out/graphd ./cmd/graphd \
 && go clean -cache \
 && mkdir -p /out/tmp && chmod 1777 /out/tmp

FROM scratch
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
