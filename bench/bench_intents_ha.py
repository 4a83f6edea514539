#!/usr/bin/env python3
"""Home Assistant's English intent test suite, run through Hearth's understanding.

Builds a demo home from the suite's ``_fixtures.yaml`` (areas and entities, written
as a demo-home YAML in a temp dir), asks Hearth each test sentence (with the test's
context area, if any) and checks the intent, every expected slot (entity names ->
entity ids, area names -> area ids) and, for action intents, that the actions
target exactly the entities the slots mean. The per-intent folders (slot
combination tests) are run too, each against a home built from its own entities.

    .venv/bin/python bench/bench_intents_ha.py [--json] [--failures N] [--stack full]
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from _common import Progress, dump_json, eval_data_dir, pct, table

from assistant.config import load_settings
from assistant.home.base import HomeBackend
from assistant.home.demo import DemoHome
from assistant.home.services import SERVICES
from assistant.understand.result import Decision
from assistant.understand.router import Understander

CONTEXT_AREA = ("here_room", "Here Room")
"""The slot-combination tests' stand-in for "the area the device is in"."""

FEATURES_BY_DOMAIN = {
    "light": ["dimmable", "color"], "fan": ["speed"], "cover": ["position"],
    "media_player": ["volume"], "valve": ["position"],
}
INTENT_DOMAINS: dict[str, set[str] | None] = {
    "HassTurnOn": None, "HassTurnOff": None, "HassLightSet": {"light"},
    "HassSetPosition": {"cover", "valve"}, "HassVacuumStart": {"vacuum"},
    "HassVacuumReturnToBase": {"vacuum"}, "HassMediaPause": {"media_player"},
    "HassMediaUnpause": {"media_player"}, "HassMediaNext": {"media_player"},
    "HassMediaPrevious": {"media_player"}, "HassSetVolume": {"media_player"},
    "HassSetVolumeRelative": {"media_player"}, "HassFanSetSpeed": {"fan"},
}
"""Action intents and the domains they act on (None: any); their targets are checked."""
HEARTH_ONLY_SLOTS = {"scope"}
"""Slots Hearth adds for its own handlers; their meaning is checked through the targets."""


@dataclass
class Case:
    file: str
    sentence: str
    intent: str
    slots: dict[str, Any]
    context: dict[str, Any]
    home_key: str
    slot_combination: bool = False


def needs(case: Case, home_domains: dict[str, set[str]]) -> str | None:
    """A feature Hearth lacks that the test relies on: floors, or a domain without services."""
    if "floor" in case.slots:
        return "floors"
    if case.intent not in INTENT_DOMAINS:
        return None  # questions read state: any domain will do
    domain = case.slots.get("domain")
    for d in domain if isinstance(domain, list) else [domain]:
        if d and d not in SERVICES:
            return f"{d} domain"
    if "name" in case.slots:
        for n in case.slots["name"] if isinstance(case.slots["name"], list) else [case.slots["name"]]:
            for ent_domain in home_domains.get(str(n).lower(), set()):
                if ent_domain not in SERVICES:
                    return f"{ent_domain} domain"
    return None


@dataclass
class Outcome:
    case: Case
    ok: bool
    why: str = ""
    got_intent: str | None = None
    got_slots: dict[str, Any] = field(default_factory=dict)
    needs: str | None = None


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_") or "x"


def _state(raw: Any) -> str:
    if isinstance(raw, dict):
        return str(raw.get("out", raw.get("in", "unknown")))
    return "unknown" if raw is None else str(raw)


def fixtures_home_yaml(fixtures: dict[str, Any]) -> dict[str, Any]:
    """A demo-home definition from the suite's fixtures (floors are dropped: Hearth has none)."""
    areas = [{"id": a["id"], "name": a["name"]} for a in fixtures.get("areas", [])]
    entities = []
    for e in fixtures.get("entities", []):
        attrs = dict(e.get("attributes") or {})
        domain = e["id"].split(".", 1)[0]
        entities.append({
            "entity_id": e["id"],
            "name": e["name"],
            "area": e.get("area"),
            "device_class": attrs.pop("device_class", None),
            "unit": attrs.pop("unit_of_measurement", None),
            "features": FEATURES_BY_DOMAIN.get(domain, []),
            "sensitive": domain == "lock",
            "state": _state(e.get("state")),
            "attributes": attrs,
        })
    return {"areas": areas, "entities": entities}


