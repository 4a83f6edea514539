"""What the HTTP and Wyoming front ends share: one object, built once by the daemon."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from assistant.config import Settings
from assistant.events import Event, to_dict
from assistant.server.brain import Brain, SharedPipeline
from assistant.server.hub import EventHub
from assistant.server.metrics import Metrics
from assistant.server.records import SatelliteStatus
from assistant.server.state import ServerState
from assistant.server.turns import TurnTracker


@dataclass
class ServerContext:
    settings: Settings
    brain: Brain
    hub: EventHub
    tracker: TurnTracker
    metrics: Metrics
    state: ServerState
    started: float = field(default_factory=time.time)
    stopping: bool = False
    satellites_status: Callable[[], list[SatelliteStatus]] = list
    """Configured satellites, whether each is connected, its backlog (set by the daemon)."""
    microphone_running: Callable[[], bool] = lambda: False
    api_area: str | None = None
    """The area of the text turn in progress (set under the API room's lock)."""
    _api_pipeline: SharedPipeline | None = None

    @classmethod
    def build(cls, settings: Settings, brain: Brain) -> ServerContext:
        hub = EventHub(settings.server.event_buffer)
        tracker = TurnTracker(hub)
        metrics = Metrics(hub)
        state_file = settings.server.state_file or settings.data_dir / "server.json"
        state = ServerState(state_file, getattr(getattr(settings, "privacy", None), "mode",
                                                "local_only"))
        tracker.source_speaks("api", False)
        brain.stt.on_call = metrics.on_stt_call
        skills = getattr(brain.runtime, "skills", None)
        if skills is not None:  # the skills' own events (a skill ran, failed...) reach the hub
            skills.emit = hub.emitter("skills", None)
        brain.set_privacy_mode(state.privacy_mode)  # a mode switched before a restart stays
        return cls(settings=settings, brain=brain, hub=hub, tracker=tracker, metrics=metrics,
                   state=state)

    @property
    def api_pipeline(self) -> SharedPipeline:
        """Text turns from ``POST /api/ask`` (source ``api``, the device's area by default)."""
        if self._api_pipeline is None:
            self._api_pipeline = self.brain.pipeline_for(None, self._api_emit)
        return self._api_pipeline

    def _api_emit(self, event: Event) -> None:
        self.hub.publish({"source": "api", "area": self.api_area, **to_dict(event)}, event=event)
