"""Prometheus metrics, fed by the same events as everything else.

A registry per server (not prometheus_client's global one), so tests can run several
servers in one process and every counter starts at zero.
"""

from __future__ import annotations

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from assistant.server.hub import EventHub, Record
from assistant.server.turns import STAGES

BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0)
CONTENT_TYPE = CONTENT_TYPE_LATEST


class Metrics:
    def __init__(self, hub: EventHub) -> None:
        disable_created_metrics()  # type: ignore[no-untyped-call]  # *_created series double the output and say nothing here
        self.registry = CollectorRegistry()
        r = self.registry
        self.stage_latency = Histogram(
            "hearth_stage_latency_seconds", "Latency of each stage of a turn", ["stage"],
            buckets=BUCKETS_S, registry=r)
        self.wakes = Counter("hearth_wake_detections", "Wake words detected",
                             ["source", "wake_word"], registry=r)
        self.turns = Counter("hearth_turns", "Turns answered, by the path that handled them",
                             ["path", "source"], registry=r)
        self.escalations = Counter("hearth_escalations", "Requests that left the device",
                                   ["rule"], registry=r)
        self.errors = Counter("hearth_errors", "Stage failures", ["stage", "code"], registry=r)
        self.satellites = Gauge("hearth_satellites_connected", "Satellites connected now",
                                registry=r)
        self.refusals = Counter("hearth_wyoming_refusals", "Wyoming connections refused",
                                ["reason"], registry=r)
        self.backlog = Gauge("hearth_satellite_backlog_seconds",
                             "Audio received from a satellite but not yet processed",
                             ["satellite"], registry=r)
        self.events = Counter("hearth_events", "Pipeline events published", ["type"], registry=r)
        self.stt_wait = Histogram("hearth_stt_wait_seconds",
                                  "Time a transcription queued for the shared Whisper model",
                                  buckets=BUCKETS_S, registry=r)
        self.stt_run = Histogram("hearth_stt_run_seconds", "Time Whisper took per transcription",
                                 buckets=BUCKETS_S, registry=r)
        for stage in STAGES:
            self.stage_latency.labels(stage)
        hub.add_listener(self.on_record)

    def on_record(self, rec: Record) -> None:
        kind = rec.type
        self.events.labels(kind).inc()
        if kind == "wake":
            self.wakes.labels(str(rec.source), str(rec.get("wake_word"))).inc()
        elif kind == "reply":
            self.turns.labels(str(rec.get("handled_by")), str(rec.source)).inc()
        elif kind == "escalated":
            self.escalations.labels(str(rec.get("rule"))).inc()
        elif kind == "error":
            self.errors.labels(str(rec.get("stage")), str(rec.get("code"))).inc()
        elif kind == "turn":  # the turn record's stages: its stage events' durations
            for stage, ms in (rec.get("stages_ms") or {}).items():
                if ms >= 0:
                    self.stage_latency.labels(stage).observe(ms / 1000.0)

    def on_stt_call(self, wait_s: float, run_s: float) -> None:
        self.stt_wait.observe(wait_s)
        self.stt_run.observe(run_s)

    def render(self) -> bytes:
        return generate_latest(self.registry)
