"""``hearth ask --batch``: one utterance per line, each line validated on its own.

A bad line (not JSON, a wrong type, too long, an unknown area) gives one error result
naming the line and the field, and the batch goes on: one typo must not cost the
answers to the thousand lines after it.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

from pydantic import BaseModel, ConfigDict, Field, StrictStr, ValidationError

from assistant.errors import HearthError
from assistant.limits import BATCH_LINE_BYTES, TEXT_CHARS


class BatchLine(BaseModel):
    """A JSON batch line. Other keys (labels kept beside the text) are ignored."""

    model_config = ConfigDict(extra="ignore")
    text: StrictStr = Field(min_length=1, max_length=TEXT_CHARS)
    area: StrictStr | None = Field(None, min_length=1, max_length=200)


@dataclass(frozen=True)
class LineError:
    """Why one batch line was not asked."""

    line: int
    message: str
    field: str | None = None
    code: str = "bad_input"
    text: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {"line": self.line, "error": self.code, "field": self.field,
                "message": self.message, "text": self.text}

    def __str__(self) -> str:
        where = f"line {self.line}" + (f", field {self.field!r}" if self.field else "")
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class Utterance:
    line: int
    text: str
    area: str | None


def _raw_lines(stream: BinaryIO) -> Iterator[tuple[int, bytes | None]]:
    """(line number, bytes) with each line bounded; None for a line over the limit."""
    number = 0
    while True:
        raw = stream.readline(BATCH_LINE_BYTES + 1)
        if not raw:
            return
        number += 1
        if len(raw) > BATCH_LINE_BYTES and not raw.endswith(b"\n"):
            while (rest := stream.readline(BATCH_LINE_BYTES)) and not rest.endswith(b"\n"):
                pass  # skip the rest of the long line without holding it
            yield number, None
            continue
        yield number, raw


def _field_error(number: int, exc: ValidationError, text: str | None) -> LineError:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or None
    got = first.get("input")
    kind = type(got).__name__ if first["type"] != "missing" else None
    message = first["msg"] + (f" (got {kind})" if kind and first["type"].endswith("_type") else "")
    return LineError(number, message, field=where, text=text)


def parse_line(number: int, raw: bytes | None) -> Utterance | LineError | None:
    """One batch line -> what to ask, why not, or None for a blank line."""
    if raw is None:
        return LineError(number, f"line is longer than {BATCH_LINE_BYTES} bytes")
    try:
        line = raw.decode("utf-8").strip()
    except UnicodeDecodeError:
        return LineError(number, "line is not UTF-8 text")
    if not line:
        return None
    if not line.startswith("{"):
        if len(line) > TEXT_CHARS:
            return LineError(number, f"text is longer than {TEXT_CHARS} characters", field="text")
        return Utterance(number, line, None)
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        return LineError(number, f"not valid JSON: {exc}")
    if not isinstance(obj, dict):
        return LineError(number, "a JSON line must be an object with 'text'")
    text = obj.get("text") if isinstance(obj.get("text"), str) else None
    try:
        parsed = BatchLine.model_validate(obj)
    except ValidationError as exc:
        return _field_error(number, exc, text)
    return Utterance(number, parsed.text, parsed.area)


def batch_lines(source: str) -> Iterator[Utterance | LineError]:
    """The lines of FILE (or stdin for ``-``), parsed one by one."""
    if source == "-":
        stream: BinaryIO = sys.stdin.buffer
    else:
        try:
            stream = open(source, "rb")  # noqa: SIM115 - closed by the generator's end
        except OSError as exc:
            raise HearthError(f"cannot read batch file {source}: {exc.strerror}",
                              code="bad_input") from None
    with stream:
        for number, raw in _raw_lines(stream):
            item = parse_line(number, raw)
            if item is not None:
                yield item
