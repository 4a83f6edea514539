"""The composition root: build the stages the settings describe, and nothing else."""

from __future__ import annotations

from types import TracebackType

from assistant.config import Settings
from assistant.events import EventSink, discard
from assistant.home import open_home
from assistant.pipeline import Pipeline, TurnResult
from assistant.understand.router import Understander


class TextAssistant:
    """Home + understanding + action: everything a text turn needs (no audio models)."""

    def __init__(self, settings: Settings, *, emit: EventSink = discard) -> None:
        self.settings = settings
        self.home = open_home(settings)
        try:
            self.understander = Understander(self.home)
            device_area = self.home.area(settings.device_area).id
        except BaseException:
            self.home.close()
            raise
        self.pipeline = Pipeline(self.home, self.understander, device_area=device_area, emit=emit)

    def ask(self, text: str, *, area: str | None = None, dry_run: bool = False) -> TurnResult:
        return self.pipeline.handle_text(text, area=area, dry_run=dry_run)

    def close(self) -> None:
        self.home.close()

    def __enter__(self) -> TextAssistant:
        return self

    def __exit__(self, et: type[BaseException] | None, e: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
