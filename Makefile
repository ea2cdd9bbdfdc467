# Ariadne — build, test, benchmark.
# `make demo` runs the main job; `make test` runs every test.

GO        ?= go
BIN       := $(CURDIR)/bin
GOFLAGS   ?=
export GOFLAGS
TELEMETRYGEN_VERSION := v0.161.0
DEMO_FLAGS ?=

.PHONY: all build test test-go test-sdk test-web test-clickhouse tools chdb web web-docs demo bench bench-clickhouse fuzz vet clean

all: build

# The UI is embedded from the committed internal/api/ui/dist, so building the
# server needs no npm; `make web` rebuilds the UI.
build:
	$(GO) build -o $(BIN)/ariadne ./cmd/ariadne

# Tools the tests need, installed into ./bin (never by hand).
tools: $(BIN)/telemetrygen

$(BIN)/telemetrygen:
	GOBIN=$(BIN) $(GO) install github.com/open-telemetry/opentelemetry-collector-contrib/cmd/telemetrygen@$(TELEMETRYGEN_VERSION)

test: tools chdb test-go test-sdk test-web

# test-go runs every Go test, the ClickHouse engine's included (chdb is a
# prerequisite of `test`; a bare `make test-go` without it fails in those
# packages unless ARIADNE_CHDB_SKIP=1).
test-go:
	ARIADNE_TELEMETRYGEN=$(BIN)/telemetrygen $(GO) test -timeout 20m ./...

# The ClickHouse engine's tests alone; ARIADNE_CLICKHOUSE_DSN, when set,
# adds the integration tests against that server.
test-clickhouse: chdb
	$(GO) test -timeout 20m ./internal/store/clickhouse/...

# ClickHouse 26 as a library (chDB), for the ClickHouse engine's tests: the
# npm package brings libchdb.so (about 140 MB download, 550 MB on disk,
# under 30 s) into build/chdb, which git ignores. The tests find it there
# (or through CHDB_LIB_PATH) and load it without cgo.
CHDB_VERSION := 3.4.0
CHDB_DIR     := $(CURDIR)/build/chdb
chdb: $(CHDB_DIR)/.installed-$(CHDB_VERSION)

$(CHDB_DIR)/.installed-$(CHDB_VERSION):
	@command -v npm >/dev/null || { echo "make chdb needs npm (apt-get install -y npm)"; exit 1; }
	rm -rf $(CHDB_DIR) && mkdir -p $(CHDB_DIR)
	cd $(CHDB_DIR) && echo '{"private": true}' > package.json && \
	  npm install --no-audit --no-fund --ignore-scripts --omit=dev chdb@$(CHDB_VERSION)
	@ls $(CHDB_DIR)/node_modules/@chdb/lib-*/libchdb.so >/dev/null || { echo "chdb $(CHDB_VERSION) brought no libchdb.so for this platform"; exit 1; }
	touch $@

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

# The ClickHouse engine's storage benchmarks on chDB (docs/benchmarks-clickhouse.md).
bench-clickhouse: chdb
	@mkdir -p $(BIN)
	ARIADNE_BENCH_SPANS=$(BENCH_SPANS) $(GO) test -run '^$$' -bench . -benchtime 1x -timeout 3h ./internal/store/clickhouse/ | tee $(BIN)/bench-clickhouse.txt

FUZZTIME ?= 30s
fuzz:
	@for pkg in $$($(GO) list ./internal/...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

clean:
	rm -rf $(BIN) build
