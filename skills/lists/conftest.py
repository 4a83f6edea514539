"""Lets ``pytest skills/lists`` import the package without installing it."""
