"""The audit log: every request that leaves the device, recorded before it is sent.

SQLite in WAL mode with ``synchronous=FULL``: :meth:`AuditLog.begin` commits one row
(time, rule, endpoint, model, the exact redacted text, the exact request body and its
byte count) *before* the request goes on the wire; :meth:`AuditLog.complete` adds
latency and outcome after. A crash in between leaves a row with no outcome, which
``hearth audit`` shows as "interrupted" — never a missing row.

Append-only is enforced by the database itself: triggers abort any DELETE, any UPDATE
of a field describing what was sent, and any second completion. Each row also carries
a hash chained to the previous row, so an edit made by other means (a hex editor, a
dropped trigger) shows up in :meth:`AuditLog.verify`.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from assistant.errors import HearthError


class AuditError(HearthError):
    code = "audit_failed"
    stage = "privacy"


SENT_FIELDS = (
    "id",
    "t_sent",
    "rule",
    "mode",
    "consent",
    "endpoint",
    "model",
    "text",
    "payload",
    "payload_bytes",
    "payload_sha256",
    "chain",
)

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS cloud_requests (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    t_sent         TEXT    NOT NULL,
    rule           TEXT    NOT NULL,
    mode           TEXT    NOT NULL,
    consent        TEXT    NOT NULL,
    endpoint       TEXT    NOT NULL,
    model          TEXT    NOT NULL,
    text           TEXT    NOT NULL,
    payload        BLOB    NOT NULL,
    payload_bytes  INTEGER NOT NULL,
    payload_sha256 TEXT    NOT NULL,
    chain          TEXT    NOT NULL,
    t_done         TEXT,
    latency_ms     REAL,
    ttft_ms        REAL,
    outcome        TEXT,
    detail         TEXT
);
CREATE TRIGGER IF NOT EXISTS cloud_requests_no_delete
BEFORE DELETE ON cloud_requests
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: rows cannot be deleted'); END;
CREATE TRIGGER IF NOT EXISTS cloud_requests_sent_is_final
BEFORE UPDATE OF {", ".join(SENT_FIELDS)} ON cloud_requests
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: what was sent cannot change'); END;
CREATE TRIGGER IF NOT EXISTS cloud_requests_complete_once
BEFORE UPDATE ON cloud_requests WHEN OLD.outcome IS NOT NULL
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: a completed request cannot change'); END;
"""

_GENESIS = "0" * 64


@dataclass(frozen=True)
class AuditEntry:
    """One row: what was sent (fixed at send time) and how it went (filled in after)."""

    id: int
    t_sent: str
    rule: str
    mode: str
    consent: str
    endpoint: str
    model: str
    text: str
    payload: bytes
    payload_bytes: int
    payload_sha256: str
    chain: str
    t_done: str | None
    latency_ms: float | None
    ttft_ms: float | None
    outcome: str | None
    detail: str | None

    @property
    def status(self) -> str:
        return self.outcome or "interrupted"

    def as_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["payload"] = self.payload.decode("utf-8", errors="replace")
        out["status"] = self.status
        return out


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _link(previous: str, *fields: str) -> str:
    """The next link of the hash chain: the previous link plus this row's sent fields."""
    material = "\x1f".join((previous, *fields)).encode()
    return hashlib.sha256(material).hexdigest()


class AuditLog:
    """The append-only log of what left the device. Thread-safe; one per process is enough."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(
                path, isolation_level=None, check_same_thread=False, timeout=10.0
            )
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise AuditError(f"cannot open the audit log {path}: {exc}") from None
        self._lock = threading.Lock()

    def begin(
        self,
        *,
        rule: str,
        mode: str,
        consent: str,
        endpoint: str,
        model: str,
        text: str,
        payload: bytes,
    ) -> int:
        """Record a request about to be sent; committed (fsync'd) before this returns."""
        sha = hashlib.sha256(payload).hexdigest()
        t_sent = _now()
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                row = self._db.execute(
                    "SELECT chain FROM cloud_requests ORDER BY id DESC LIMIT 1"
                ).fetchone()
                previous = row[0] if row else _GENESIS
                chain = _link(previous, t_sent, rule, mode, consent, endpoint, model, text, sha)
                cur = self._db.execute(
                    "INSERT INTO cloud_requests (t_sent, rule, mode, consent, endpoint, model,"
                    " text, payload, payload_bytes, payload_sha256, chain)"
                    " VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                    (
                        t_sent,
                        rule,
                        mode,
                        consent,
                        endpoint,
                        model,
                        text,
                        payload,
                        len(payload),
                        sha,
                        chain,
                    ),
                )
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise AuditError(f"cannot write the audit log {self.path}: {exc}") from None
        assert cur.lastrowid is not None
        return cur.lastrowid

    def complete(
        self,
        row_id: int,
        *,
        outcome: str,
        latency_ms: float,
        ttft_ms: float | None = None,
        detail: str | None = None,
    ) -> None:
        """Add how a request went (once). ``outcome`` is ``ok`` or an error code."""
        with self._lock:
            try:
                self._db.execute(
                    "UPDATE cloud_requests SET t_done=?, latency_ms=?, ttft_ms=?, outcome=?,"
                    " detail=? WHERE id=?",
                    (
                        _now(),
                        round(latency_ms, 2),
                        None if ttft_ms is None else round(ttft_ms, 2),
                        outcome,
                        detail,
                        row_id,
                    ),
                )
            except sqlite3.Error as exc:
                raise AuditError(f"cannot complete audit row {row_id}: {exc}") from None

    def entries(self, *, limit: int | None = None) -> list[AuditEntry]:
        """Newest last. ``limit`` keeps the newest N."""
        return read_entries(self._db, limit=limit, lock=self._lock)

    def verify(self) -> list[int]:
        """Ids of rows whose hash chain does not hold (empty when the log is intact)."""
        return verify_chain(self.entries())

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> AuditLog:
        return self

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def read_entries(
    db: sqlite3.Connection, *, limit: int | None = None, lock: threading.Lock | None = None
) -> list[AuditEntry]:
    query = (
        f"SELECT {', '.join(f.name for f in AuditEntry.__dataclass_fields__.values())}"
        " FROM cloud_requests ORDER BY id DESC"
    )
    params: tuple[int, ...] = ()
    if limit is not None:
        query += " LIMIT ?"
        params = (limit,)
    if lock is not None:
        with lock:
            rows = db.execute(query, params).fetchall()
    else:
        rows = db.execute(query, params).fetchall()
    return [AuditEntry(*row) for row in reversed(rows)]


def verify_chain(entries: list[AuditEntry]) -> list[int]:
    """Recompute each row's hash from the one before it (the first row must start the chain)."""
    bad: list[int] = []
    previous: str | None = None
    for e in entries:
        if previous is None:
            previous = _GENESIS if e.id == 1 else None
        sha_ok = (
            hashlib.sha256(e.payload).hexdigest() == e.payload_sha256
            and len(e.payload) == e.payload_bytes
        )
        if previous is not None:
            expected = _link(previous, e.t_sent, e.rule, e.mode, e.consent, e.endpoint, e.model,
                             e.text, e.payload_sha256)
            if expected != e.chain or not sha_ok:
                bad.append(e.id)
        elif not sha_ok:
            bad.append(e.id)
        previous = e.chain
    return bad


def open_readonly(path: Path) -> list[AuditEntry] | None:
    """The log's rows without creating or changing anything; None when there is no log yet."""
    if not path.exists():
        return None
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return read_entries(db)
        finally:
            db.close()
    except sqlite3.Error as exc:
        raise AuditError(f"cannot read the audit log {path}: {exc}") from None
