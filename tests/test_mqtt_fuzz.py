"""MQTT payload fuzzing against a real mosquitto (issue 17): whatever a broken or hostile
device publishes — random bytes, JSON of the wrong shape, deep nesting, huge numbers,
oversized messages — the home keeps its entities and states and still acts.
"""

from __future__ import annotations

import json
import logging
import os
import random
import shutil
import time
from collections.abc import Iterator

import pytest

from assistant.home.mqtt import MqttHome
from assistant.home.settings import MqttSettings
from assistant.limits import MQTT_PAYLOAD_BYTES
from tests.mqtt_broker import MOSQUITTO, Broker
from tests.mqtt_fleet import Fleet

pytestmark = pytest.mark.skipif(
    shutil.which("mosquitto") is None and not os.path.exists(MOSQUITTO),
    reason="mosquitto is not installed (Debian: apt-get install mosquitto); "
    "these tests need a real MQTT broker",
)


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Broker, Fleet]]:
    broker = Broker(tmp_path_factory.mktemp("mosquitto-fuzz")).start()
    f = Fleet("127.0.0.1", broker.port, username=broker.username, password=broker.password,
              client_id="hearth-fuzz-fleet").start()
    yield broker, f
    f.stop()
    broker.stop()


def _payloads(rng: random.Random) -> Iterator[bytes]:
    """What a broken device might send: a fixed list of nasty shapes, then random ones."""
    nasty: list[object] = [None, True, 0, -1, 1e308, 10 ** 400, float("nan"), "", "ON", [],
                           {}, [1, 2], {"state": None}, {"state": ["ON"]}, {"brightness": -5},
                           {"brightness": 10 ** 30}, {"color": "red"}, {"color": {"r": "x"}},
                           {"position": {"a": 1}}, {"temperature": "hot"}, {"state": "ON" * 999}]
    for value in nasty:
        yield json.dumps(value).encode()
    yield b"[" * 30_000 + b"]" * 30_000  # deeper than the JSON parser recurses, within the limit
    yield b"{" * 50
    yield b"\xff\xfe\x00\x01"
    yield b"x" * (MQTT_PAYLOAD_BYTES + 1)
    for _ in range(150):
        n = rng.choice((1, 8, 64, 1024))
        kind = rng.random()
        if kind < 0.4:
            yield bytes(rng.getrandbits(8) for _ in range(n))
        elif kind < 0.7:
            yield json.dumps({rng.choice(("state", "brightness", "color", "position", "mode",
                                          "temperature", "speed", "value")):
                              rng.choice((None, "ON", "OFF", 1, -1.5, [], {}, "x" * n))}).encode()
        else:
            yield rng.choice((b"ON", b"OFF", b"online", b"offline", b"open", b"50", b"-1",
                              b"nan", b"inf", b"1e999"))


def test_fuzzed_payloads_change_nothing_and_the_home_still_acts(
        fleet: tuple[Broker, Fleet], caplog: pytest.LogCaptureFixture) -> None:
    broker, devices = fleet
    caplog.set_level(logging.WARNING, logger="assistant.home.mqtt")
    home = MqttHome(MqttSettings(url=broker.url, reconnect_min_s=0.05, reconnect_max_s=0.5,
                                 connect_timeout_s=5))
    try:
        entities = {e.entity_id for e in home.entities()}
        before = {e: home.get_state(e) for e in entities}
        state_topics = sorted({t for d in devices.devices.values() for t, _ in d.report(d)})
        config_topics = [f"homeassistant/{c}/fuzz_{c}/config" for c in
                         ("light", "switch", "sensor", "cover", "climate", "fan", "lock")]
        rng = random.Random(17)
        sent = 0
        for payload in _payloads(rng):
            for topic in (rng.choice(state_topics), rng.choice(config_topics)):
                devices.client.publish(topic, payload, qos=1).wait_for_publish(5)
                sent += 1
        assert sent > 300
        # the network thread is alive: a real command still goes out and comes back
        assert home.call_service("switch.turn_on", "switch.coffee_maker", {}).state == "on"
        time.sleep(0.5)
        assert {e.entity_id for e in home.entities()} <= entities | {
            f"{c}.fuzz_{c}" for c in ("light", "switch", "sensor", "cover", "climate", "fan")}
        for entity_id, st in before.items():
            now = home.get_state(entity_id)
            assert isinstance(now.state, str) and len(now.state) < 1000, entity_id
            json.dumps(dict(now.attributes))  # still plain data
            assert now.available in (True, False) and st is not None
        assert any("limit is" in r.message for r in caplog.records)  # the oversized one
        assert not [r.message for r in caplog.records if "unexpected" in r.message]
    finally:
        for topic in ("light", "switch", "sensor", "cover", "climate", "fan", "lock"):
            devices.client.publish(f"homeassistant/{topic}/fuzz_{topic}/config", b"", qos=1,
                                   retain=True).wait_for_publish(5)
        home.close()
