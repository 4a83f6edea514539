"""The server's event spine: every source's events, tagged and fanned out.

Voice loops publish from their own threads; listeners (metrics, the turn tracker, the
log) run inline in the publisher's thread; SSE subscribers each get a bounded asyncio
queue on the server's loop, so a slow browser drops events instead of growing memory.
What they all receive is a :class:`Record`: frozen, typed where it is read (``type``,
``source``, ``area``, the :class:`~assistant.events.Event` when there is one), and the
same JSON the SSE stream and ``/api/turns`` have always sent.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from assistant.events import Event, to_dict

_HEAD = ("seq", "ts", "source", "area", "type")


@dataclass(frozen=True)
class Record(Mapping[str, Any]):
    """One published record. ``fields``: the rest of its JSON (an event's own fields).
    Reads like the JSON it is sent as (``record["text"]``), so a script's view and the
    listeners' agree."""

    seq: int
    ts: float
    type: str
    source: str | None
    area: str | None
    fields: Mapping[str, Any] = field(default_factory=dict)
    event: Event | None = field(default=None, compare=False)
    """The typed event it was made from (None: published as JSON by a front end)."""

    def as_json(self) -> dict[str, Any]:
        return {"seq": self.seq, "ts": self.ts, "source": self.source, "area": self.area,
                "type": self.type, **self.fields}

    def __getitem__(self, key: str) -> Any:
        return getattr(self, key) if key in _HEAD else self.fields[key]

    def __iter__(self) -> Iterator[str]:
        return iter((*_HEAD, *self.fields))

    def __len__(self) -> int:
        return len(_HEAD) + len(self.fields)


Listener = Callable[[Record], None]

SUBSCRIBER_QUEUE = 1000


@dataclass(eq=False)
class Subscription:
    """One SSE client. ``None`` in the queue means the hub closed: end the stream."""

    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue[Record | None] = field(
        default_factory=lambda: asyncio.Queue(maxsize=SUBSCRIBER_QUEUE))
    dropped: int = 0

    def offer(self, item: Record | None) -> None:
        """Runs on the subscriber's loop."""
        if item is None:
            while self.queue.full():  # make room for the end marker
                self.queue.get_nowait()
            self.queue.put_nowait(None)
            return
        try:
            self.queue.put_nowait(item)
        except asyncio.QueueFull:
            self.dropped += 1


class EventHub:
    def __init__(self, buffer: int = 500) -> None:
        self._lock = threading.Lock()
        self._recent: collections.deque[Record] = collections.deque(maxlen=buffer)
        self._seq = 0
        self._subs: set[Subscription] = set()
        self._listeners: list[Listener] = []
        self._closed = False

    def add_listener(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def emitter(self, source: str, area: str | None) -> Callable[[Event], None]:
        """An :data:`~assistant.events.EventSink` that tags events with where they came from."""

        def emit(event: Event) -> None:
            self.publish({"source": source, "area": area, **to_dict(event)}, event=event)

        return emit

    def publish(self, data: Mapping[str, Any], *, event: Event | None = None) -> Record:
        """Stamp ``data`` (a JSON object with a ``type``: seq, wall-clock ts) and deliver
        the record everywhere."""
        fields = {k: v for k, v in data.items() if k not in _HEAD}
        with self._lock:
            self._seq += 1
            record = Record(self._seq, round(time.time() * 1000.0, 1), str(data.get("type")),
                            data.get("source"), data.get("area"), MappingProxyType(fields),
                            event)
            self._recent.append(record)
            subs = list(self._subs)
        for sub in subs:
            try:
                sub.loop.call_soon_threadsafe(sub.offer, record)
            except RuntimeError:  # the subscriber's loop is closed
                self.unsubscribe(sub)
        # listeners last: what they publish in turn (a turn record) follows this record
        for listener in self._listeners:
            listener(record)
        return record

    def recent(self, limit: int | None = None, *, types: set[str] | None = None) -> list[Record]:
        with self._lock:
            items = [r for r in self._recent if types is None or r.type in types]
        return items[-limit:] if limit else items

    def subscribe(self, replay: int = 0) -> Subscription:
        """A new SSE client on the running loop, primed with the last ``replay`` events."""
        sub = Subscription(asyncio.get_running_loop())
        with self._lock:
            backlog: list[Record | None] = []
            if replay > 0:
                backlog.extend(list(self._recent)[-replay:])
            if self._closed:
                backlog.append(None)
            else:
                self._subs.add(sub)
        for item in backlog:
            sub.offer(item)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        with self._lock:
            self._subs.discard(sub)

    @property
    def subscribers(self) -> int:
        with self._lock:
            return len(self._subs)

    def close(self) -> None:
        """Shutting down: end every SSE stream so the HTTP server can stop."""
        with self._lock:
            self._closed = True
            subs = list(self._subs)
            self._subs.clear()
        for sub in subs:
            with contextlib.suppress(RuntimeError):
                sub.loop.call_soon_threadsafe(sub.offer, None)
