# onestroke — see README.md. Every target works on a fresh machine with Go.
GO      ?= go
BIN     ?= bin/onestroke
PKGS    := ./...
# Packages with suites behind the integration tag (real servers in containers).
INTEGRATION_PKGS := ./tests/... ./cmd/...

.PHONY: run build test test-go test-integration pact test-browser vet fmt-check check-tracked clean bench bench-profile

## run: start the service on :5757 in development mode (embedded stores, mock WeChat)
run:
	ONESTROKE_DEV=true ONESTROKE_LOG_FORMAT=$${ONESTROKE_LOG_FORMAT:-text} $(GO) run ./cmd/onestroke

## build: build the static binary into bin/
build:
	CGO_ENABLED=0 $(GO) build -trimpath -o $(BIN) ./cmd/onestroke

## test: every test suite
test: check-tracked fmt-check vet test-go test-integration pact test-browser

## test-go: unit, contract and end-to-end tests, with the race detector; no Docker needed
test-go:
	$(GO) test -race -count=1 $(PKGS)

## test-integration: the suites against real Redis and MongoDB in containers.
## scripts/testworld.sh provides the Docker engine and images (see docker/README.md);
## without Docker it exits 3: a loud skip on a laptop, a failure under CI=true.
test-integration:
	@scripts/testworld.sh -- $(GO) test -race -count=1 -tags integration $(INTEGRATION_PKGS); rc=$$?; \
	if [ $$rc -eq 3 ] && [ "$${CI:-}" != "true" ]; then \
		echo "!!! SKIPPED the integration suites: no Docker engine, and scripts/testworld.sh may not install one here." >&2; \
		echo "!!! Start Docker (or run as root on Debian) to run them. Under CI=true this is a failure." >&2; \
		exit 0; \
	fi; exit $$rc

## pact: the contract suites only — the client library's tests and pact, the WeChat
## consumer pact, then the provider verification (scripts/pact.sh)
pact:
	GO=$(GO) scripts/pact.sh

## test-browser: the browser tests (tests/browser): Debian's Chromium driven by playwright-core
## against the built service in development mode (scripts/browser.sh installs Chromium as root
## on Debian); without Chromium or npm: a loud skip on a laptop, a failure under CI=true.
test-browser:
	GO=$(GO) scripts/browser.sh

## bench: the load benchmark of issue 5 (cmd/onestroke-bench): the built service in three
## configurations (embedded; Redis sessions; Redis + MongoDB) against a bare net/http + Redis GET
## ceiling, then the Go micro-benchmarks; the report goes to $(BENCH_OUT) and stdout.
## BENCH_FLAGS passes flags to `onestroke-bench run`, e.g. make bench BENCH_FLAGS='-d 5s'.
## scripts/testworld.sh provides redis-server and the MongoDB stand-in image; without Docker it
## exits 3, and then the embedded and Redis configurations still run (Redis if redis-server is
## installed; the report says what was skipped and why).
BENCH_OUT   ?= bench/results.md
BENCH_FLAGS ?=
BENCH_MICRO := ./domain/ ./app/ ./adapters/httpapi/ ./adapters/memstore/ ./adapters/boltstore/ ./adapters/render/
bench:
	CGO_ENABLED=0 $(GO) build -o $(BIN) ./cmd/onestroke
	$(GO) build -o bin/onestroke-bench ./cmd/onestroke-bench
	@scripts/testworld.sh -- bin/onestroke-bench run -out $(BENCH_OUT) $(BENCH_FLAGS); rc=$$?; \
	if [ $$rc -eq 3 ]; then \
		echo "!!! no Docker engine (scripts/testworld.sh exited 3): running without the redis+mongo configuration." >&2; \
		bin/onestroke-bench run -out $(BENCH_OUT) -configs embedded,redis \
			-note "No Docker engine (scripts/testworld.sh exited 3): the redis+mongo configuration was not run." $(BENCH_FLAGS); rc=$$?; \
	fi; exit $$rc
	@{ echo '## Go micro-benchmarks'; echo; echo '```'; \
		echo "\$$ go test -run '^$$' -bench . -benchmem $(BENCH_MICRO)"; \
		$(GO) test -run '^$$' -bench . -benchmem $(BENCH_MICRO) 2>&1; echo "(exit status $$?)"; \
		echo '```'; } | tee -a $(BENCH_OUT)

## bench-profile: make bench with the service's CPU profile taken over every measured window
## (onestroke-bench run -profile); the report and a text summary of each profile (flat and cumulative
## top 40) go to bench/profiles/. Profiling costs the service a little CPU: the figures of record
## are make bench's.
PROFILE_DIR := bench/profiles
bench-profile:
	@mkdir -p $(PROFILE_DIR) && rm -f $(PROFILE_DIR)/*.pprof $(PROFILE_DIR)/*.txt
	$(MAKE) bench BENCH_OUT=$(PROFILE_DIR)/results.md BENCH_FLAGS='-profile $(PROFILE_DIR) $(BENCH_FLAGS)'
	@for f in $(PROFILE_DIR)/*.pprof; do \
		{ $(GO) tool pprof -top -nodecount=40 $(BIN) $$f; echo; \
		  $(GO) tool pprof -top -cum -nodecount=40 $(BIN) $$f; } > $${f%.pprof}.txt 2>&1; \
	done; echo "profiles and their summaries: $(PROFILE_DIR)/"

vet:
	$(GO) vet $(PKGS)
	$(GO) vet -tags integration $(PKGS)

## check-tracked: fail when git tracks a built binary or a file over 2 MiB
check-tracked:
	@scripts/check-tracked.sh

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './client/*')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

clean:
	rm -rf bin
