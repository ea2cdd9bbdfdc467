# Ariadne — build, test, benchmark.
# `make demo` runs the main job; `make test` runs every test.

GO        ?= go
BIN       := $(CURDIR)/bin
GOFLAGS   ?=
export GOFLAGS
TELEMETRYGEN_VERSION := v0.161.0
DEMO_FLAGS ?=

.PHONY: all build test test-go test-sdk test-web tools web web-docs demo bench fuzz vet clean

all: build

# The UI is embedded from the committed internal/api/ui/dist, so building the
# server needs no npm; `make web` rebuilds the UI.
build:
	$(GO) build -o $(BIN)/ariadne ./cmd/ariadne

# Tools the tests need, installed into ./bin (never by hand).
tools: $(BIN)/telemetrygen

$(BIN)/telemetrygen:
	GOBIN=$(BIN) $(GO) install github.com/open-telemetry/opentelemetry-collector-contrib/cmd/telemetrygen@$(TELEMETRYGEN_VERSION)

test: tools test-go test-sdk test-web

test-go:
	ARIADNE_TELEMETRYGEN=$(BIN)/telemetrygen $(GO) test -timeout 20m ./...

test-sdk:
	cd sdk && $(GO) test -timeout 10m ./...

vet:
	$(GO) vet ./...
	cd sdk && $(GO) vet ./...

# The UI (web/) is built into internal/api/ui/dist, which is committed so
# that `go build` works without npm; rebuild and commit it after UI changes.
web:
	cd web && npm ci && npm run build

# UI tests: Vitest units, then end-to-end in Debian's Chromium (never a
# downloaded browser) against a real server built from this tree.
CHROMIUM ?= /usr/bin/chromium
test-web: web
	@test -x $(CHROMIUM) || { echo "test-web needs Chromium at $(CHROMIUM): apt-get install -y chromium"; exit 1; }
	cd web && npm test
	$(GO) build -o $(BIN)/ariadne ./cmd/ariadne
	cd web && CHROMIUM=$(CHROMIUM) ARIADNE_BIN=$(BIN)/ariadne npm run e2e

# Same as the end-to-end tests, writing the screenshots and UI benchmark
# numbers into docs/ instead of bin/web-e2e.
web-docs: web
	$(GO) build -o $(BIN)/ariadne ./cmd/ariadne
	cd web && CHROMIUM=$(CHROMIUM) ARIADNE_BIN=$(BIN)/ariadne ARIADNE_UI_OUT=$(CURDIR)/docs npm run e2e

demo: build
	$(BIN)/ariadne demo $(DEMO_FLAGS)

# Benchmarks: `make bench` runs the Go benchmarks and the end-to-end ingest
# replay; results go to docs/benchmarks.md by hand from the printed report.
BENCH_SPANS ?= 10000000
bench: build
	$(GO) test -run '^$$' -bench . -benchmem ./internal/... | tee $(BIN)/bench-go.txt
	ARIADNE_BENCH_SPANS=$(BENCH_SPANS) $(GO) test -run '^$$' -bench . -benchtime 1x -timeout 60m ./internal/store/duckdb/ | tee $(BIN)/bench-store.txt
	$(GO) run ./bench/replay -spans $(BENCH_SPANS) -server $(BIN)/ariadne | tee $(BIN)/bench-replay.txt

FUZZTIME ?= 30s
fuzz:
	@for pkg in $$($(GO) list ./internal/...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

clean:
	rm -rf $(BIN)
