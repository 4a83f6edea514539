"""Text-to-speech on the device: Piper."""
