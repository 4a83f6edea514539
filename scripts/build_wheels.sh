#!/usr/bin/env bash
# Build the wheels a home server installs: Hearth itself and each built-in skill
# (skills/*, each its own distribution). usage: bash scripts/build_wheels.sh [OUT_DIR, default dist]
# Install them by path (another project owns the name "hearth" on the package index):
#   pip install "$(ls dist/hearth-*.whl)[llm,server]" dist/hearth_*.whl
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mkdir -p "${1:-dist}" && cd "${1:-dist}" && pwd)
PY=${PYTHON:-.venv/bin/python}
# A stale build/ folder can carry files that no longer exist into the wheel.
rm -rf build skills/*/build
# The set-up's venv has setuptools>=77 already: build with it (seconds, no index needed).
flags=(--no-build-isolation)
"$PY" -c 'import setuptools, sys; sys.exit(int(setuptools.__version__.split(".")[0]) < 77)' 2>/dev/null || flags=()
"$PY" -m pip wheel -q --no-deps "${flags[@]}" -w "$out" . skills/*/ \
  2> >(grep -v "^WARNING: Location 'file:" >&2)  # this machine's pip config names index folders that do not exist
rm -rf build skills/*/build
ls "$out"/*.whl
