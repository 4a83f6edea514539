#!/usr/bin/env bash
# Build the wheels a home server installs: Hearth itself and each built-in skill
# (skills/*, each its own distribution). usage: bash scripts/build_wheels.sh [OUT_DIR, default dist]
# Install them by path (another project owns the name "hearth" on the package index):
#   pip install "$(ls dist/hearth-*.whl)[llm,server]" dist/hearth_*.whl
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mkdir -p "${1:-dist}" && cd "${1:-dist}" && pwd)
PY=${PYTHON:-$PWD/.venv/bin/python}
# Build from a copy: setuptools leaves build/ and *.egg-info beside the sources, and an
# egg-info in skills/X makes its entry point look installed to anything that puts skills/X
# on sys.path (the tests do).
src=$(mktemp -d) && trap 'rm -rf "$src"' EXIT
"$PY" - "$src" <<'PYCODE'
import shutil, sys
skip = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "build", "dist", "tests", "conftest.py")
for name in ("pyproject.toml", "README.md", "LICENSE"):
    shutil.copy(name, sys.argv[1])
for name in ("assistant", "skills"):
    shutil.copytree(name, f"{sys.argv[1]}/{name}", ignore=skip)
PYCODE
# The set-up's venv has setuptools>=77 already: build with it (seconds, no index needed).
flags=(--no-build-isolation)
"$PY" -c 'import setuptools, sys; sys.exit(int(setuptools.__version__.split(".")[0]) < 77)' 2>/dev/null || flags=()
(cd "$src" && "$PY" -m pip wheel -q --no-deps "${flags[@]}" -w "$out" . skills/*/ \
  2> >(grep -v "^WARNING: Location 'file:.*' is ignored: it is neither a file nor a directory\.$" >&2))
ls "$out"/*.whl
