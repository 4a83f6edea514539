"""The MQTT tests' fixtures (a pytest plugin, named in tests/conftest.py): a real
mosquitto and the simulated fleet on it, started once per test module, so a module that
restarts its broker never disturbs another; MQTT homes on it, closed after each test."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from assistant.home.mqtt import MqttHome
from assistant.home.settings import MqttSettings
from tests.mqtt_broker import MOSQUITTO, Broker
from tests.mqtt_fleet import Fleet
from tests.waits import eventually

needs_mosquitto = pytest.mark.skipif(
    shutil.which("mosquitto") is None and not os.path.exists(MOSQUITTO),
    reason="mosquitto is not installed (Debian: apt-get install mosquitto); "
    "these tests need a real MQTT broker",
)


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    b = Broker(tmp_path_factory.mktemp("mosquitto")).start()
    yield b
    b.stop()


@pytest.fixture(scope="module")
def fleet(broker: Broker) -> Iterator[Fleet]:
    f = Fleet("127.0.0.1", broker.port, username=broker.username, password=broker.password).start()
    yield f
    f.stop()


@pytest.fixture()
def make_home(broker: Broker, fleet: Fleet) -> Iterator[Callable[..., MqttHome]]:
    homes: list[MqttHome] = []

    def make(**overrides: Any) -> MqttHome:
        settings = MqttSettings(
            url=broker.url,
            reconnect_min_s=0.05,
            reconnect_max_s=0.5,
            connect_timeout_s=5,
            **overrides,
        )
        eventually(fleet.connected.is_set, 10, "the fleet to be connected")
        home = MqttHome(settings)
        homes.append(home)
        return home

    yield make
    for h in homes:
        h.close()


@pytest.fixture()
def home(make_home: Callable[..., MqttHome]) -> MqttHome:
    return make_home()


def last_commands(fleet: Fleet, device: str, n: int) -> list[tuple[str, str]]:
    return fleet.commands_for(device)[-n:]


def expect_commands(fleet: Fleet, device: str, expected: list[tuple[str, str]]) -> None:
    """The device's last commands, once they have travelled broker -> device."""
    try:
        eventually(lambda: last_commands(fleet, device, len(expected)) == expected, 2)
    except AssertionError:
        assert last_commands(fleet, device, len(expected)) == expected
