"""Lets ``pytest skills/time_date`` import the package without installing it."""
