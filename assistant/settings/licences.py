"""The ``[licences]`` section: one switch for a set-up free of non-commercial terms."""

from __future__ import annotations

from assistant.settings.base import Frozen


class LicenceSettings(Frozen):
    commercial_use: bool = False
    """True: use only models whose terms allow commercial use. openWakeWord's pre-trained
    wake models are CC BY-NC-SA 4.0 (non-commercial), so the wake engine becomes
    microWakeWord (Apache-2.0) and openWakeWord runs only with a model file of your own.
    ``hearth models`` shows every model's and engine's licence."""
