"""Hearth: a private, hybrid edge-cloud voice assistant for smart homes."""

__version__ = "0.1.0"
