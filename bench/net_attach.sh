#!/usr/bin/env bash
# Benchmark (not a test): container attach latency, berth vs netavark vs CNI plugins; see
# docs/benchmarks.md. Extra flags go to net_attach.py, e.g. --count 50 --scale 0.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
exec env PYTHONDONTWRITEBYTECODE=1 /usr/bin/python3 "$here/net_attach.py" "$@"
