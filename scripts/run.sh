#!/usr/bin/env bash
# The README commands: `bash scripts/run.sh train ...` (the main job) and `bash scripts/run.sh test ...`.
# Each sets itself up on first use; every console script of the package is reachable the same way.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"; cd "$root"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_HUB_DISABLE_TELEMETRY=1 TOKENIZERS_PARALLELISM=false
venv="$(bash scripts/setup.sh)"
cmd="${1:-}"; shift || true
case "$cmd" in
  train|tokens|prepare|plan|generate|eval|compare)
          exec "$venv/bin/videolmm-$cmd" "$@" ;;
  test)   exec "$venv/bin/python" -m pytest -q -p no:cacheprovider "$@" ;;
  bench)  exec "$venv/bin/python" "benchmarks/${1:?which benchmark}.py" "${@:2}" ;;
  python) exec "$venv/bin/python" "$@" ;;
  *) echo "usage: $0 {train|test|tokens|prepare|plan|generate|eval|compare|bench NAME|python} [args...]" >&2; exit 2 ;;
esac
