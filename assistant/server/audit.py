"""The audit log as the server shows it: read-only, newest last.

A thin adapter over :mod:`assistant.privacy.audit` (the cloud path writes it, and
commits every row before a request leaves, so there is nothing to flush at shutdown).
If that module is missing, the API answers with an empty list and says so.
"""

from __future__ import annotations

import logging
from pathlib import Path

from assistant.config import Settings
from assistant.errors import HearthError
from assistant.server.records import AuditReply

log = logging.getLogger(__name__)


def audit_path(settings: Settings) -> Path:
    configured: Path | None = getattr(getattr(settings, "privacy", None), "audit_db", None)
    return configured or settings.data_dir / "audit.sqlite"


def read_audit(settings: Settings, limit: int = 100) -> AuditReply:
    """The newest ``limit`` entries; a log that cannot be read is an empty reply saying why."""
    path = audit_path(settings)
    try:
        from assistant.privacy.audit import open_readonly
    except ImportError:
        return AuditReply(available=False, path=str(path), entries=[],
                          error="the audit log module is not installed")
    try:
        rows = open_readonly(path) or []
    except HearthError as exc:
        log.warning("cannot read the audit log: %s", exc)
        return AuditReply(available=True, path=str(path), entries=[], error=str(exc))
    entries = [e.as_json() for e in rows[-limit:]] if limit > 0 else []
    return AuditReply(available=True, path=str(path), entries=entries, total=len(rows))
