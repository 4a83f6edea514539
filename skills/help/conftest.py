"""Lets ``pytest skills/help`` import the package without installing it."""
