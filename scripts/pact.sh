#!/usr/bin/env bash
# The contract suites, in the order pact needs (see README "Contracts"):
#   1. the client library's unit tests and its pact-js consumer tests (client/pacts),
#   2. the service's pact-go consumer tests against WeChat (tests/pact/pacts),
#   3. the pact-go provider verification of the service against the client's pact.
# Then the regenerated pact files must equal the committed ones: a contract that
# changed without being committed fails here.
#
# Needs Node/npm (the npm registry) and the native pact library, which
# scripts/pact-ffi.sh fetches from npm. If either is missing: a loud skip on a
# laptop, a failure under CI=true.
set -euo pipefail
cd "$(dirname "$0")/.."
GO="${GO:-go}"

missing() {
  if [[ "${CI:-}" == "true" ]]; then
    echo "pact: CI=true and $1: failing (CI never skips)" >&2
    exit 1
  fi
  echo "!!! SKIPPED the contract suites: $1" >&2
  exit 0
}

command -v npm >/dev/null 2>&1 || missing "npm is not installed"
export PACT_DO_NOT_TRACK=true PACT_LOG_LEVEL="${PACT_LOG_LEVEL:-WARN}"

echo "pact: client library unit tests and consumer pact (pact-js)" >&2
(cd client && npm ci --no-audit --no-fund --loglevel=error && npm test && npm run test:pact)

LIB="$(scripts/pact-ffi.sh)" || missing "the native pact library could not be fetched (scripts/pact-ffi.sh)"
export CGO_ENABLED=1 CGO_LDFLAGS="-L$LIB -Wl,-rpath,$LIB"

echo "pact: service → WeChat consumer pact (pact-go)" >&2
rm -f tests/pact/pacts/*.json  # pact-go merges into existing files
"$GO" vet -tags pact ./tests/pact/
"$GO" test -tags pact -count=1 -p 1 -run 'TestWeChat' ./tests/pact/

echo "pact: provider verification of the service against the client's pact (pact-go)" >&2
"$GO" test -tags pact -count=1 -run 'TestProvider' ./tests/pact/

if git rev-parse --git-dir >/dev/null 2>&1; then
  if ! git diff --exit-code --stat -- client/pacts tests/pact/pacts; then
    echo "pact: the consumer tests wrote pact files that differ from the committed ones (above): commit them" >&2
    exit 1
  fi
fi
echo "pact: all contract suites passed" >&2
