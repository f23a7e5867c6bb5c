# onestroke — see README.md. Every target works on a fresh machine with Go.
GO      ?= go
BIN     ?= bin/onestroke
PKGS    := ./...

.PHONY: run build test test-go vet fmt-check clean

## run: start the service on :5757 in development mode (embedded stores, mock WeChat)
run:
	ONESTROKE_LOG_FORMAT=$${ONESTROKE_LOG_FORMAT:-text} $(GO) run ./cmd/onestroke

## build: build the static binary into bin/
build:
	CGO_ENABLED=0 $(GO) build -trimpath -o $(BIN) ./cmd/onestroke

## test: every test suite
test: fmt-check vet test-go

## test-go: Go unit, contract and end-to-end tests, with the race detector
test-go:
	$(GO) test -race -count=1 $(PKGS)

vet:
	$(GO) vet $(PKGS)

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './client/*')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

clean:
	rm -rf bin
