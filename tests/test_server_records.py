"""The server's records are frozen values, and their JSON is what the API always sent
(the API itself: test_server, test_dashboard)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from assistant.config import load_settings
from assistant.privacy.audit import AuditLog
from assistant.server.audit import read_audit
from assistant.server.records import AuditReply, Health, SatelliteStatus


def test_the_audit_reply_is_a_frozen_record_with_the_same_json(tmp_path: Path) -> None:
    settings = load_settings(data_dir=str(tmp_path))
    with AuditLog(tmp_path / "audit.sqlite"):
        pass  # an empty log, as a server that sent nothing has
    reply = read_audit(settings)
    assert isinstance(reply, AuditReply)
    assert reply.model_dump(mode="json") == {"available": True, "path": str(tmp_path / "audit.sqlite"),
                                             "entries": [], "total": 0, "error": None}
    with pytest.raises(ValidationError):
        reply.total = 3  # type: ignore[misc]


def test_a_log_that_cannot_be_read_is_an_empty_reply_saying_why(tmp_path: Path) -> None:
    (tmp_path / "audit.sqlite").write_bytes(b"not a database" * 100)
    reply = read_audit(load_settings(data_dir=str(tmp_path)))
    assert reply.available and reply.entries == [] and reply.error


def test_health_holds_typed_satellites_and_refuses_unknown_fields() -> None:
    kitchen = SatelliteStatus(name="kitchen", area="kitchen", connected=False)
    health = Health(status="ok", version="1", uptime_s=1.0, models_load_s=2.0, microphone=False,
                    satellites=[kitchen], turns_completed=0, event_subscribers=0)
    assert health.model_dump(mode="json")["satellites"] == [
        {"name": "kitchen", "area": "kitchen", "connected": False, "peer": None, "wake_on": None,
         "backlog_s": 0.0}]
    with pytest.raises(ValidationError):
        SatelliteStatus(name="x", area=None, connected=True, backlog=1.0)  # type: ignore[call-arg]
