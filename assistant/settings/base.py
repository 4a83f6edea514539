"""The base of every settings section."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Frozen(BaseModel):
    """Base for every settings section: immutable, unknown keys are an error."""

    model_config = ConfigDict(frozen=True, extra="forbid")
