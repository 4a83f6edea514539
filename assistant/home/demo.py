"""The embedded demo home: entities from a YAML file, state in SQLite.

SQLite in WAL mode lets readers (the dashboard, ``hearth ask`` in another process)
see consistent state while a turn writes; state survives restarts.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from assistant.errors import ConfigError, HomeError
from assistant.home import services
from assistant.home.base import Area, Entity, EntityState, HomeBackend

_SCHEMA = """
CREATE TABLE IF NOT EXISTS states (
    entity_id TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    attributes TEXT NOT NULL,
    last_changed REAL NOT NULL
)
"""


def load_home_definition(path: Path) -> tuple[list[Area], list[Entity], dict[str, EntityState]]:
    """Read a home YAML file: areas, entities and their initial states."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"home definition not found: {path}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"home definition {path} is not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"home definition {path} must have 'areas' and 'entities'")
    try:
        areas = [
            Area(a["id"], a["name"], tuple(a.get("aliases", ()))) for a in raw.get("areas", [])
        ]
        entities: list[Entity] = []
        initial: dict[str, EntityState] = {}
        area_ids = {a.id for a in areas}
        for e in raw.get("entities", []):
            ent = Entity(
                entity_id=e["entity_id"],
                name=e["name"],
                area=e.get("area"),
                aliases=tuple(e.get("aliases", ())),
                features=frozenset(e.get("features", ())),
                device_class=e.get("device_class"),
                unit=e.get("unit"),
                sensitive=bool(e.get("sensitive", False)),
            )
            if ent.area is not None and ent.area not in area_ids:
                raise ConfigError(f"home definition {path}: {ent.entity_id} is in unknown area {ent.area!r}")
            entities.append(ent)
            initial[ent.entity_id] = EntityState(
                ent.entity_id, str(e.get("state", "unknown")), dict(e.get("attributes", {}))
            )
    except (KeyError, TypeError) as exc:
        raise ConfigError(f"home definition {path}: missing or malformed field {exc}") from None
    return areas, entities, initial


class DemoHome(HomeBackend):
    """The demo home; ``state_db`` is created and seeded on first use."""

    def __init__(self, definition: Path, state_db: Path) -> None:
        self._areas, self._entities, initial = load_home_definition(definition)
        self._by_id = {e.entity_id: e for e in self._entities}
        state_db.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        try:
            self._db = sqlite3.connect(state_db, check_same_thread=False, timeout=10)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(_SCHEMA)
            with self._db:
                self._db.executemany(
                    "INSERT OR IGNORE INTO states VALUES (?, ?, ?, ?)",
                    [
                        (s.entity_id, s.state, json.dumps(dict(s.attributes)), time.time())
                        for s in initial.values()
                    ],
                )
        except sqlite3.Error as exc:
            raise HomeError(f"cannot open the home's state database {state_db}: {exc}") from None

    def areas(self) -> list[Area]:
        return list(self._areas)

    def entities(self) -> list[Entity]:
        return list(self._entities)

    def get_state(self, entity_id: str) -> EntityState:
        if entity_id not in self._by_id:
            raise HomeError(f"no entity {entity_id!r} in this home", code="unknown_entity")
        with self._lock:
            return self._read(entity_id)

    def call_service(self, service: str, entity_id: str, data: Mapping[str, Any]) -> EntityState:
        entity = self.entity(entity_id)
        with self._lock:
            new = services.apply(entity, self._read(entity_id), service, data)
            with self._db:
                self._db.execute(
                    "INSERT OR REPLACE INTO states VALUES (?, ?, ?, ?)",
                    (entity_id, new.state, json.dumps(dict(new.attributes)), time.time()),
                )
        return new

    def _read(self, entity_id: str) -> EntityState:
        row = self._db.execute(
            "SELECT state, attributes FROM states WHERE entity_id = ?", (entity_id,)
        ).fetchone()
        if row is None:
            return EntityState(entity_id, "unknown")
        return EntityState(entity_id, row[0], json.loads(row[1]))

    def entity(self, entity_id: str) -> Entity:
        try:
            return self._by_id[entity_id]
        except KeyError:
            raise HomeError(f"no entity {entity_id!r} in this home", code="unknown_entity") from None

    def close(self) -> None:
        self._db.close()
