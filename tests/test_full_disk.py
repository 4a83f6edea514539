"""A full disk under the home's state and under the audit log (issue 17).

Each case runs the real ``hearth`` in a private mount namespace (``unshare -rm``) with
its data on a tiny tmpfs that is then filled: one clear line, no traceback, the state
and the audit log intact — and nothing sent to the cloud that the audit log could not
record. Skipped where user namespaces are not allowed.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cloud_helpers import chunk, fault_server, scripted

HEARTH = str(Path(sys.executable).with_name("hearth"))

DRIVER = r'''
import json, os, subprocess, sys
state, audit, config = sys.argv[1], sys.argv[2], sys.argv[3]
for where, size in ((state, "2m"), (audit, "96k")):
    if subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "none", where]).returncode:
        sys.exit(99)
env = {**os.environ, "HEARTH_DATA_DIR": os.path.join(state, "data")}
steps = []
def hearth(*args, data=None):
    run_env = {**env, "HEARTH_DATA_DIR": data} if data else env
    p = subprocess.run([@HEARTH@, *args, "--config", config], capture_output=True, text=True,
                       env=run_env)
    steps.append({"args": list(args), "rc": p.returncode, "out": p.stdout, "err": p.stderr})
def fill(where):
    fd = os.open(os.path.join(where, f"filler{len(steps)}"), os.O_WRONLY | os.O_CREAT)
    try:
        while os.write(fd, b"\0" * 4096):
            pass
    except OSError:
        pass
    os.close(fd)
hearth("ask", "turn on the kitchen light")                     # 0: a working home
hearth("ask", "who wrote Middlemarch?", "--json")              # 1: audited, sent
fill(audit)
hearth("ask", "who was George Eliot?", "--json")               # 2: the audit log is full
hearth("ask", "turn off the kitchen light", "--json")          # 3: the home still acts
fill(state)
hearth("ask", "turn on the kitchen light", "--json")           # 4: the state's disk is full
hearth("home", "--entity", "light.kitchen", "--json")          # 5
fill(state)  # again: closing the home gave its journal's room back
hearth("ask", "turn on the kitchen light", data=os.path.join(state, "new"))  # 6: no room for a home
for where in (state, audit):
    for name in os.listdir(where):
        if name.startswith("filler"):
            os.remove(os.path.join(where, name))
hearth("home", "--entity", "light.kitchen", "--json")          # 7: intact after the disk is freed
hearth("audit", "--json")                                      # 8
hearth("ask", "turn on the kitchen light", "--json")           # 9
print(json.dumps(steps))
'''.replace("@HEARTH@", repr(HEARTH))


def _run(tmp_path: Path, url: str) -> list[dict[str, Any]]:
    if shutil.which("unshare") is None:
        pytest.skip("unshare is not installed")
    state, audit = tmp_path / "state", tmp_path / "audit"
    state.mkdir()
    audit.mkdir()
    config = tmp_path / "hearth.toml"
    from assistant.config import configs_dir

    config.write_text(f'[privacy]\npolicy = "{configs_dir() / "privacy.toml"}"\nmode = "allow"\n'
                      f'audit_db = "{audit / "audit.sqlite"}"\n'
                      f'[cloud]\nurl = "{url}"\nmodel = "disk-model"\n[llm]\nenabled = false\n')
    driver = tmp_path / "driver.py"
    driver.write_text(DRIVER)
    proc = subprocess.run(["unshare", "-rm", sys.executable, str(driver), str(state), str(audit),
                           str(config)], capture_output=True, text=True, timeout=600)
    if proc.returncode == 99 or "Operation not permitted" in proc.stderr:
        pytest.skip(f"cannot mount a tmpfs in a user namespace here: {proc.stderr.strip()[:200]}")
    assert proc.returncode == 0, proc.stderr[-3000:]
    return list(json.loads(proc.stdout.splitlines()[-1]))


def test_a_full_disk_is_one_clear_line_and_loses_nothing(tmp_path: Path) -> None:
    with fault_server(scripted([chunk("George Eliot wrote it.")])) as server:
        steps = _run(tmp_path, server.url)
        sent = len(server.bodies)
    for step in steps:
        assert "Traceback" not in step["err"] and "unexpected" not in step["err"], step
    assert steps[0]["rc"] == 0 and json.loads(steps[1]["out"])["handled_by"] == "cloud"
    # the audit log is full: nothing more leaves the device, and the user is told
    full_audit = steps[2]
    assert sent == 1, "a request was sent that the audit log could not record"
    if full_audit["rc"] == 0:
        answer = json.loads(full_audit["out"])
        assert not answer["left_device"] and answer["handled_by"] != "cloud"
    else:
        assert full_audit["err"].count("\n") == 1 and full_audit["err"].startswith("hearth: ")
    assert json.loads(steps[3]["out"])["actions"][0]["service"] == "light.turn_off"
    # the state's disk is full: the turn is done whole (SQLite reuses its journal's room)
    # or refused in one line with the light as it was; a new home has no room at all
    full_state, after = steps[4], json.loads(steps[7]["out"])["state"]
    if full_state["rc"] == 0:
        assert json.loads(full_state["out"])["actions"] and after == "on"
    else:
        assert full_state["err"].startswith("hearth: ") and full_state["err"].count("\n") == 1
        assert after == "off"
    shown = steps[5]  # reading the state with the disk still full
    if shown["rc"] == 0:
        assert json.loads(shown["out"])["state"] == after
    else:
        assert shown["err"].startswith("hearth: ") and shown["err"].count("\n") == 1
    no_room = steps[6]
    assert no_room["rc"] == 2 and no_room["err"].startswith("hearth: cannot open the home")
    assert no_room["err"].count("\n") == 1
    assert steps[7]["rc"] == 0
    rows = [json.loads(line) for line in steps[8]["out"].splitlines() if line.startswith("{")]
    assert steps[8]["rc"] == 0 and len(rows) == 1 and "Middlemarch" in json.dumps(rows)
    assert json.loads(steps[9]["out"])["actions"][0]["service"] == "light.turn_on"