def combo_home_yaml(test: dict[str, Any]) -> dict[str, Any]:
    """A small home for one slot-combination test file."""
    areas = [{"id": CONTEXT_AREA[0], "name": CONTEXT_AREA[1]}]
    areas += [{"id": slug(a["name"]), "name": a["name"]} for a in test.get("areas", [])]
    entities = []
    for i, e in enumerate(test.get("entities", [])):
        domain = e["domain"]
        entities.append({
            "entity_id": f"{domain}.{slug(e['name'])}_{i}", "name": e["name"],
            "area": CONTEXT_AREA[0], "features": FEATURES_BY_DOMAIN.get(domain, []),
            "sensitive": domain == "lock", "state": str(e.get("state", "off")),
        })
    return {"areas": areas, "entities": entities}


def load_cases(suite: Path) -> tuple[dict[str, dict[str, Any]], list[Case]]:
    homes: dict[str, dict[str, Any]] = {"fixtures": fixtures_home_yaml(
        yaml.safe_load((suite / "_fixtures.yaml").read_text(encoding="utf-8")))}
    cases: list[Case] = []
    for path in sorted(suite.glob("*.yaml")):
        if path.name.startswith("_"):
            continue
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for test in data.get("tests", []):
            intent = test["intent"]
            for sentence in test.get("sentences") or []:
                cases.append(Case(path.name, sentence, intent["name"], dict(intent.get("slots") or {}),
                                  dict(intent.get("context") or {}), "fixtures"))
    for path in sorted(suite.glob("*/*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        key = f"{path.parent.name}/{path.name}"
        homes[key] = combo_home_yaml(data)
        for test in data.get("tests", []):
            for sentence in test.get("sentences") or []:
                cases.append(Case(key, sentence, path.parent.name, dict(test.get("slots") or {}),
                                  {"area": CONTEXT_AREA[1]}, key, slot_combination=True))
    return homes, cases


class Checker:
    """Compares Hearth's decision with one test's expectations, against one home."""

    def __init__(self, home: HomeBackend) -> None:
        self.home = home
        self.by_name: dict[str, set[str]] = defaultdict(set)
        for e in home.entities():
            for n in e.names:
                self.by_name[n.lower()].add(e.entity_id)
        self.area_ids = {a.name.lower(): a.id for a in home.areas()}

    def area_id(self, name: str) -> str | None:
        return self.area_ids.get(str(name).lower())

    def slot_ok(self, name: str, expected: Any, got: Any) -> bool:
        options = expected if isinstance(expected, list) else [expected]
        got_values = got if isinstance(got, list) else [got]
        if name == "name":
            allowed = set().union(*(self.by_name.get(str(o).lower(), set()) for o in options))
            return all(str(g) in allowed for g in got_values)
        if name == "area":
            allowed_ids = {self.area_id(o) for o in options}
            return all(g in allowed_ids for g in got_values)
        return all(any(_same(o, g) for o in options) for g in got_values)

    def expected_targets(self, case: Case, area: str | None) -> set[str] | None:
        """The entities the expected slots mean (HA's rules), or None when not checkable."""
        slots = case.slots
        if "floor" in slots or case.intent not in INTENT_DOMAINS:
            return None
        implied = INTENT_DOMAINS[case.intent]
        if "name" in slots and slots["name"] != "all":
            names = slots["name"] if isinstance(slots["name"], list) else [slots["name"]]
            return set().union(*(self.by_name.get(str(n).lower(), set()) for n in names))
        domains = slots.get("domain")
        domains = set(domains if isinstance(domains, list) else [domains]) if domains else implied
        classes = slots.get("device_class")
        classes = set(classes if isinstance(classes, list) else [classes]) if classes else None
        where = self.area_id(slots["area"]) if "area" in slots else area
        found = {e.entity_id for e in self.home.entities()
                 if (domains is None or e.domain in domains)
                 and (classes is None or e.device_class in classes)
                 and (where is None or e.area == where)}
        return found or None

    def names_in_domain(self, got: Any, domain: Any) -> bool:
        ids = got if isinstance(got, list) else [got]
        wanted = domain if isinstance(domain, list) else [domain]
        return bool(ids) and all(str(i).split(".", 1)[0] in wanted for i in ids)


def _same(expected: Any, got: Any) -> bool:
    try:
        return float(expected) == float(got)
    except (TypeError, ValueError):
        return str(expected).lower() == str(got).lower()


def check(case: Case, decision: Decision, checker: Checker, area: str | None) -> tuple[bool, str]:
    """Intent, slots (by meaning: names and areas resolved to ids) and, for actions, targets."""
    if decision.intent != case.intent:
        return False, f"intent {decision.intent} (expected {case.intent})"
    got = dict(decision.slots)
    for name, expected in case.slots.items():
        if name == "name" and expected == "all":
            continue  # HA's "every entity" marker; the targets say whether it was meant
        if name == "domain" and "domain" not in got and "name" in got:
            if checker.names_in_domain(got["name"], expected):
                continue
            return False, f"named {got['name']!r}, not a {expected}"
        if name not in got:
            return False, f"missing slot {name}={expected!r}"
        if not checker.slot_ok(name, expected, got[name]):
            return False, f"slot {name}={got[name]!r} (expected {expected!r})"
    for name, value in got.items():
        if name in case.slots or name in HEARTH_ONLY_SLOTS:
            continue
        if name == "area" and value == area:
            continue  # the context area, which HA's slot-combination tests drop too
        if name == "domain" and case.intent in INTENT_DOMAINS:
            continue  # checked below through the entities acted on
        if name == "domain" and "name" in got and checker.names_in_domain(got["name"], value):
            continue  # the named entity's own domain: no change of meaning
        return False, f"extra slot {name}={value!r}"
    want = checker.expected_targets(case, area)
    if want is not None:
        targets = {a.entity_id for a in (*decision.actions, *decision.pending)}
        if targets != want:
            return False, f"targets {sorted(targets)} (expected {sorted(want)}): {decision.reply}"
    return True, ""


def build_understander(home: HomeBackend, stack: str) -> Understander:
    if stack == "templates":
        return Understander(home)
    from assistant.understand.local_llm import LocalLlmFallback  # the device's whole local stack

    understander = Understander(home)
    understander.fallbacks = [LocalLlmFallback.from_settings(
        load_settings(), home, templates=understander.templates, llm=_shared_llm())]
    return understander


_LLM: list[Any] = []


def _shared_llm() -> Any:
    """One model for every fixture home (loading it per home would dominate the run)."""
    if not _LLM:
        from assistant.llm.local import LocalLlm

        _LLM.append(LocalLlm.from_settings(load_settings().llm))
    return _LLM[0]


def run(args: argparse.Namespace) -> dict[str, Any]:
    suite = eval_data_dir() / "intents" / "home_assistant" / "tests" / "en"
    homes, cases = load_cases(suite)
    supported_names: set[str] | None = None
    outcomes: list[Outcome] = []
    progress = Progress(len(cases), "sentences", quiet=args.json and not args.progress)
    with tempfile.TemporaryDirectory() as tmp:
        by_home: dict[str, list[Case]] = defaultdict(list)
        for c in cases:
            by_home[c.home_key].append(c)
        for key, home_cases in by_home.items():
            folder = Path(tmp) / slug(key)
            folder.mkdir()
            definition = folder / "home.yaml"
            definition.write_text(yaml.safe_dump(homes[key]), encoding="utf-8")
            home = DemoHome(definition, folder / "home.sqlite")
            try:
                understander = build_understander(home, args.stack)
                supported_names = set(understander.handlers.intents)
                checker = Checker(home)
                domains_by_name: dict[str, set[str]] = defaultdict(set)
                for e in home.entities():
                    domains_by_name[e.name.lower()].add(e.domain)
                for case in home_cases:
                    area = checker.area_id(case.context["area"]) if "area" in case.context else None
                    understander.forget()  # every test sentence is a fresh conversation
                    decision = understander.decide(case.sentence, area=area)
                    ok, why = check(case, decision, checker, area)
                    outcomes.append(Outcome(case, ok, why, decision.intent, dict(decision.slots),
                                            needs(case, domains_by_name)))
                    progress.step()
            finally:
                home.close()
    assert supported_names is not None
    return summarise(outcomes, supported_names, args.failures)


def summarise(outcomes: list[Outcome], supported: set[str], show: int) -> dict[str, Any]:
    per_intent: dict[str, Counter[str]] = defaultdict(Counter)
    lacking: Counter[str] = Counter()
    for o in outcomes:
        per_intent[o.case.intent]["total"] += 1
        per_intent[o.case.intent]["passed"] += int(o.ok)
        if o.needs:
            per_intent[o.case.intent]["needs"] += 1
            if o.case.intent in supported:
                lacking[o.needs] += 1
    sup = [o for o in outcomes if o.case.intent in supported]
    core = [o for o in sup if not o.needs]
    failures = [o for o in core if not o.ok] + [o for o in sup if o.needs and not o.ok]
    return {
        "sentences": len(outcomes),
        "supported_sentences": len(sup),
        "supported_passed": sum(o.ok for o in sup),
        "supported_pass_pct": round(pct(sum(o.ok for o in sup), len(sup)), 1),
        "supported_core_sentences": len(core),
        "supported_core_passed": sum(o.ok for o in core),
        "supported_core_pct": round(pct(sum(o.ok for o in core), len(core)), 1),
        "needs_missing_feature": dict(lacking),
        "per_intent": {
            name: {"supported": name in supported, "total": c["total"], "passed": c["passed"],
                   "needs_missing_feature": c["needs"]}
            for name, c in sorted(per_intent.items())
        },
        "unsupported_intents": sorted(n for n in per_intent if n not in supported),
        "failures": [
            {"file": o.case.file, "sentence": o.case.sentence, "why": o.why, "needs": o.needs,
             "expected": {"intent": o.case.intent, "slots": o.case.slots},
             "got": {"intent": o.got_intent, "slots": o.got_slots}}
            for o in failures[: show if show >= 0 else None]
        ],
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    p.add_argument("--progress", action="store_true", help="show progress even with --json")
    p.add_argument("--failures", type=int, default=20, help="failures to list (-1: all)")
    p.add_argument("--stack", choices=["templates", "full"], default="templates",
                   help="templates only (default) or the whole on-device stack incl. the local LLM")
    args = p.parse_args()
    result = run(args)
    if args.json:
        dump_json(result)
        return 0
    rows = [(name, "yes" if r["supported"] else "no", r["total"], r["passed"],
             f"{pct(r['passed'], r['total']):.1f}%", r["needs_missing_feature"])
            for name, r in result["per_intent"].items()]
    print(table(["intent", "supported", "sentences", "passed", "pass", "need a missing feature"], rows))
    print()
    print(f"supported intents: {result['supported_core_passed']}/{result['supported_core_sentences']} "
          f"= {result['supported_core_pct']}% of the sentences that need no missing feature; "
          f"{result['supported_passed']}/{result['supported_sentences']} "
          f"= {result['supported_pass_pct']}% of all")
    print("missing features: " + ", ".join(f"{k} ({v} sentences)"
                                           for k, v in sorted(result["needs_missing_feature"].items())))
    print("unsupported intents: " + ", ".join(result["unsupported_intents"]))
    if result["failures"]:
        print("\nfailures (supported intents):")
        for f in result["failures"]:
            need = f" [needs {f['needs']}]" if f["needs"] else ""
            print(f"  [{f['file']}] {f['sentence']!r}: {f['why']}{need}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
