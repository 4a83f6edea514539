#!/usr/bin/env bash
# The main job on the embedded default: a synthesized "Hey Jarvis, turn on the kitchen light"
# goes through the whole voice loop against the demo home; the reply is spoken to a WAV.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export HEARTH_DATA_DIR=${HEARTH_DATA_DIR:-$PWD/out/demo-data}
mkdir -p out
.venv/bin/hearth home reset >/dev/null
echo "== the kitchen light before:"; .venv/bin/hearth home --entity light.kitchen
.venv/bin/hearth say "Hey Jarvis, turn on the kitchen light." --output out/command.wav --pad-ms 500
echo "== hearth listen --input out/command.wav --output out/reply.wav"
.venv/bin/hearth listen --input out/command.wav --output out/reply.wav
echo "== the kitchen light after:"; .venv/bin/hearth home --entity light.kitchen
