"""Structured logs: one JSON object per line on stderr (journald keeps them as they are).

Fields passed with ``extra={"fields": {...}}`` are merged into the object, so a log
line can carry an event, a satellite name or a latency without string formatting.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any, Literal

_STD = set(vars(logging.makeLogRecord({})))


class JsonFormatter(logging.Formatter):
    """``{"ts": ..., "level": ..., "logger": ..., "msg": ..., **fields}``."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            for key, value in fields.items():  # never shadow the line's own ts/level/msg
                out[key if key not in out else f"{key}_"] = value
        for key, value in vars(record).items():
            if key not in _STD and key not in ("fields", "color_message", "message"):
                out.setdefault(key, value)
        if record.exc_info and record.exc_info[0] is not None:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict) and fields:
            line += " " + " ".join(f"{k}={json.dumps(v, default=str)}" for k, v in fields.items())
        return line


def setup_logging(fmt: Literal["json", "text"], *, verbose: bool = False) -> None:
    """Replace the CLI's plain stderr logging with the server's format (uvicorn's too)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        lg = logging.getLogger(name)
        lg.handlers = []
        lg.propagate = True
    logging.getLogger("uvicorn.access").setLevel(logging.INFO if verbose else logging.WARNING)
    # one line per transcription is noise in a daemon's log
    logging.getLogger("faster_whisper").setLevel(logging.INFO if verbose else logging.WARNING)


def flush_logs() -> None:
    for handler in logging.getLogger().handlers:
        handler.flush()
