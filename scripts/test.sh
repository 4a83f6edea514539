#!/usr/bin/env bash
# Set up (if needed) and run the whole test suite. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/setup_hass.sh  # Home Assistant and wyoming-satellite, each in its own venv
export HEARTH_EVAL_DATA=${HEARTH_EVAL_DATA:-$(cd .. && pwd)/shared/eval-data}
.venv/bin/python -m pytest -q "$@"
# The whole suite also checks that the built wheel is the whole program, outside the
# checkout (~2-3 min; uses the package index like the set-up). HEARTH_WHEEL_CHECK=0 skips it.
if [ $# -eq 0 ] && [ "${HEARTH_WHEEL_CHECK:-1}" != 0 ]; then bash scripts/wheel_check.sh; fi
