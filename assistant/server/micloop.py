"""The server's own microphone (``server.microphone = true``): the voice loop on a thread.

Same shape as a satellite: its own wake detector and VAD, the shared models, events
tagged ``mic`` in the device's area. The microphone is opened at start, so a missing
device or PortAudio fails ``hearth serve`` with one line instead of later.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator

from assistant.audio.chunk import AudioChunk, Samples
from assistant.audio.sinks import AudioSink, NullSink
from assistant.server.context import ServerContext
from assistant.server.streams import StopGate

log = logging.getLogger(__name__)

SOURCE = "mic"


class MicrophoneLoop:
    def __init__(self, ctx: ServerContext, gate: StopGate,
                 chunks: Iterator[AudioChunk] | None = None) -> None:
        from assistant.audio import sources

        self.ctx = ctx
        self.gate = gate
        s = ctx.settings
        self._chunks = chunks if chunks is not None else sources.microphone_source(
            s.audio.input_device, block_ms=s.audio.block_ms)
        sink: AudioSink = NullSink()
        if s.server.speaker:
            from assistant.audio.sinks import SpeakerSink

            sink = SpeakerSink(s.audio.output_device)
        self.sink = sink
        brain = ctx.brain
        area = brain.device_area
        self.name = SOURCE
        self.area = area
        emit = ctx.hub.emitter(SOURCE, area)
        ctx.tracker.source_speaks(SOURCE, s.server.speaker)
        pipeline = brain.pipeline_for(area, emit)
        self.loop = brain.new_loop(pipeline, vad=brain.new_vad(), wake=brain.new_wake([s.wake.default]),
                                   speaks=s.server.speaker, sink=sink, emit=emit, area=area)
        self._thread = threading.Thread(target=self._run, name="microphone", daemon=True)

    def start(self) -> None:
        self._thread.start()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def _gated(self) -> Iterator[AudioChunk]:
        for chunk in self._chunks:
            if self.gate.should_end(self.ctx.tracker.in_turn(SOURCE)):
                return
            yield chunk

    def _run(self) -> None:
        try:
            self.loop.run(self._gated(), wake_required=True)
        except Exception:  # logged; the API and satellites keep running
            log.exception("the microphone loop failed")

    def announce(self, text: str, parts: list[Samples], rate: int) -> bool:
        """Say an announcement on the server's speaker (if it has one)."""
        if not self.ctx.settings.server.speaker:
            return False
        for samples in parts:
            self.sink.play(samples, rate)
        self.sink.finish()
        return True

    def join(self, timeout: float) -> bool:
        self._thread.join(timeout)
        return not self._thread.is_alive()
