"""The homes of bench/homes/: their case files, and Home Assistant's test home converted.

A case file names a home (a file in the demo-home format, or ``ha_fixtures``: the home of
home-assistant-intents' own tests, read from the eval data and converted at run time, never
copied into the repository), the area the listening device is in, and its commands, each
with what must happen (see bench/homes/README.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

HOMES_DIR = Path(__file__).resolve().parent / "homes"
FIXTURES = Path("intents/home_assistant/tests/en/_fixtures.yaml")
"""Home Assistant's intent-test home, under the eval data."""

_CONTROLLED = ("light", "switch", "fan", "cover", "lock", "climate", "media_player", "vacuum",
               "scene", "script", "alarm_control_panel", "sensor")


@dataclass(frozen=True)
class Call:
    """One expected service call; a value of "+"/"-" means more/less than the state now."""

    service: str
    entity_id: str
    data: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)


@dataclass(frozen=True)
class Case:
    say: str
    area: str | None
    do: tuple[Call, ...] = ()
    confirm: tuple[Call, ...] = ()
    clarify: bool = False
    none: bool = False
    answer: str | None = None
    kind: str = ""
    """The device kind it is about (light, switch, fan, blinds, garage, lock, ...)."""
    or_do: tuple[tuple[Call, ...], ...] = ()
    """Other action sets that are just as right ("heat off": ``climate.turn_off`` or hvac mode off)."""


@dataclass(frozen=True)
class HomeCases:
    name: str
    home_file: Path
    device_area: str
    held_out: bool
    cases: tuple[Case, ...]
    entities: dict[str, dict[str, Any]]
    """The home's entities as written (entity_id -> its YAML mapping)."""


def parse_calls(text: str | None) -> tuple[Call, ...]:
    """'light.turn_on light.x brightness_pct=30; switch.turn_off switch.y' -> calls."""
    calls = []
    for part in (text or "").split(";"):
        if not part.strip():
            continue
        service, entity_id, *rest = part.split()
        data: dict[str, Any] = {}
        for key, value in _key_values(" ".join(rest)):
            loaded = value if value in ("+", "-") else yaml.safe_load(value)
            yes_no = isinstance(loaded, bool) and value.lower() not in ("true", "false")
            data[key] = value if yes_no else loaded  # hvac_mode=off is the word, not YAML 1.1's False
        calls.append(Call(service, entity_id, data))
    return tuple(calls)


def _key_values(text: str) -> list[tuple[str, str]]:
    """'rgb_color=warm white x=1' -> [('rgb_color', 'warm white'), ('x', '1')]."""
    out: list[tuple[str, str]] = []
    for token in text.split():
        if "=" in token:
            key, _, value = token.partition("=")
            out.append((key, value))
        elif out:
            out[-1] = (out[-1][0], f"{out[-1][1]} {token}")
    return out


def _listed(value: Any) -> list[str]:
    """A case key given as one string or a list of them."""
    return [] if value is None else [value] if isinstance(value, str) else [str(v) for v in value]


def kind_of(entity: dict[str, Any]) -> str:
    """The device kind a case is counted under: the domain, covers by what they are."""
    domain = str(entity["entity_id"]).split(".", 1)[0]
    if domain == "cover":
        cls = entity.get("device_class")
        return "garage" if cls in ("garage", "gate") else "blinds"
    return {"alarm_control_panel": "alarm", "script": "scene"}.get(domain, domain)


def load_cases(path: Path, eval_data: Path | None, work: Path) -> HomeCases:
    """One case file, with its home (converted into ``work`` when it is HA's test home)."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    home_ref = str(raw["home"])
    if home_ref == "ha_fixtures":
        if eval_data is None:
            raise SystemExit("bench: the ha_fixtures home needs the eval data (HEARTH_EVAL_DATA)")
        home_file = work / "ha_fixtures.yaml"
        home_file.write_text(yaml.safe_dump(convert_fixtures(eval_data / FIXTURES)), encoding="utf-8")
    else:
        home_file = (path.parent / home_ref).resolve()
    home = yaml.safe_load(home_file.read_text(encoding="utf-8"))
    entities = {str(e["entity_id"]): e for e in home.get("entities", [])}
    cases = []
    for i, c in enumerate(raw["cases"]):
        case = Case(say=str(c["say"]), area=c.get("area"), do=parse_calls(c.get("do")),
                    confirm=parse_calls(c.get("confirm")), clarify=bool(c.get("clarify")),
                    none=bool(c.get("none")), answer=c.get("answer"), kind=str(c.get("kind", "")),
                    or_do=tuple(parse_calls(alt) for alt in _listed(c.get("or_do"))))
        named = [x.entity_id for x in (*case.do, *case.confirm, *(x for alt in case.or_do for x in alt))]
        named += [case.answer] if case.answer else []
        unknown = [n for n in named if n not in entities]
        if unknown:
            raise SystemExit(f"bench: {path.name} case {i + 1} ({case.say!r}) names unknown {unknown}")
        if not case.kind:
            case = Case(**{**case.__dict__, "kind": kind_of(entities[named[0]]) if named else "none"})
        cases.append(case)
    return HomeCases(path.name.removesuffix(".cases.yaml"), home_file, str(raw["device_area"]),
                     bool(raw.get("held_out", False)), tuple(cases), entities)


def convert_fixtures(path: Path) -> dict[str, Any]:
    """Home Assistant's test fixtures -> the demo-home format (controllable kinds and plain sensors)."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    areas = [{"id": a["id"], "name": a["name"]} for a in raw.get("areas", [])]
    entities = []
    for e in raw.get("entities", []):
        entity_id = str(e["id"])
        domain = entity_id.split(".", 1)[0]
        state = e.get("state")
        if domain not in _CONTROLLED or isinstance(state, dict) or " " in entity_id:
            continue
        attrs = dict(e.get("attributes") or {})
        out: dict[str, Any] = {"entity_id": entity_id, "name": e["name"],
                               "state": "unknown" if state is None else str(state)}
        if e.get("area"):
            out["area"] = e["area"]
        if attrs.get("device_class"):
            out["device_class"] = attrs.pop("device_class")
        if attrs.get("unit_of_measurement"):
            out["unit"] = attrs.pop("unit_of_measurement")
        if domain == "lock" or (domain == "cover" and out.get("device_class") == "garage"):
            out["sensitive"] = True
        if domain == "climate":
            attrs.setdefault("temperature", 68)
            attrs.setdefault("min_temp", 45)
            attrs.setdefault("max_temp", 90)
        if domain == "media_player":
            out["features"] = ["volume"]
            attrs.setdefault("volume_level", 0.5)
        if attrs:
            out["attributes"] = attrs
        entities.append(out)
    return {"areas": areas, "entities": entities}


def case_files(names: list[str] | None, *, held_out: bool) -> list[Path]:
    """The case files to run: the named ones, or every devel one (and the held-out ones if asked)."""
    files = sorted(HOMES_DIR.glob("*.cases.yaml"))
    if names:
        wanted = [HOMES_DIR / f"{n}.cases.yaml" for n in names]
        missing = [p.name for p in wanted if not p.exists()]
        if missing:
            raise SystemExit(f"bench: no such home case file: {', '.join(missing)} "
                             f"(have: {', '.join(p.name.removesuffix('.cases.yaml') for p in files)})")
        return wanted
    return [p for p in files if held_out or not p.name.startswith("heldout_")]
