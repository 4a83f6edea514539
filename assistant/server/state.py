"""Server state that must survive a restart: today, the privacy mode set from the dashboard.

The home's state is already in SQLite; this is the small rest, written atomically
(temp file + rename) so a crash mid-write never leaves a broken file.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, get_args

from assistant.privacy.settings import PrivacyMode

log = logging.getLogger(__name__)

PRIVACY_MODES: tuple[str, ...] = get_args(PrivacyMode)


@dataclass(frozen=True)
class PrivacyState:
    """The privacy mode now: from the config, or switched on the dashboard (and when)."""

    mode: str
    source: str
    changed: str | None = None
    modes: tuple[str, ...] = PRIVACY_MODES

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "modes": list(self.modes)}


class ServerState:
    """The privacy mode the server runs with: the config's, unless switched (and persisted).

    The daemon hands the mode to the cloud path (:meth:`Brain.set_privacy_mode`) at start
    and on every switch.
    """

    def __init__(self, path: Path, default_mode: str) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._data: dict[str, Any] = {"privacy_mode": default_mode, "privacy_mode_source": "config"}
        self._load()

    def _load(self) -> None:
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return
        except (OSError, ValueError) as exc:
            log.warning("ignoring unreadable server state %s: %s", self.path, exc)
            return
        if isinstance(raw, dict) and raw.get("privacy_mode") in PRIVACY_MODES:
            self._data.update(privacy_mode=raw["privacy_mode"], privacy_mode_source="dashboard",
                              privacy_mode_changed=raw.get("privacy_mode_changed"))

    @property
    def privacy_mode(self) -> str:
        with self._lock:
            return str(self._data["privacy_mode"])

    def privacy(self) -> PrivacyState:
        with self._lock:
            return PrivacyState(self._data["privacy_mode"], self._data["privacy_mode_source"],
                                self._data.get("privacy_mode_changed"))

    def set_privacy_mode(self, mode: str, when: str) -> None:
        if mode not in PRIVACY_MODES:
            raise ValueError(f"unknown privacy mode {mode!r} (one of {', '.join(PRIVACY_MODES)})")
        with self._lock:
            self._data.update(privacy_mode=mode, privacy_mode_source="dashboard",
                              privacy_mode_changed=when)
            self._save()

    def _save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(self.path.suffix + ".tmp")
        payload = {k: self._data[k] for k in ("privacy_mode", "privacy_mode_changed")}
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(payload, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)
