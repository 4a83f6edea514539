"""Speech-to-text on the device: faster-whisper."""
