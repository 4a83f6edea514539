#!/usr/bin/env python3
"""SLURP through Hearth's on-device understanding, judged against the demo home.

Every "iot" utterance of a SLURP split is asked of the demo home (device in the Living
Room, a fresh conversation each time, nothing applied: the decision is judged, see
bench/slurp_mapping.py for the mapping from SLURP labels to expected actions). Each is
counted as: correct action, correct question (the request is ambiguous in this home),
wrong action, an unnecessary question, or no action (passed on / not understood). The
other scenarios (alarms, music, weather, ...) must take no home action.

Use ``--split devel`` for tuning; the test split is for reporting only.

    .venv/bin/python bench/bench_slurp.py [--split test|devel] [--stack templates|llm]
        [--ranker llm|lexical] [--scoring sum|mean|pmi] [--no-few-shot] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from _common import Progress, dump_json, eval_data_dir, pct, percentile, table
from slurp_mapping import SEED_BRIGHTNESS, SEED_RGB, Expected, Mapper, Utterance, judge, parse_row

from assistant.config import Settings, load_settings
from assistant.home import open_home
from assistant.home.base import HomeBackend
from assistant.understand.router import Understander


def seed(home: HomeBackend) -> dict[str, dict[str, Any]]:
    """Lights on at 50 % and white, everything else as the demo home defines it."""
    for e in home.entities():
        if e.domain == "light":
            data: dict[str, Any] = {}
            if "dimmable" in e.features:
                data["brightness_pct"] = SEED_BRIGHTNESS
            if "color" in e.features:
                data["rgb_color"] = list(SEED_RGB)
            home.call_service("light.turn_on", e.entity_id, data)
    return {e.entity_id: dict(home.get_state(e.entity_id).attributes) for e in home.entities()}


def build(settings: Settings, home: HomeBackend, args: argparse.Namespace) -> Understander:
    if args.ha_sentences_only:
        from assistant.understand import templates

        templates.SENTENCES_DIR = Path(tempfile.mkdtemp())  # an empty folder: no Hearth sentences
    understander = Understander(home)
    if args.stack == "templates":
        return understander
    from assistant.understand.local_llm import LexicalRanker, LocalLlmFallback

    if args.ranker == "lexical":
        fallback = LocalLlmFallback(home, LexicalRanker(), space=understander.space,
                                    min_confidence=settings.llm.min_confidence)
    else:
        if args.ranker == "llm":
            settings = settings.model_copy(update={"llm": settings.llm.model_copy(
                update={"lexical_weight": 0.0})})
        elif args.lexical_weight is not None:
            settings = settings.model_copy(update={"llm": settings.llm.model_copy(
                update={"lexical_weight": args.lexical_weight})})
        fallback = LocalLlmFallback.from_settings(settings, home, templates=understander.templates)
    fallback.prune = not args.no_prune
    fallback.guards = not args.no_guards
    if args.explicit_confidence is not None:
        fallback.explicit_confidence = args.explicit_confidence
    understander.fallbacks = [fallback]
    return understander


def load_split(name: str) -> list[Utterance]:
    path = eval_data_dir() / "slu" / "slurp" / f"{name}.jsonl"
    with path.open(encoding="utf-8") as fh:
        return [parse_row(json.loads(line)) for line in fh if line.strip()]


def run(args: argparse.Namespace) -> dict[str, Any]:
    rows = load_split(args.split)
    iot = [u for u in rows if u.scenario == "iot"]
    other = [u for u in rows if u.scenario != "iot"]
    if args.limit:
        iot, other = iot[: args.limit], other[: args.limit]
    if args.iot_only:
        other = []
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["HEARTH_DATA_DIR"] = tmp
        settings = load_settings(args.config, data_dir=tmp)
        llm: dict[str, Any] = {}
        if args.scoring:
            llm["scoring"] = args.scoring
        if args.no_few_shot:
            llm["few_shot"] = False
        if args.min_confidence is not None:
            llm["min_confidence"] = args.min_confidence
        if args.threads:
            llm["threads"] = args.threads
        settings = settings.model_copy(update={"llm": settings.llm.model_copy(update=llm)})
        home = open_home(settings)
        try:
            state = seed(home)
            t0 = time.monotonic()
            understander = build(settings, home, args)
            load_s = time.monotonic() - t0
            device_area = home.area(settings.device_area).id
            mapper = Mapper(home, device_area)
            iot_results = [_one(understander, mapper, u, device_area, state)
                           for u in _progress(iot, "iot", args)]
            other_results = [_one(understander, mapper, u, device_area, state)
                             for u in _progress(other, "other scenarios", args)]
        finally:
            home.close()
    return summarise(iot_results, other_results, args, load_s)


def _progress(items: list[Utterance], label: str, args: argparse.Namespace) -> Iterator[Utterance]:
    progress = Progress(len(items), label, quiet=args.json and not args.progress)
    for item in items:
        yield item
        progress.step()


def _one(understander: Understander, mapper: Mapper, utt: Utterance, area: str,
         state: dict[str, dict[str, Any]]) -> dict[str, Any]:
    understander.forget()
    expected: Expected = mapper.expected(utt)
    t0 = time.perf_counter()
    decision = understander.decide(utt.text, area=area)
    ms = (time.perf_counter() - t0) * 1000
    acts = [a.as_dict() for a in (*decision.actions, *decision.pending)]
    asked = decision.handled_by == "clarify"
    outcome = judge(expected, acts, asked=asked, escalated=decision.handled_by == "cloud",
                    state=state)
    return {"text": utt.text, "intent": utt.intent, "scenario": utt.scenario,
            "expected": expected.kind, "note": expected.note, "outcome": outcome,
            "handled_by": decision.handled_by, "actions": acts, "reply": decision.reply,
            "confidence": decision.confidence, "reason": decision.reason, "ms": round(ms, 1)}


def describe_stack(args: argparse.Namespace) -> str:
    if args.stack == "templates":
        return "HA templates only" if args.ha_sentences_only else "templates (HA + Hearth)"
    parts = [f"templates + local {args.ranker}"]
    if args.ranker == "hybrid" and args.lexical_weight is not None:
        parts.append(f"lexical_weight={args.lexical_weight}")
    if args.ranker != "lexical":
        parts.append(f"scoring={args.scoring or 'default'}")
        if args.no_few_shot:
            parts.append("no few-shot")
    if args.no_prune:
        parts.append("no pruning")
    if args.no_guards:
        parts.append("no guards")
    if args.min_confidence is not None:
        parts.append(f"min_confidence={args.min_confidence}")
    if args.explicit_confidence is not None:
        parts.append(f"explicit_confidence={args.explicit_confidence}")
    return ", ".join(parts)


def summarise(iot: list[dict[str, Any]], other: list[dict[str, Any]], args: argparse.Namespace,
              load_s: float) -> dict[str, Any]:
    counts = Counter(r["outcome"] for r in iot)
    n = len(iot)
    correct = counts["correct"] + counts["clarified_ok"]
    by_intent: dict[str, Counter[str]] = defaultdict(Counter)
    for r in iot:
        by_intent[r["intent"]][r["outcome"]] += 1
        by_intent[r["intent"]]["total"] += 1
    by_path = Counter(r["handled_by"] for r in iot if r["outcome"] in ("correct", "clarified_ok"))
    acted_other = [r for r in other if r["actions"]]
    asked_other = [r for r in other if not r["actions"] and r["handled_by"] == "clarify"]
    llm_ms = [r["ms"] for r in (*iot, *other) if r["handled_by"] in ("local_llm", "clarify")
              or "local LLM" in r["reason"]]
    return {
        "split": args.split,
        "stack": describe_stack(args),
        "load_s": round(load_s, 2),
        "iot": {
            "utterances": n,
            "correct": correct,
            "correct_pct": round(pct(correct, n), 1),
            "correct_action": counts["correct"],
            "correct_question": counts["clarified_ok"],
            "wrong_action": counts["wrong"],
            "wrong_pct": round(pct(counts["wrong"], n), 1),
            "clarified_unneeded": counts["clarified"],
            "escalated": counts["escalated"],
            "no_action": counts["no_action"],
            "correct_by_path": dict(by_path),
            "by_intent": {k: dict(v) for k, v in sorted(by_intent.items())},
        },
        "other": {
            "utterances": len(other),
            "no_home_action": len(other) - len(acted_other),
            "no_home_action_pct": round(pct(len(other) - len(acted_other), len(other)), 2),
            "asked_a_question": len(asked_other),
            "acted": [{"text": r["text"], "intent": r["intent"], "actions": r["actions"]}
                      for r in acted_other],
        },
        "latency_ms": {"all_p50": round(percentile([r["ms"] for r in (*iot, *other)], 50), 1),
                       "llm_p50": round(percentile(llm_ms, 50), 1), "llm_n": len(llm_ms)},
        "mistakes": [r for r in iot if r["outcome"] in ("wrong", "clarified", "no_action",
                                                        "escalated")][: args.show],
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--split", choices=["test", "devel"], default="test")
    p.add_argument("--stack", choices=["templates", "llm"], default="llm",
                   help="templates only, or templates + the local LLM fallback (default)")
    p.add_argument("--ranker", choices=["hybrid", "llm", "lexical"], default="hybrid",
                   help="rank candidate commands with the LLM plus word overlap (default, weight "
                        "llm.lexical_weight), the LLM alone, or the overlap alone (no model)")
    p.add_argument("--lexical-weight", type=float, help="override llm.lexical_weight (hybrid)")
    p.add_argument("--scoring", choices=["sum", "mean", "pmi"], help="override llm.scoring")
    p.add_argument("--no-few-shot", action="store_true", help="no examples in the prompt")
    p.add_argument("--no-prune", action="store_true",
                   help="do not let the request's words rule out contradicting commands")
    p.add_argument("--no-guards", action="store_true",
                   help="no mention / later / unknown-device guards before the model")
    p.add_argument("--ha-sentences-only", action="store_true",
                   help="templates from home-assistant-intents alone, without Hearth's sentences")
    p.add_argument("--min-confidence", type=float, help="override llm.min_confidence")
    p.add_argument("--explicit-confidence", type=float,
                   help="the bar when the request's words name the one command left (1: off)")
    p.add_argument("--threads", type=int, help="override llm.threads")
    p.add_argument("--config", type=Path, help="settings file (default: the packaged configs)")
    p.add_argument("--limit", type=int, help="first N utterances of each group (quick runs)")
    p.add_argument("--iot-only", action="store_true", help="skip the other scenarios")
    p.add_argument("--show", type=int, default=30, help="mistakes to list")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    p.add_argument("--progress", action="store_true", help="show progress even with --json")
    args = p.parse_args()
    result = run(args)
    if args.json:
        dump_json(result)
        return 0
    r = result["iot"]
    print(f"SLURP {result['split']} iot utterances through {result['stack']} "
          f"(device in the Living Room, models loaded in {result['load_s']} s)\n")
    print(table(["outcome", "utterances", "share"], [
        ("correct (action or needed question)", r["correct"], f"{r['correct_pct']}%"),
        ("  correct action", r["correct_action"], f"{pct(r['correct_action'], r['utterances']):.1f}%"),
        ("  correct question (ambiguous here)", r["correct_question"],
         f"{pct(r['correct_question'], r['utterances']):.1f}%"),
        ("wrong action", r["wrong_action"], f"{r['wrong_pct']}%"),
        ("unneeded question", r["clarified_unneeded"],
         f"{pct(r['clarified_unneeded'], r['utterances']):.1f}%"),
        ("no action (passed on / not understood)", r["no_action"] + r["escalated"],
         f"{pct(r['no_action'] + r['escalated'], r['utterances']):.1f}%"),
        ("total", r["utterances"], "100%"),
    ]))
    print("\ncorrect by path: " + ", ".join(f"{k} {v}" for k, v in sorted(r["correct_by_path"].items())))
    rows = [(k, v["total"], v.get("correct", 0) + v.get("clarified_ok", 0), v.get("wrong", 0),
             v.get("no_action", 0) + v.get("escalated", 0) + v.get("clarified", 0))
            for k, v in r["by_intent"].items()]
    print()
    print(table(["SLURP intent", "n", "correct", "wrong", "no action / asked"], rows))
    o = result["other"]
    if o["utterances"]:
        print(f"\nother scenarios: {o['no_home_action']}/{o['utterances']} took no home action "
              f"({o['no_home_action_pct']}%); {o['asked_a_question']} got a question")
        for a in o["acted"][:20]:
            print(f"  acted on {a['intent']}: {a['text']!r} -> "
                  + ", ".join(f"{x['service']} {x['entity_id']}" for x in a["actions"]))
    lat = result["latency_ms"]
    print(f"\nunderstanding latency p50: all {lat['all_p50']} ms; when the local LLM ran "
          f"{lat['llm_p50']} ms (n={lat['llm_n']})")
    if result["mistakes"]:
        print("\nmistakes:")
        for m in result["mistakes"]:
            acts = ", ".join(f"{a['service']} {a['entity_id']} {a['data'] or ''}" for a in m["actions"])
            print(f"  [{m['outcome']}] {m['intent']}: {m['text']!r} (expected {m['expected']}"
                  f"{': ' + m['note'] if m['note'] else ''}) -> {m['handled_by']}: {acts or m['reply']}"
                  f" | {m['reason'][:120]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
