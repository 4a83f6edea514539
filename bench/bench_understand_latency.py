#!/usr/bin/env python3
"""Latency of the understanding step alone (no audio, nothing applied), on this machine.

Three measurements:

* template hit: requests the sentence templates match (p50 goal <= 20 ms);
* local-LLM decision: requests the templates miss but the local LLM decides (acts,
  asks which, or passes) (p50 goal <= 600 ms);
* cost growth: both again in generated homes of 20, 200 and 1,000 entities
  (goal: <= 2x from 20 to 1,000).

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


def measure(understander: Understander, requests: list[str], repeat: int,
            progress: Progress) -> tuple[list[float], list[float], list[str]]:
    walls: list[float] = []
    cpus: list[float] = []
    paths: list[str] = []
    for _ in range(repeat):
        for text in requests:
            understander.forget()
            w0, c0 = time.perf_counter(), time.process_time()
            decision = understander.decide(text, area="living_room")
            walls.append((time.perf_counter() - w0) * 1000)
            cpus.append((time.process_time() - c0) * 1000)
            paths.append(decision.handled_by)
            progress.step()
    return walls, cpus, paths


def run(args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {"sizes": {}, "threads": args.threads}
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["HEARTH_DATA_DIR"] = tmp
        settings = load_settings(args.config, data_dir=tmp)
        if args.threads:
            settings = settings.model_copy(update={"llm": settings.llm.model_copy(
                update={"threads": args.threads})})
        llm = None
        for size in args.sizes:
            folder = Path(tmp) / f"home{size}"
            folder.mkdir()
            definition = generated_home(size)
            (folder / "home.yaml").write_text(yaml.safe_dump(definition), encoding="utf-8")
            home = DemoHome(folder / "home.yaml", folder / "state.sqlite")
            t0 = time.perf_counter()
            understander = Understander(home)
            build_templates_s = time.perf_counter() - t0
            from assistant.llm.local import LocalLlm

            if settings.llm.ranker != "embedding":  # the embedding ranker loads no LLM
                llm = llm or LocalLlm.from_settings(settings.llm)
            t0 = time.perf_counter()
            understander.fallbacks = [LocalLlmFallback.from_settings(
                settings, home, templates=understander.templates, llm=llm)]
            build_llm_s = time.perf_counter() - t0
            tmpl = [fill(t, definition, i) for i, t in enumerate(TEMPLATE_REQUESTS)]
            llm_reqs = [fill(t, definition, i) for i, t in enumerate(LLM_REQUESTS)]
            total = (len(tmpl) + len(llm_reqs)) * args.repeat
            progress = Progress(total, f"{size} entities", quiet=args.json and not args.progress)
            measure(understander, tmpl[:3] + llm_reqs[:2], 1, Progress(5, "warm-up", quiet=True))
            tw, tc, tp = measure(understander, tmpl, args.repeat, progress)
            lw, lc, lp = measure(understander, llm_reqs, args.repeat, progress)
            home.close()
            hit = [i for i, p in enumerate(tp) if p in ("local", "clarify", "confirm")]
            llm_idx = [i for i, p in enumerate(lp) if p != "local"]
            results["sizes"][str(size)] = {
                "entities": size, "areas": len(definition["areas"]),
                "build_templates_s": round(build_templates_s, 2),
                "build_llm_s": round(build_llm_s, 2),
                "template_hits": f"{len(hit)}/{len(tp)}",
                "template_p50_ms": round(percentile([tw[i] for i in hit], 50), 1),
                "template_p90_ms": round(percentile([tw[i] for i in hit], 90), 1),
                "template_cpu_p50_ms": round(percentile([tc[i] for i in hit], 50), 1),
                "llm_decisions": len(llm_idx),
                "llm_paths": {p: lp.count(p) for p in sorted(set(lp))},
                "llm_p50_ms": round(percentile([lw[i] for i in llm_idx], 50), 1),
                "llm_p90_ms": round(percentile([lw[i] for i in llm_idx], 90), 1),
                "llm_cpu_p50_ms": round(percentile([lc[i] for i in llm_idx], 50), 1),
            }
        if llm is not None:
            llm.close()
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
             s["llm_cpu_p50_ms"], s["build_templates_s"])
            for s in result["sizes"].values()]
    print(table(["entities", "areas", "template hits", "tmpl p50 ms", "tmpl p90 ms", "tmpl cpu p50",
                 "llm decisions", "llm p50 ms", "llm p90 ms", "llm cpu p50", "build s"], rows))
    g = result["growth"]
    print(f"\ngrowth {args.sizes[0]} -> {args.sizes[-1]} entities: templates x{g['template_p50']} "
          f"(cpu x{g['template_cpu_p50']}), local LLM x{g['llm_p50']} (cpu x{g['llm_cpu_p50']}); "
          f"load average {result['load_average']:.1f}")
    for s in result["sizes"].values():
        print(f"  {s['entities']} entities, local-LLM paths: {s['llm_paths']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
