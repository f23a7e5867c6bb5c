#!/usr/bin/env bash
# The browser tests (tests/browser): Debian's Chromium driven by playwright-core
# from npm, against the built service in development mode.
#
# Needs node/npm (the npm registry) and Chromium at $ONESTROKE_CHROMIUM (default
# /usr/bin/chromium). As root on Debian it installs the `chromium` package when it
# is missing (never a browser download: playwright's own fails on this network).
# If either is still missing: a loud skip on a laptop, a failure under CI=true.
#   ONESTROKE_BROWSER_APT=0   never run apt-get
#   ONESTROKE_SCREENSHOTS=DIR keep the screenshots there (default: a temporary folder)
set -euo pipefail
cd "$(dirname "$0")/.."
GO="${GO:-go}"
CHROMIUM="${ONESTROKE_CHROMIUM:-/usr/bin/chromium}"
export ONESTROKE_CHROMIUM="$CHROMIUM"

missing() {
  if [[ "${CI:-}" == "true" ]]; then
    echo "browser: CI=true and $1: failing (CI never skips)" >&2
    exit 1
  fi
  echo "!!! SKIPPED the browser tests: $1" >&2
  exit 0
}

command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || missing "node/npm is not installed"

if [[ ! -x "$CHROMIUM" && "${ONESTROKE_BROWSER_APT:-1}" != 0 && "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then
  echo "browser: installing Debian's chromium (apt-get)" >&2
  apt() { timeout 900 apt-get -o DPkg::Lock::Timeout=300 "$@"; }
  if ! DEBIAN_FRONTEND=noninteractive apt install -y -q --no-install-recommends chromium fonts-dejavu-core >&2; then
    apt update -q >&2 || true
    DEBIAN_FRONTEND=noninteractive apt install -y -q --no-install-recommends chromium fonts-dejavu-core >&2 ||
      missing "apt-get install chromium failed"
  fi
fi
[[ -x "$CHROMIUM" ]] || missing "Chromium is not at $CHROMIUM (install Debian's chromium, or set ONESTROKE_CHROMIUM)"
echo "browser: $("$CHROMIUM" --version 2>/dev/null | tail -n1) at $CHROMIUM" >&2

(cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)
"$GO" vet -tags browser ./tests/browser/
exec "$GO" test -tags browser -count=1 -v ./tests/browser/
