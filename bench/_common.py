"""Shared helpers for the benchmark scripts: where the eval data is, progress, tables, JSON.

Benchmarks print progress to stderr and a table (or, with ``--json``, one JSON
object) to stdout, so their output can be piped and diffed.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:  # run as `python bench/x.py` from anywhere
    sys.path.insert(0, str(REPO_ROOT))


def eval_data_dir() -> Path:
    """``$HEARTH_EVAL_DATA`` or ``../shared/eval-data`` next to the repo; exits if missing."""
    env = os.environ.get("HEARTH_EVAL_DATA")
    path = Path(env).expanduser() if env else REPO_ROOT.parent / "shared" / "eval-data"
    if not path.is_dir():
        sys.stderr.write(f"bench: eval data not found at {path} (set HEARTH_EVAL_DATA)\n")
        raise SystemExit(2)
    return path


class Progress:
    """``[  40/220] label`` on stderr, at most every ``every_s`` seconds (and at the end)."""

    def __init__(self, total: int, label: str, *, quiet: bool = False, every_s: float = 1.0) -> None:
        self.total, self.label, self.quiet, self.every_s = total, label, quiet, every_s
        self.done = 0
        self._last = 0.0
        self._start = time.monotonic()

    def step(self, n: int = 1) -> None:
        self.done += n
        now = time.monotonic()
        if self.quiet or (now - self._last < self.every_s and self.done < self.total):
            return
        self._last = now
        rate = self.done / max(now - self._start, 1e-9)
        sys.stderr.write(f"\r[{self.done:>5}/{self.total}] {self.label} ({rate:.1f}/s)   ")
        if self.done >= self.total:
            sys.stderr.write("\n")
        sys.stderr.flush()


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A plain-text table with right-aligned numbers."""
    cells = [[_fmt(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h)
              for i, h in enumerate(headers)]
    out = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)),
           "  ".join("-" * w for w in widths)]
    for row in cells:
        out.append("  ".join(c.rjust(w) if _numeric(c) else c.ljust(w)
                             for c, w in zip(row, widths, strict=True)))
    return "\n".join(out)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


def _numeric(text: str) -> bool:
    return text.replace(".", "", 1).replace("%", "").replace("-", "", 1).isdigit()


def pct(part: int, whole: int) -> float:
    return 100.0 * part / whole if whole else 0.0


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100), linear interpolation; 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100.0
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return float(ordered[low] + (ordered[high] - ordered[low]) * (pos - low))


def dump_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, indent=2, ensure_ascii=False, default=str) + "\n")
