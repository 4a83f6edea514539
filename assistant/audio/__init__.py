"""Audio in and out: 16 kHz mono int16 chunks of 80 ms, from files, stdin or a microphone."""

from assistant.audio.chunk import CHUNK_SAMPLES, SAMPLE_RATE, AudioChunk

__all__ = ["CHUNK_SAMPLES", "SAMPLE_RATE", "AudioChunk"]
