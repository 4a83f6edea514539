"""Lets ``pytest skills/timers`` import the package without installing it."""
