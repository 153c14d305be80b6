#!/usr/bin/env bash
# Benchmark (not a test): `podman run --rm` wall time on berth's CNI plugin vs Podman's netavark,
# with and without -p, against --network none; see docs/benchmarks.md. Extra flags go to
# podman_run.py, e.g. --count 50 --cases none,berth,netavark --berthd build/bin/berthd.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
exec env PYTHONDONTWRITEBYTECODE=1 /usr/bin/python3 "$here/podman_run.py" "$@"
