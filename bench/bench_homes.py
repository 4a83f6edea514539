#!/usr/bin/env python3
"""Understanding in homes Hearth was not written for, through the evaluation contract.

Each home of bench/homes/ (devel data written by the project; see its README) is asked its
commands in one ``hearth ask --batch - --json --dry-run --config FILE`` run, the config
setting ``device_area`` and ``[home] demo_home`` as an outside evaluator does. Every answer
is judged (bench/homes_judge.py) and counted per home and per device kind: right, wrong,
inverted (the opposite of what was asked, on the asked-for device), partial, clarified,
unhandled, sensitive actions applied without a yes, and the understanding latency.

The held-out home (``heldout_*``) is left out unless ``--held-out`` is given: run it once,
at the end of a round of work, and report what it says.

    .venv/bin/python bench/bench_homes.py [--home NAME ...] [--held-out] [--no-llm]
        [--misses] [--json] [--list]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from _common import REPO_ROOT, Progress, dump_json, pct, percentile, table
from homes_data import HomeCases, case_files, load_cases
from homes_judge import judge

OUTCOMES = ("right", "wrong", "partial", "clarified", "unhandled")


def _eval_data() -> Path | None:
    env = os.environ.get("HEARTH_EVAL_DATA")
    path = Path(env).expanduser() if env else REPO_ROOT.parent / "shared" / "eval-data"
    return path if path.is_dir() else None


def _config(home: HomeCases, work: Path, llm: bool, extra: tuple[str, ...] = ()) -> Path:
    cfg = work / f"{home.name}.toml"
    data_dir = work / f"{home.name}-data"
    cfg.write_text(f'device_area = "{home.device_area}"\ndata_dir = "{data_dir}"\n'
                   f'[home]\ndemo_home = "{home.home_file}"\n'
                   f'[llm]\nenabled = {"true" if llm else "false"}\n' + "".join(f"{x}\n" for x in extra) +
                   '[privacy]\nmode = "local_only"\n', encoding="utf-8")
    return cfg


def ask_all(home: HomeCases, config: Path, progress: Progress) -> list[dict[str, Any]]:
    """One batch run of the CLI for the home's commands; one answer per command, in order."""
    cmd = [sys.executable, "-m", "assistant", "ask", "--batch", "-", "--json", "--dry-run",
           "--config", str(config)]
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, cwd=REPO_ROOT)
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    lines = "".join(json.dumps({"text": c.say, **({"area": c.area} if c.area else {})}) + "\n"
                    for c in home.cases)
    stdin = proc.stdin

    def feed() -> None:
        stdin.write(lines)
        stdin.close()

    threading.Thread(target=feed, daemon=True).start()
    answers = []
    for line in proc.stdout:
        answers.append(json.loads(line))
        progress.step()
    err = proc.stderr.read()
    if proc.wait() != 0 or len(answers) != len(home.cases):
        raise SystemExit(f"bench: hearth ask failed for {home.name} (exit {proc.returncode}, "
                         f"{len(answers)}/{len(home.cases)} answers): {err.strip()[-400:]}")
    return answers


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    counts = Counter(r["outcome"] for r in rows)
    lat = [r["understand_ms"] for r in rows]
    n = len(rows)
    return {"cases": n, **{f"{o}_pct": round(pct(counts[o], n), 1) for o in OUTCOMES},
            **{o: counts[o] for o in OUTCOMES},
            "inverted": sum(r["inverted"] for r in rows),
            "sensitive_without_yes": sum(r["sensitive"] for r in rows),
            "p50_ms": round(percentile(lat, 50), 1), "p95_ms": round(percentile(lat, 95), 1)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--home", action="append", help="a case file's name (e.g. farmhouse); repeatable")
    ap.add_argument("--held-out", action="store_true", help="also run the held-out home(s): once, at the end")
    ap.add_argument("--no-llm", action="store_true", help="templates and rules only ([llm] enabled = false)")
    ap.add_argument("--llm-set", action="append", default=[], metavar="KEY=VALUE",
                    help="a TOML line for [llm] (e.g. 'ranker = \"embedding\"'); repeatable")
    ap.add_argument("--misses", action="store_true", help="list every case that was not right (stderr)")
    ap.add_argument("--json", action="store_true", help="one JSON object on stdout instead of tables")
    ap.add_argument("--quiet", action="store_true", help="no progress line")
    ap.add_argument("--list", action="store_true",
                    help="load the case files and list them (entities, commands); ask nothing")
    args = ap.parse_args()

    eval_data = _eval_data()
    work = Path(tempfile.mkdtemp(prefix="hearth-homes-"))
    files = case_files(args.home, held_out=args.held_out)
    homes = [load_cases(p, eval_data, work) for p in files if not (
        "ha_fixtures" in p.name and eval_data is None and not args.home)]
    if args.list:
        print(table(["case file", "entities", "commands", "held out"],
                    [[h.name, len(h.entities), len(h.cases), "yes" if h.held_out else ""] for h in homes]))
        return 0
    progress = Progress(sum(len(h.cases) for h in homes), "commands", quiet=args.quiet)
    rows: list[dict[str, Any]] = []
    t0 = time.monotonic()
    for home in homes:
        answers = ask_all(home, _config(home, work, not args.no_llm, tuple(args.llm_set)), progress)
        for case, answer in zip(home.cases, answers, strict=True):
            verdict = judge(case, answer, home.entities)
            rows.append({"home": home.name, "held_out": home.held_out, "kind": case.kind,
                         "say": case.say, "area": case.area, **verdict,
                         "handled_by": answer.get("handled_by"),
                         "actions": answer.get("actions"), "pending": answer.get("pending"),
                         "reply": answer.get("reply"),
                         "understand_ms": float((answer.get("timings_ms") or {}).get("understand", 0.0))})
    by_home: dict[str, list[dict[str, Any]]] = defaultdict(list)
    by_kind: dict[str, list[dict[str, Any]]] = defaultdict(list)
    by_kind_held_out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        by_home[r["home"]].append(r)
        if r["held_out"]:
            by_kind_held_out[r["kind"]].append(r)
        elif r["home"] != "demo_heldout":
            by_kind[r["kind"]].append(r)
    unseen = [r for r in rows if not r["held_out"] and r["home"] != "demo_heldout"]
    held_out = [r for r in rows if r["held_out"]]
    report: dict[str, Any] = {
        "llm": not args.no_llm, "seconds": round(time.monotonic() - t0, 1),
        "loadavg": Path("/proc/loadavg").read_text().split()[:3] if Path("/proc/loadavg").exists() else None,
        "homes": {h: summarise(rs) for h, rs in by_home.items()},
        "kinds": {k: summarise(rs) for k, rs in sorted(by_kind.items())},
        "devel_homes": summarise(unseen) if unseen else None,
        "kinds_held_out": {k: summarise(rs) for k, rs in sorted(by_kind_held_out.items())},
        "held_out": summarise(held_out) if held_out else None,
    }
    if args.misses:
        for r in rows:
            if r["outcome"] != "right":
                acts = [(a["service"], a["entity_id"], a.get("data")) for a in r["actions"] or []]
                pend = [(a["service"], a["entity_id"]) for a in r["pending"] or []]
                where = f" @{r['area']}" if r["area"] else ""
                sys.stderr.write(f"{r['outcome']:>9} {r['home']}: {r['say']!r}{where} -> "
                                 f"{r['handled_by']} {acts}{' pending ' + str(pend) if pend else ''}"
                                 f" | {r['reply']}\n")
    if args.json:
        dump_json({**report, "cases": rows})
        return 0
    headers = ["", "cases", "right%", "wrong%", "inverted", "partial", "clarified", "unhandled",
               "sensitive", "p50 ms", "p95 ms"]

    def line(name: str, s: dict[str, Any]) -> list[Any]:
        return [name, s["cases"], s["right_pct"], s["wrong_pct"], s["inverted"], s["partial"],
                s["clarified"], s["unhandled"], s["sensitive_without_yes"], s["p50_ms"], s["p95_ms"]]

    home_rows = [line(h, s) for h, s in report["homes"].items()]
    if report["devel_homes"]:
        home_rows.append(line("devel homes (all)", report["devel_homes"]))
    if report["held_out"]:
        home_rows.append(line("held-out sets (all)", report["held_out"]))
    print(table(headers, home_rows))
    for title, kinds in (("kind (devel homes)", report["kinds"]),
                         ("kind (held out)", report["kinds_held_out"])):
        if kinds:
            print()
            print(table([title, *headers[1:]], [line(k, s) for k, s in kinds.items()]))
    print(f"\nllm: {'on' if report['llm'] else 'off'}; {report['seconds']} s; loadavg {report['loadavg']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
