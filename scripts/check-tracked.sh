#!/usr/bin/env bash
# scripts/check-tracked.sh [DIR] — fails when git tracks a built binary or a file over 2 MiB.
#
# A built binary in the repository costs every clone its size forever and is not reproducible
# from the sources beside it (STYLE: "never commit a built binary"). `make test` runs this.
# A file counts as an executable binary when it starts with an ELF, Mach-O or PE header, or
# when it is marked executable and has a NUL byte in its first 8 KiB (scripts are text).
set -euo pipefail
cd "${1:-.}"
limit=$((2 * 1024 * 1024))
problems=0
while IFS= read -r -d '' entry; do
  mode=${entry%% *}
  path=${entry#*$'\t'}
  [ -f "$path" ] || continue # deleted in the work tree, or a submodule
  size=$(stat -c %s -- "$path")
  if [ "$size" -gt "$limit" ]; then
    echo "check-tracked: $path is $size bytes, over the 2 MiB limit for a tracked file" >&2
    problems=$((problems + 1))
    continue
  fi
  magic=$(head -c 4 -- "$path" | od -An -tx1 | tr -d ' \n')
  case "$magic" in
    7f454c46 | feedface | feedfacf | cefaedfe | cffaedfe | cafebabe | 4d5a*)
      echo "check-tracked: $path is an executable binary (header $magic); build it, do not commit it" >&2
      problems=$((problems + 1))
      continue
      ;;
  esac
  if [ "$mode" = 100755 ] && head -c 8192 -- "$path" | tr -d '\000' | cmp -s - <(head -c 8192 -- "$path"); then
    : # executable text: a script
  elif [ "$mode" = 100755 ]; then
    echo "check-tracked: $path is marked executable and is not text" >&2
    problems=$((problems + 1))
  fi
done < <(git ls-files -s -z)
if [ "$problems" -gt 0 ]; then
  echo "check-tracked: $problems tracked file(s) must not be in the repository (remove them with git rm --cached and add them to .gitignore)" >&2
  exit 1
fi
echo "check-tracked: no built binaries or files over 2 MiB are tracked"
