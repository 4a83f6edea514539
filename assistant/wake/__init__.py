"""Wake word detection: openWakeWord (and any engine behind the same interface)."""

from assistant.wake.base import WakeDetector, WakeHit

__all__ = ["WakeDetector", "WakeHit"]
