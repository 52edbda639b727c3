#!/usr/bin/env bash
# Runs every fuzz target in the module for a fixed number of inputs each (default 5000x).
# A count, not a duration: Go 1.26's time-bounded fuzzing can fail at the deadline with a
# bare "context deadline exceeded" on a loaded machine (golang/go#75804).
# Usage: scripts/fuzz.sh [COUNT]   e.g. 5000x, or 30s for a local time-boxed run
set -euo pipefail
cd "$(dirname "$0")/.."
dur="${1:-5000x}"
for pkg in $(go list ./...); do
  dir=$(go list -f '{{.Dir}}' "$pkg")
  for target in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //' | sort -u); do
    echo "fuzz $pkg $target ($dur)"
    go test "$pkg" -run '^$' -fuzz "^${target}\$" -fuzztime "$dur" >/tmp/tessera-fuzz.log 2>&1 || { cat /tmp/tessera-fuzz.log; exit 1; }
  done
done
