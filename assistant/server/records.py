"""The server's frozen records: what ``/api/health`` and ``/api/audit`` answer, built by
the parts that know them (the Wyoming server, the audit reader) and sent by FastAPI as
they are, so the JSON on the wire is these records' fields."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

_FROZEN = ConfigDict(frozen=True, extra="forbid")


class SatelliteStatus(BaseModel):
    """A configured satellite: whether it is connected, from where, its audio backlog."""

    model_config = _FROZEN
    name: str
    area: str | None
    connected: bool
    peer: str | None = None
    wake_on: str | None = None
    backlog_s: float = 0.0


class Health(BaseModel):
    """Is the server up, and what is connected (``GET /api/health``)."""

    model_config = _FROZEN
    status: Literal["ok", "stopping"]
    version: str
    uptime_s: float
    models_load_s: float
    microphone: bool
    satellites: list[SatelliteStatus]
    turns_completed: int
    event_subscribers: int


class AuditReply(BaseModel):
    """The audit log as the server shows it (``GET /api/audit``): the newest entries
    (each a row's ``as_json``), how many there are in all, and why none, if none can be read."""

    model_config = _FROZEN
    available: bool
    path: str
    entries: list[dict[str, Any]]
    total: int = 0
    error: str | None = None
