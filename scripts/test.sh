#!/usr/bin/env bash
# Set up (if needed) and run the whole test suite. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export HEARTH_EVAL_DATA=${HEARTH_EVAL_DATA:-$(cd .. && pwd)/shared/eval-data}
exec .venv/bin/python -m pytest -q "$@"
