#!/usr/bin/env bash
# Benchmark (not a test): see docs/benchmarks.md. Extra flags go to dnsbench.py, e.g.
#   bench/dns_auth.sh --seconds 5 --rounds 1 --servers knot
# berthd is taken from $BERTHD or build/bin/berthd (skipped with a note if absent).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
exec env PYTHONDONTWRITEBYTECODE=1 /usr/bin/python3 "$here/dnsbench.py" update "$@"
