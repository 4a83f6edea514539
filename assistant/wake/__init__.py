"""Wake word detection: openWakeWord or microWakeWord behind one interface, and a Whisper second stage."""

from assistant.wake.base import WakeDetector, WakeHit

__all__ = ["WakeDetector", "WakeHit"]
