#!/usr/bin/env bash
# Makes the native pact library that pact-go v2.4.2 links against (libpact_ffi 0.4.28)
# available without GitHub: `pact-go install` downloads from GitHub, which is not
# reachable here, but the npm package below ships the same library.
#
#   scripts/pact-ffi.sh [DEST_DIR]     (default: <repo root>/.cache/pact/lib)
#
# Prints the absolute folder that holds libpact_ffi.so, for example:
#   LIB=$(scripts/pact-ffi.sh)
#   CGO_LDFLAGS="-L$LIB -Wl,-rpath,$LIB" go test ./...
# Idempotent: a non-empty library already in place is kept.
set -euo pipefail

# 18.1.0 ships libpact_ffi 0.4.28; 19 and later ship 0.5.x, which pact-go v2.4.2 cannot link.
PACKAGE='@pact-foundation/pact-core-linux-x64-glibc@18.1.0'
LIB_IN_PACKAGE='package/prebuilds/linux-x64/libpact_ffi.so'

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="${1:-$repo_root/.cache/pact/lib}"
mkdir -p "$dest"
dest="$(cd "$dest" && pwd)"
lib="$dest/libpact_ffi.so"

if [[ -s "$lib" ]]; then
  echo "$dest"
  exit 0
fi

if [[ "$(uname -s)/$(uname -m)" != "Linux/x86_64" ]]; then
  echo "pact-ffi.sh: $PACKAGE is for Linux x86_64 (glibc), this is $(uname -s)/$(uname -m)" >&2
  exit 1
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# npm checks the tarball against the registry's integrity hash.
npm pack --silent --pack-destination "$tmp" "$PACKAGE" >/dev/null
tar -xzf "$tmp"/*.tgz -C "$tmp" "$LIB_IN_PACKAGE"

# A shared object starts with the ELF magic; anything else must not be installed.
if [[ "$(head -c 4 "$tmp/$LIB_IN_PACKAGE" | od -An -c | tr -d ' ')" != '177ELF' ]]; then
  echo "pact-ffi.sh: $LIB_IN_PACKAGE in $PACKAGE is not an ELF library" >&2
  exit 1
fi

# Copy under a temporary name and rename, so an interrupted run never leaves a
# partial file that the check above would take for a finished one.
cp "$tmp/$LIB_IN_PACKAGE" "$lib.partial.$$"
mv -f "$lib.partial.$$" "$lib"
echo "$dest"
