# graphd — run `make help` for the targets.
SHELL := bash
GO    ?= go
PKGS  := ./...

# What `graphd version` reports: the nearest v* tag (else "dev"), and the commit, with "-dirty" when tracked
# files have changes. Both can be given: make build VERSION=v1.2.3 COMMIT=….
ifeq ($(origin VERSION),undefined)
VERSION := $(shell git describe --tags --match 'v*' --dirty 2>/dev/null || echo dev)
endif
ifeq ($(origin COMMIT),undefined)
COMMIT := $(shell git rev-parse HEAD 2>/dev/null)
ifneq ($(COMMIT),)
COMMIT := $(COMMIT)$(if $(shell git status --porcelain --untracked-files=no 2>/dev/null),-dirty)
endif
endif
LDFLAGS := -X main.version=$(VERSION) -X main.commit=$(COMMIT)

.DEFAULT_GOAL := help

help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' \
		'{ name[NR] = $$1; desc[NR] = $$2; if (length($$1) > w) w = length($$1) } \
		 END { fmt = "  %-" w "s   %s\n"; for (i = 1; i <= NR; i++) printf fmt, name[i], desc[i] }'

deps: ## install the PostgreSQL server binaries if the machine has none (Debian/Ubuntu, as root)
	@if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 || [ -n "$$GRAPHD_PG_BINDIR$$DATABASE_URL" ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing PostgreSQL (apt-get install postgresql)"; apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
	else echo "note: no PostgreSQL binaries found; install PostgreSQL, set DATABASE_URL, or use docker compose up"; fi

# exec: graphd replaces the recipe's shell, so it is make's own child and the SIGINT (Ctrl-C) or SIGTERM that
# stops make stops graphd, which stops its PostgreSQL. (`go run` would leave graphd running.)
run: deps build ## build bin/graphd and run the server on 127.0.0.1:8080 (embedded PostgreSQL unless DATABASE_URL is set)
	exec bin/graphd serve

build: ## build bin/graphd, stamped with VERSION and COMMIT (see `bin/graphd version`)
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/graphd ./cmd/graphd

# go test shows nothing of passing packages, so which PostgreSQL the integration tests use is printed first,
# by the function the tests use (storetest.Choose); -race shares its compiled packages with the tests.
test: deps ## run every test with the race detector (integration tests need PostgreSQL: see README)
	@$(GO) run -race ./store/storetest/whichdb
	$(GO) test -race -shuffle=on -count=1 $(PKGS)

check: ## gofmt, go vet and staticcheck
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)
	$(GO) tool staticcheck $(PKGS)

SOAK ?= 5m
soak: deps ## run the linearizability test under faults for SOAK (default 5m): make soak SOAK=30m
	LINEARIZABILITY_DURATION=$(SOAK) $(GO) test -race -count=1 -timeout=24h -v -run='^TestLinearizability$$' ./cmd/graphd/

fuzz: ## run each fuzz test for FUZZTIME (default 20s)
	@for f in $$(grep -rhoE '^func (Fuzz[A-Za-z0-9_]+)' --include='*_test.go' odata | sed 's/func //'); do \
		echo "== $$f"; $(GO) test -run='^$$' -fuzz="^$$f$$" -fuzztime=$${FUZZTIME:-20s} ./odata/ || exit 1; done

BENCH_ARGS ?=
bench: ## measure graphd against pgbench with a real token, batch, admin API, 1M rows (docs/performance.md; BENCH_SCALE=0 skips 1M, BENCH_BASELINE=BINARY compares, BENCH_ARGS='-flags')
	$(GO) build -ldflags '$(LDFLAGS)' -o bin/graphd ./cmd/graphd
	$(GO) build -o bin/graphd-bench ./cmd/graphd-bench
	bin/graphd-bench -graphd bin/graphd $(BENCH_ARGS)

gobench: ## run the Go benchmarks
	$(GO) test -run='^$$' -bench=. -benchmem $(PKGS)

COMPOSE ?= $(shell docker compose version >/dev/null 2>&1 && echo "docker compose" || echo docker-compose)

compose-up: ## docker compose up --build (postgres + graphd on localhost:8080)
	GRAPHD_VERSION='$(VERSION)' GRAPHD_COMMIT='$(COMMIT)' $(COMPOSE) up --build

FILE ?= examples/seed-connector.json
compose-import: ## load FILE (default examples/seed-connector.json) into the running compose stack
	$(COMPOSE) exec -T graphd /graphd import - < '$(FILE)'

ci: ## what CI runs: installs Docker and PostgreSQL, builds local images, make check, make test, compose smoke test
	bash .ci/run

.PHONY: help deps run build test check soak fuzz bench gobench compose-up compose-import ci
