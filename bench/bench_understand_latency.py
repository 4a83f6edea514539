#!/usr/bin/env python3
"""Latency of the understanding step alone (no audio, nothing applied), on this machine.

Three measurements:

* template hit: requests the sentence templates match (p50 goal <= 20 ms);
* local-LLM decision: requests the templates miss but the local LLM decides (acts,
  asks which, or passes) (p50 goal <= 600 ms);
* cost growth: both again in generated homes of 20, 200 and 1,000 entities
  (goal: <= 1.5x from 20 to 1,000), the homes asked in turn so that the shared
  machine's changing load weighs on every size alike.

Wall time and process CPU time are both reported: on a busy machine the CPU time is
what the step itself costs.

    .venv/bin/python bench/bench_understand_latency.py [--sizes 20 200 1000] [--repeat 3] [--config FILE]
        [--json]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml
from _common import Progress, dump_json, percentile, table

from assistant.config import load_settings
from assistant.home.demo import DemoHome
from assistant.understand.local_llm import LocalLlmFallback
from assistant.understand.router import Understander

TEMPLATE_REQUESTS = [
    "turn on the {light}", "turn off the lights in the {area}", "switch off the {light}",
    "set the {light} to 40%", "make the {light} red", "turn on the lights",
    "dim the lights in the {area}", "make the {light} brighter", "what's the temperature",
    "pause", "start the vacuum", "make coffee", "it's dark in here", "turn off the {plug}",
    "open the {cover}", "set the temperature to 21 degrees", "lights out",
    "brighten the lights in the {area}", "turn the {area} lights off", "make it a bit dimmer",
]
"""Requests the templates match, in the shapes people use (names filled in per home)."""

LLM_REQUESTS = [
    "can you bright the lights please", "the {light} should be off", "give the {light} a bit more juice",
    "i would rather have the {area} lights off", "the {plug} needs to be on",
    "i want the {light} on now", "{light} on please thanks", "lights in the {area} should be brighter",
    "could the {light} go off", "my {area} is too dark", "shut down the {plug} please",
    "put the {light} on for me", "please get the {light} going", "the {area} lights, turn them off",
    "enough light in the {area}", "i'd love some darkness in the {area}", "switch {light} on now mate",
    "{plug} off right away", "kill the {area} lamp", "hoover time in the {area}",
]
"""Requests the templates miss but the local LLM must decide on (written for this bench)."""

KINDS = [
    ("light", "Light", ["dimmable", "color"]), ("light", "Lamp", ["dimmable"]),
    ("switch", "Plug", []), ("fan", "Fan", ["speed"]), ("cover", "Blinds", ["position"]),
    ("media_player", "Speaker", ["volume"]), ("light", "Spotlight", []),
    ("switch", "Heater Plug", []), ("light", "Strip", ["dimmable", "color"]),
    ("climate", "Thermostat", []),
]
ROOMS = ["Kitchen", "Bedroom", "Office", "Hallway", "Bathroom", "Garage", "Study", "Attic",
         "Cellar", "Nursery", "Den", "Library", "Pantry", "Porch", "Gym", "Studio", "Loft",
         "Laundry", "Playroom", "Lounge"]


def generated_home(n_entities: int) -> dict[str, Any]:
    """A home of ``n_entities``: ~10 devices per room, rooms named and numbered."""
    n_areas = max(2, n_entities // 10)
    areas = [{"id": "living_room", "name": "Living Room"}]
    for i in range(1, n_areas):
        base = ROOMS[(i - 1) % len(ROOMS)]
        suffix = "" if i <= len(ROOMS) else f" {(i - 1) // len(ROOMS) + 1}"
        areas.append({"id": f"area_{i}", "name": f"{base}{suffix}"})
    entities: list[dict[str, Any]] = [
        {"entity_id": "vacuum.robot", "name": "Robot Vacuum", "area": "living_room", "state": "docked"},
        {"entity_id": "switch.coffee_maker", "name": "Coffee Maker", "area": "living_room",
         "state": "off"},
    ]
    for i in range(n_entities - len(entities)):
        area = areas[i % n_areas]
        domain, noun, features = KINDS[(i // n_areas) % len(KINDS)]
        name = f"{area['name']} {noun}"
        if any(e["name"] == name for e in entities[-n_areas * 2:]):
            name = f"{name} {i}"
        ent: dict[str, Any] = {"entity_id": f"{domain}.e{i}", "name": name, "area": area["id"],
                               "features": features, "state": "off"}
        if domain == "climate":
            ent.update(state="heat", attributes={"temperature": 20.0, "min_temp": 10, "max_temp": 30})
        entities.append(ent)
    return {"areas": areas, "entities": entities}


def fill(template: str, home: dict[str, Any], i: int) -> str:
    ents = home["entities"]
    pick = {
        "light": [e["name"] for e in ents if e["entity_id"].startswith("light.")],
        "plug": [e["name"] for e in ents if e["entity_id"].startswith("switch.")],
        "cover": [e["name"] for e in ents if e["entity_id"].startswith("cover.")] or ["blinds"],
        "area": [a["name"] for a in home["areas"]],
    }
    out = template
    for key, values in pick.items():
        if "{" + key + "}" in out:
            out = out.replace("{" + key + "}", values[i % len(values)].lower() if values else key)
    return out


def measure(understander: Understander, text: str) -> tuple[float, float, str]:
    """One decision's wall and CPU milliseconds, and who decided."""
    understander.forget()
    w0, c0 = time.perf_counter(), time.process_time()
    decision = understander.decide(text, area="living_room")
    return (time.perf_counter() - w0) * 1000, (time.process_time() - c0) * 1000, decision.handled_by


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Every home is built first, then the requests go to the homes in turn (request 1 to
    each size, request 2 to each size, ...): a load that rises or falls while the bench
    runs (the test box is shared) weighs on every size alike, not on whichever ran last."""
    from assistant.llm.local import LocalLlm

    results: dict[str, Any] = {"sizes": {}, "threads": args.threads}
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["HEARTH_DATA_DIR"] = tmp
        settings = load_settings(args.config, data_dir=tmp)
        if args.threads:
            settings = settings.model_copy(update={"llm": settings.llm.model_copy(
                update={"threads": args.threads})})
        homes: list[dict[str, Any]] = []
        for size in args.sizes:
            folder = Path(tmp) / f"home{size}"
            folder.mkdir()
            definition = generated_home(size)
            (folder / "home.yaml").write_text(yaml.safe_dump(definition), encoding="utf-8")
            home = DemoHome(folder / "home.yaml", folder / "state.sqlite")
            t0 = time.perf_counter()
            understander = Understander(home)
            build_templates_s = time.perf_counter() - t0
            # one model per home: each keeps its own few-shot prompt in its KV cache
            llm = LocalLlm.from_settings(settings.llm, Path(tmp) / "cache") \
                if settings.llm.ranker != "embedding" else None  # the embedding ranker loads no LLM
            t0 = time.perf_counter()
            understander.fallbacks = [LocalLlmFallback.from_settings(
                settings, home, templates=understander.templates, llm=llm)]
            build_llm_s = time.perf_counter() - t0
            tmpl = [fill(t, definition, i) for i, t in enumerate(TEMPLATE_REQUESTS)]
            llm_reqs = [fill(t, definition, i) for i, t in enumerate(LLM_REQUESTS)]
            for text in tmpl[:3] + llm_reqs[:2]:  # warm-up: models loaded, prompt evaluated
                measure(understander, text)
            homes.append({"size": size, "definition": definition, "home": home, "llm": llm,
                          "understander": understander, "tmpl": tmpl, "llm_reqs": llm_reqs,
                          "build": (build_templates_s, build_llm_s),
                          "t": ([], [], []), "l": ([], [], [])})
        total = (len(TEMPLATE_REQUESTS) + len(LLM_REQUESTS)) * args.repeat * len(homes)
        progress = Progress(total, "decisions", quiet=args.json and not args.progress)
        for _ in range(args.repeat):
            for kind, key in (("t", "tmpl"), ("l", "llm_reqs")):
                for i in range(len(homes[0][key])):
                    for h in homes:
                        for out, value in zip(h[kind], measure(h["understander"], h[key][i]), strict=True):
                            out.append(value)
                        progress.step()
        for h in homes:
            h["home"].close()
            if h["llm"] is not None:
                h["llm"].close()
            (tw, tc, tp), (lw, lc, lp) = h["t"], h["l"]
            hit = [i for i, p in enumerate(tp) if p in ("local", "clarify", "confirm")]
            llm_idx = [i for i, p in enumerate(lp) if p != "local"]
            results["sizes"][str(h["size"])] = {
                "entities": h["size"], "areas": len(h["definition"]["areas"]),
                "build_templates_s": round(h["build"][0], 2),
                "build_llm_s": round(h["build"][1], 2),
                "template_hits": f"{len(hit)}/{len(tp)}",
                "template_p50_ms": round(percentile([tw[i] for i in hit], 50), 1),
                "template_p90_ms": round(percentile([tw[i] for i in hit], 90), 1),
                "template_cpu_p50_ms": round(percentile([tc[i] for i in hit], 50), 1),
                "llm_decisions": len(llm_idx),
                "llm_paths": {p: lp.count(p) for p in sorted(set(lp))},
                "llm_p50_ms": round(percentile([lw[i] for i in llm_idx], 50), 1),
                "llm_p90_ms": round(percentile([lw[i] for i in llm_idx], 90), 1),
                "llm_p95_ms": round(percentile([lw[i] for i in llm_idx], 95), 1),
                "llm_cpu_p50_ms": round(percentile([lc[i] for i in llm_idx], 50), 1),
            }
    sizes = results["sizes"]
    first, last = sizes[str(args.sizes[0])], sizes[str(args.sizes[-1])]
    results["growth"] = {
        "template_p50": round(last["template_p50_ms"] / max(first["template_p50_ms"], 1e-6), 2),
        "llm_p50": round(last["llm_p50_ms"] / max(first["llm_p50_ms"], 1e-6), 2),
        "template_cpu_p50": round(last["template_cpu_p50_ms"] / max(first["template_cpu_p50_ms"], 1e-6), 2),
        "llm_cpu_p50": round(last["llm_cpu_p50_ms"] / max(first["llm_cpu_p50_ms"], 1e-6), 2),
    }
    results["load_average"] = os.getloadavg()[0]
    return results


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", type=int, nargs="+", default=[20, 200, 1000],
                   help="entities in each generated home (default: 20 200 1000)")
    p.add_argument("--repeat", type=int, default=3, help="passes over the requests (default 3)")
    p.add_argument("--threads", type=int, help="llama.cpp threads (default: settings, 2)")
    p.add_argument("--config", type=Path, help="settings file (e.g. [llm] ranker = \"embedding\")")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    p.add_argument("--progress", action="store_true", help="show progress even with --json")
    args = p.parse_args()
    result = run(args)
    if args.json:
        dump_json(result)
        return 0
    rows = [(s["entities"], s["areas"], s["template_hits"], s["template_p50_ms"], s["template_p90_ms"],
             s["template_cpu_p50_ms"], s["llm_decisions"], s["llm_p50_ms"], s["llm_p90_ms"],
             s["llm_p95_ms"], s["llm_cpu_p50_ms"], s["build_templates_s"])
            for s in result["sizes"].values()]
    print(table(["entities", "areas", "template hits", "tmpl p50 ms", "tmpl p90 ms", "tmpl cpu p50",
                 "llm decisions", "llm p50 ms", "llm p90 ms", "llm p95 ms", "llm cpu p50", "build s"], rows))
    g = result["growth"]
    print(f"\ngrowth {args.sizes[0]} -> {args.sizes[-1]} entities: templates x{g['template_p50']} "
          f"(cpu x{g['template_cpu_p50']}), local LLM x{g['llm_p50']} (cpu x{g['llm_cpu_p50']}); "
          f"load average {result['load_average']:.1f}")
    for s in result["sizes"].values():
        print(f"  {s['entities']} entities, local-LLM paths: {s['llm_paths']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
