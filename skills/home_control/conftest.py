"""Lets ``pytest skills/home_control`` import the package without installing it."""
