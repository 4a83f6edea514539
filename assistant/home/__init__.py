"""Home backends behind one interface: the embedded demo home, MQTT, Home Assistant."""

from assistant.home.base import Area, Entity, EntityState, HomeBackend
from assistant.home.factory import open_home

__all__ = ["Area", "Entity", "EntityState", "HomeBackend", "open_home"]
