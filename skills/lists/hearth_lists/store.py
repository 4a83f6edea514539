"""Lists in SQLite, in the skill's own data folder: they survive restarts."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path


class ListStore:
    def __init__(self, path: Path) -> None:
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, timeout=10, isolation_level=None)
        self._db.execute("CREATE TABLE IF NOT EXISTS items (list TEXT NOT NULL, item TEXT NOT NULL, "
                         "added REAL NOT NULL, PRIMARY KEY (list, item))")

    def add(self, name: str, item: str) -> bool:
        """False if it was already there."""
        with self._lock:
            cur = self._db.execute("INSERT OR IGNORE INTO items VALUES (?, ?, ?)", (name, item, time.time()))
            return cur.rowcount > 0

    def remove(self, name: str, item: str) -> bool:
        with self._lock:
            return self._db.execute("DELETE FROM items WHERE list = ? AND item = ?",
                                    (name, item)).rowcount > 0

    def items(self, name: str) -> list[str]:
        with self._lock:
            rows = self._db.execute("SELECT item FROM items WHERE list = ? ORDER BY added", (name,))
            return [str(r[0]) for r in rows.fetchall()]

    def clear(self, name: str) -> int:
        with self._lock:
            return self._db.execute("DELETE FROM items WHERE list = ?", (name,)).rowcount

    def close(self) -> None:
        with self._lock:
            self._db.close()
