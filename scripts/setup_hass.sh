#!/usr/bin/env bash
# The two programs the integration tests run beside Hearth, each in a venv of its own
# (they pin their own wyoming, aiohttp, ...): .venv-hass with Home Assistant core
# 2024.3.3 and the packages of the integrations its test config loads, and
# .venv-satellite with wyoming-satellite, each held to a constraints file (pip freeze of
# a venv the tests passed with). Idempotent: a venv whose requirements and constraints
# have not changed since it was built is left alone (a second run takes well under 1 s).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3.11}

build() {  # build VENV REQUIREMENTS CONSTRAINTS WHAT
  local venv=$1 req=$2 pins=$3 what=$4 stamp="$1/.hearth-built" want log
  want=$(cat "$req" "$pins" | sha256sum | cut -d' ' -f1)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$venv/bin/python" ]; then
    return
  fi
  echo "setup: building $venv ($what) from $req"
  [ -x "$venv/bin/python" ] || "$PY" -m venv "$venv"
  log=$(mktemp)
  # pip's notes about this machine's missing local index folders are noise, not news.
  if ! "$venv/bin/python" -m pip install -q -r "$req" -c "$pins" 2>"$log"; then
    grep -v "is ignored: it is neither" "$log" >&2; rm -f "$log"; exit 1
  fi
  grep -v "is ignored: it is neither" "$log" >&2 || true
  rm -f "$log"
  echo "$want" > "$stamp"
}

build .venv-hass tests/hass_real/requirements.txt tests/hass_real/constraints.txt \
  "Home Assistant for tests/test_hass_real*.py; about 2 min the first time"
build .venv-satellite tests/hass_real/satellite-requirements.txt \
  tests/hass_real/satellite-constraints.txt \
  "wyoming-satellite for tests/test_satellite_wyoming.py; a few seconds"
