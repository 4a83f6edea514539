"""End-of-speech detection: a VAD scores frames; the endpointer decides when a turn ends."""
