"""Lets ``pytest skills/coffee`` import the package without installing it."""
