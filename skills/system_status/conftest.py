"""Lets ``pytest skills/system_status`` import the package without installing it."""
