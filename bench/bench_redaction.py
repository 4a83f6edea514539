#!/usr/bin/env python3
"""Redaction quality on tests/data/redaction_set.jsonl: recall and precision per kind.

Each line of the set is an utterance with its personal data spans by kind (the first
line holds the household/contacts/places config the set assumes). Every kind is
redacted (as under a rule that adds ``time`` and ``place``), and a gold span counts as

* **recalled** when every non-space character of it is inside some redacted span
  (nothing of it leaks, whatever kind the detector called it) — the privacy figure;
* **typed** when the covering spans are of the gold kind (the right placeholder).

Precision: a redacted span is correct when it overlaps a gold span. The goal is recall
>= 95% for every kind.

    .venv/bin/python bench/bench_redaction.py [--json] [--failures] [--set FILE]
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from _common import REPO_ROOT, Progress, dump_json, pct, table

from assistant.privacy.redact import Redactor, Span
from assistant.privacy.settings import REDACT_KINDS

DEFAULT_SET = REPO_ROOT / "tests" / "data" / "redaction_set.jsonl"
GOAL_RECALL = 95.0


@dataclass
class Gold:
    kind: str
    start: int
    end: int
    text: str


@dataclass
class Item:
    text: str
    gold: list[Gold]
    split: str = "dev"
    """``dev``: written while the detectors were being built; ``holdout``: written after,
    scored once, and not used to tune them."""


@dataclass
class KindScore:
    gold: int = 0
    recalled: int = 0
    typed: int = 0
    found: int = 0
    correct: int = 0

    def as_json(self) -> dict[str, Any]:
        return {
            "gold": self.gold,
            "recalled": self.recalled,
            "typed": self.typed,
            "recall_pct": round(pct(self.recalled, self.gold), 1),
            "typed_recall_pct": round(pct(self.typed, self.gold), 1),
            "found": self.found,
            "correct": self.correct,
            "precision_pct": round(pct(self.correct, self.found), 1) if self.found else None,
        }


@dataclass
class Report:
    kinds: dict[str, KindScore] = field(default_factory=dict)
    utterances: int = 0
    misses: list[dict[str, Any]] = field(default_factory=list)
    false_positives: list[dict[str, Any]] = field(default_factory=list)

    def score(self, kind: str) -> KindScore:
        return self.kinds.setdefault(kind, KindScore())


def load_set(path: Path) -> tuple[dict[str, Any], list[Item]]:
    config: dict[str, Any] = {}
    items: list[Item] = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        obj = json.loads(line)
        if "config" in obj:
            config = obj["config"]
            continue
        text = obj["text"]
        gold: list[Gold] = []
        taken: list[tuple[int, int]] = []
        for span in obj["spans"]:
            start = text.find(span["text"])
            while start >= 0 and any(start < e and start + len(span["text"]) > s for s, e in taken):
                start = text.find(span["text"], start + 1)
            if start < 0:
                raise ValueError(f"{path}:{n}: {span['text']!r} is not in the text")
            taken.append((start, start + len(span["text"])))
            gold.append(Gold(span["kind"], start, start + len(span["text"]), span["text"]))
        items.append(Item(text, gold, obj.get("split", "dev")))
    return config, items


def _covered(gold: Gold, spans: list[Span], text: str, kind: str | None = None) -> bool:
    for i in range(gold.start, gold.end):
        if text[i].isspace():
            continue
        if not any(s.start <= i < s.end and (kind is None or s.kind == kind) for s in spans):
            return False
    return True


def evaluate(config: dict[str, Any], items: list[Item], *, quiet: bool = True) -> Report:
    redactor = Redactor(
        household=config.get("household", ()),
        contacts=config.get("contacts", ()),
        places=config.get("places", ()),
    )
    report = Report(utterances=len(items))
    progress = Progress(len(items), "utterances", quiet=quiet)
    for item in items:
        spans = redactor.find(item.text, REDACT_KINDS)
        for g in item.gold:
            score = report.score(g.kind)
            score.gold += 1
            if _covered(g, spans, item.text):
                score.recalled += 1
            else:
                report.misses.append(
                    {
                        "text": item.text,
                        "kind": g.kind,
                        "span": g.text,
                        "found": [(s.kind, s.text) for s in spans],
                    }
                )
            if _covered(g, spans, item.text, g.kind):
                score.typed += 1
        for s in spans:
            score = report.score(s.kind)
            score.found += 1
            if any(s.start < g.end and s.end > g.start for g in item.gold):
                score.correct += 1
            else:
                report.false_positives.append({"text": item.text, "kind": s.kind, "span": s.text})
        progress.step()
    return report


def summary(report: Report) -> dict[str, Any]:
    kinds = {k: report.kinds[k].as_json() for k in REDACT_KINDS if k in report.kinds}
    gold = sum(s.gold for s in report.kinds.values())
    found = sum(s.found for s in report.kinds.values())
    return {
        "utterances": report.utterances,
        "kinds": kinds,
        "overall": {
            "gold": gold,
            "recall_pct": round(pct(sum(s.recalled for s in report.kinds.values()), gold), 1),
            "typed_recall_pct": round(pct(sum(s.typed for s in report.kinds.values()), gold), 1),
            "precision_pct": round(pct(sum(s.correct for s in report.kinds.values()), found), 1),
        },
        "goal_recall_pct": GOAL_RECALL,
        "meets_goal": all(v["recall_pct"] >= GOAL_RECALL for v in kinds.values() if v["gold"]),
        "misses": report.misses,
        "false_positives": report.false_positives,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--set", type=Path, default=DEFAULT_SET, help="the JSONL test set")
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout")
    parser.add_argument("--failures", action="store_true", help="list misses and false positives")
    args = parser.parse_args(argv)
    config, items = load_set(args.set)
    result = summary(evaluate(config, items, quiet=args.json))
    splits = sorted({i.split for i in items})
    result["by_split"] = {
        name: {
            k: v
            for k, v in summary(evaluate(config, [i for i in items if i.split == name])).items()
            if k not in ("misses", "false_positives")
        }
        for name in splits
    }
    if args.json:
        dump_json(result)
        return 0
    rows = [
        (
            k,
            v["gold"],
            f"{v['recall_pct']:.1f}%",
            f"{v['typed_recall_pct']:.1f}%",
            v["found"],
            f"{v['precision_pct']:.1f}%" if v["precision_pct"] is not None else "-",
        )
        for k, v in result["kinds"].items()
    ]
    o = result["overall"]
    rows.append(
        (
            "ALL",
            o["gold"],
            f"{o['recall_pct']:.1f}%",
            f"{o['typed_recall_pct']:.1f}%",
            sum(v["found"] for v in result["kinds"].values()),
            f"{o['precision_pct']:.1f}%",
        )
    )
    print(f"Redaction on {result['utterances']} utterances ({args.set.name})")
    print(table(["kind", "gold", "recall", "typed recall", "found", "precision"], rows))
    for name, part in result["by_split"].items():
        o = part["overall"]
        worst = min(part["kinds"].items(), key=lambda kv: kv[1]["recall_pct"])
        print(
            f"  {name:8} {part['utterances']:4} utterances: recall {o['recall_pct']:.1f}%, "
            f"precision {o['precision_pct']:.1f}%, lowest kind {worst[0]} "
            f"{worst[1]['recall_pct']:.1f}%"
        )
    print(
        f"goal: recall >= {GOAL_RECALL:.0f}% for every kind -> "
        f"{'met' if result['meets_goal'] else 'NOT met'}"
    )
    if args.failures:
        for m in result["misses"]:
            print(f"MISS {m['kind']:8} {m['span']!r} in {m['text']!r}; found {m['found']}")
        for f in result["false_positives"]:
            print(f"FP   {f['kind']:8} {f['span']!r} in {f['text']!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
