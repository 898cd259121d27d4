# graphd — run `make help` for the targets.
SHELL := bash
GO    ?= go
PKGS  := ./...

.DEFAULT_GOAL := help

help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

run: ## run the server on 127.0.0.1:8080 (embedded PostgreSQL unless DATABASE_URL is set)
	$(GO) run ./cmd/graphd serve

build: ## build bin/graphd
	CGO_ENABLED=0 $(GO) build -trimpath -o bin/graphd ./cmd/graphd

test: ## run every test with the race detector (integration tests need PostgreSQL: see README)
	$(GO) test -race -shuffle=on -count=1 $(PKGS)

check: ## gofmt, go vet and staticcheck
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)
	$(GO) tool staticcheck $(PKGS)

fuzz: ## run each fuzz test for FUZZTIME (default 20s)
	@for f in $$(grep -rhoE '^func (Fuzz[A-Za-z0-9_]+)' --include='*_test.go' odata | sed 's/func //'); do \
		echo "== $$f"; $(GO) test -run='^$$' -fuzz="^$$f$$" -fuzztime=$${FUZZTIME:-20s} ./odata/ || exit 1; done

bench: ## run the Go benchmarks
	$(GO) test -run='^$$' -bench=. -benchmem $(PKGS)

compose-up: ## docker compose up --build (postgres + graphd on localhost:8080)
	docker compose up --build

.PHONY: help run build test check fuzz bench compose-up
