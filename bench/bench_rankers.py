#!/usr/bin/env python3
"""The local fallback's rankers side by side, on the same devel evaluation (issue 13, item 5).

For each ``[llm] ranker`` named, runs bench/bench_homes.py over the devel homes (never the
held-out one) and bench/bench_slurp.py on SLURP ``devel`` (never ``test``), each in its own
process, and prints one row per ranker: right / wrong / inverted / clarified / unhandled and
the understanding latency on the homes; correct / wrong / no action on SLURP iot, and how
many of SLURP's other scenarios made a home act.

    .venv/bin/python bench/bench_rankers.py [--ranker llm --ranker embedding ...]
        [--set 'embedding_none = 0.4'] [--json]

Another GGUF through today's ranker: ``--ranker llm --set 'model = "/path/to/model.gguf"'``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from _common import REPO_ROOT, dump_json, table

RANKERS = ("llm", "choice", "embedding", "embedding_llm")


def _run(args: list[str]) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    proc = subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env, cwd=REPO_ROOT,
                          check=False)
    if proc.returncode != 0:
        raise SystemExit(f"bench: {' '.join(args)} failed: {proc.stderr.strip()[-400:]}")
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


def measure(ranker: str, extra: list[str], work: Path) -> dict[str, Any]:
    lines = [f'ranker = "{ranker}"', *extra]
    homes = _run(["bench/bench_homes.py", "--json", "--quiet", *[a for x in lines for a in ("--llm-set", x)]])
    cfg = work / f"{ranker}.toml"
    cfg.write_text("[llm]\n" + "".join(f"{x}\n" for x in lines), encoding="utf-8")
    slurp = _run(["bench/bench_slurp.py", "--split", "devel", "--json", "--config", str(cfg)])
    h, iot = homes["devel_homes"], slurp["iot"]
    return {
        "ranker": ranker, "settings": lines,
        "homes": {k: h[k] for k in ("cases", "right_pct", "wrong_pct", "inverted", "clarified",
                                    "unhandled", "p50_ms", "p95_ms")},
        "homes_loadavg": homes["loadavg"],
        "slurp_iot": {k: iot[k] for k in ("utterances", "correct_pct", "wrong_action", "no_action")},
        "slurp_other_acted": len(slurp["other"]["acted"]),
        "slurp_latency_ms": slurp["latency_ms"],
        "loadavg_after": list(os.getloadavg()),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ranker", action="append", choices=RANKERS, help="repeatable (default: all)")
    ap.add_argument("--set", action="append", default=[], metavar="LINE",
                    help="another TOML line for [llm], for every ranker; repeatable")
    ap.add_argument("--json", action="store_true", help="one JSON object on stdout")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        rows = [measure(r, args.set, Path(tmp)) for r in args.ranker or RANKERS]
    if args.json:
        dump_json({"rankers": rows})
        return 0
    print(table(["ranker", "homes right%", "wrong%", "inverted", "clarified", "unhandled", "p50 ms",
                 "p95 ms", "slurp iot correct%", "wrong", "no action", "other acted", "llm p50 ms"],
                [[r["ranker"], r["homes"]["right_pct"], r["homes"]["wrong_pct"], r["homes"]["inverted"],
                  r["homes"]["clarified"], r["homes"]["unhandled"], r["homes"]["p50_ms"],
                  r["homes"]["p95_ms"], r["slurp_iot"]["correct_pct"], r["slurp_iot"]["wrong_action"],
                  r["slurp_iot"]["no_action"], r["slurp_other_acted"], r["slurp_latency_ms"]["llm_p50"]]
                 for r in rows]))
    print("\nload average after each: "
          + "; ".join(f"{r['ranker']} {r['loadavg_after'][0]:.1f}" for r in rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
