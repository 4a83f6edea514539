"""The same input, config and state give the same answer under any ``PYTHONHASHSEED``
(issue 17: a 30 KB input took 6.2–6.6 s with seeds 1 and 4 and 0.2 s with 2, 3 and 5).

Each seed runs the real ``hearth ask --batch`` in its own process and data dir; the
answers, minus the timings, must be identical. (How long they take under each seed is
measured by ``bench/bench_hostile.py``, not asserted here.)
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from tests.conftest import run_hearth

UTTERANCES = [
    "turn on the kitchen light",
    "dim the bedroom light to 30 percent",
    "set the thermostat to 21 degrees",
    "turn the lights off in here",
    "turn on the plug",  # two plugs: asks which
    "brighten the lights please",
    "make it a bit warmer in the hall",
    "put the hoover on",
    "open the garage door",  # sensitive: waits for a yes
    "no",
    "what is the temperature outside",
    "add milk to my shopping list",
    "remind me to call mom in ten minutes",
    "the kids left the lights on all night yesterday",
    "sing me a song about ducks",
    "remind me to call mom in ten minutes " * 2,
    "turn on the kitchen light and the hallway light and the bedroom fan and the tv " * 5,
    "remind me to call mom in ten minutes " * 40,  # over understanding's limit
]
SEEDS = ("1", "2", "4")
_MS = re.compile(r"\d+(\.\d+)? ?ms\b")


def _answers(seed: str, data: Path) -> list[dict[str, Any]]:
    proc = run_hearth("ask", "--batch", "-", "--json", "--dry-run", "--privacy", "local_only",
                      input=("\n".join(UTTERANCES) + "\n").encode(),
                      env={"PYTHONHASHSEED": seed, "HEARTH_DATA_DIR": str(data)}, timeout=400)
    assert proc.returncode == 0, proc.stderr.decode()[-2000:]
    out = []
    for line in proc.stdout.decode().splitlines():
        obj = json.loads(line)
        obj.pop("timings_ms", None)
        if isinstance(obj.get("privacy"), dict):
            obj["privacy"].pop("timings_ms", None)
        out.append(json.loads(_MS.sub("N ms", json.dumps(obj, sort_keys=True))))
    assert len(out) == len(UTTERANCES)
    return out


def test_answers_do_not_depend_on_the_hash_seed(tmp_path: Path) -> None:
    first, *others = [_answers(seed, tmp_path / f"seed-{seed}") for seed in SEEDS]
    for seed, answers in zip(SEEDS[1:], others, strict=True):
        for said, a, b in zip(UTTERANCES, first, answers, strict=True):
            assert a == b, f"PYTHONHASHSEED={seed} answered {said[:60]!r} differently"
    # the batch covers the routes (what exactly each is answered changes as understanding does)
    assert {a["handled_by"] for a in first} >= {"local", "confirm", "unhandled"}
    assert "too long" in first[-1]["reason"]
