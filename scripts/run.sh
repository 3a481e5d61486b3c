#!/usr/bin/env bash
# The two README commands: `bash scripts/run.sh tokens ...` (main job until training lands) and
# `bash scripts/run.sh test ...`. Each sets itself up on first use.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"; cd "$root"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_HUB_DISABLE_TELEMETRY=1 TOKENIZERS_PARALLELISM=false
venv="$(bash scripts/setup.sh)"
cmd="${1:-}"; shift || true
case "$cmd" in
  tokens) exec "$venv/bin/videolmm-tokens" "$@" ;;
  test)   exec "$venv/bin/python" -m pytest -q -p no:cacheprovider "$@" ;;
  bench)  exec "$venv/bin/python" "benchmarks/${1:?which benchmark}.py" "${@:2}" ;;
  python) exec "$venv/bin/python" "$@" ;;
  *) echo "usage: $0 {tokens|test|bench NAME|python} [args...]" >&2; exit 2 ;;
esac
