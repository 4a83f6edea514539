"""The MQTT backend when the broker goes away and comes back: nothing lost, nothing
sent late, a bounded queue; and ``hearth ask`` over MQTT, end to end, with one clear
line for a broker it cannot reach or that refuses it.

The broker is this module's own (tests/mqtt_fixtures.py): restarting it disturbs no
other module's tests.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from assistant.errors import HomeError
from assistant.home.mqtt import MqttHome
from tests.conftest import run_hearth
from tests.mqtt_broker import Broker
from tests.mqtt_fixtures import needs_mosquitto
from tests.mqtt_fleet import Fleet
from tests.waits import eventually

pytestmark = needs_mosquitto


# --- reliability -------------------------------------------------------------------


def test_broker_restart_mid_sequence_loses_nothing(
    make_home: Callable[..., MqttHome], broker: Broker, fleet: Fleet
) -> None:
    home = make_home(command_timeout_s=15, confirm_timeout_s=0.2)
    start = len(fleet.commands_for("kitchen_light"))
    levels = list(range(1, 31))
    done: list[int] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            for level in levels:
                home.call_service("light.turn_on", "light.kitchen_light", {"brightness_pct": level})
                done.append(level)
        except BaseException as exc:  # reported below
            errors.append(exc)

    worker = threading.Thread(target=run)
    worker.start()
    eventually(lambda: len(done) >= 10, 10, "the first commands")
    broker.restart(down_s=0.3)
    worker.join(30)
    assert not errors, errors
    assert done == levels
    sent = [
        p for t, p in fleet.commands_for("kitchen_light")[start:] if t.endswith("/brightness/set")
    ]
    # QoS 1 is at-least-once: a message in flight when the broker died may arrive twice.
    deduped = [p for i, p in enumerate(sent) if i == 0 or p != sent[i - 1]]
    assert deduped == [str(v) for v in levels]
    eventually(lambda: home.get_state("light.kitchen_light").attributes.get("brightness_pct") == 30)


def test_state_resynced_after_reconnect(home: MqttHome, broker: Broker, fleet: Fleet) -> None:
    device = fleet.devices["blinds"]
    broker.stop()
    eventually(lambda: not home.connected, 5, "the backend to notice")
    device.state["position"] = 73  # moved by hand while the broker was away
    broker.start()
    eventually(lambda: home.connected, 10, "the backend to reconnect")
    eventually(
        lambda: home.get_state("cover.blinds").attributes.get("current_position") == 73,
        10,
        "the new position",
    )


def test_undelivered_command_fails_clearly_and_is_never_sent_late(
    make_home: Callable[..., MqttHome], broker: Broker, fleet: Fleet
) -> None:
    home = make_home(command_timeout_s=0.5)
    before = len(fleet.commands_for("coffee_maker"))
    broker.stop()
    try:
        eventually(lambda: not home.connected, 5, "the backend to notice")
        t0 = time.monotonic()
        with pytest.raises(HomeError) as err:
            home.call_service("switch.toggle", "switch.coffee_maker", {})
        assert err.value.code == "not_delivered"
        assert "could not be delivered within 0.5 seconds" in str(err.value)
        assert "unreachable" in str(err.value)
        assert time.monotonic() - t0 < 2
    finally:
        broker.start()
    eventually(lambda: home.connected and fleet.connected.is_set(), 10, "everyone to reconnect")
    time.sleep(0.3)
    assert len(fleet.commands_for("coffee_maker")) == before


def test_queue_is_bounded(make_home: Callable[..., MqttHome], broker: Broker) -> None:
    home = make_home(queue_size=2, command_timeout_s=3)
    broker.stop()
    try:
        eventually(lambda: not home.connected, 5, "the backend to notice")
        first: list[BaseException] = []
        worker = threading.Thread(
            target=lambda: _capture(
                first,
                lambda: home.call_service(
                    "light.turn_on", "light.kitchen_light", {"brightness_pct": 20}
                ),
            )
        )
        worker.start()
        eventually(lambda: home._outbox.pending() == 2, 2, "two queued messages")
        with pytest.raises(HomeError) as err:
            home.call_service("switch.turn_on", "switch.coffee_maker", {})
        assert err.value.code == "queue_full"
    finally:
        broker.start()
    worker.join(10)
    assert not first, first  # the queued one was delivered once the broker came back


def _capture(errors: list[BaseException], fn: Callable[[], object]) -> None:
    try:
        fn()
    except BaseException as exc:
        errors.append(exc)


# --- hearth ask, end to end ----------------------------------------------------------


def test_hearth_ask_controls_discovered_entities(
    broker: Broker, fleet: Fleet, tmp_path: Path
) -> None:
    fleet.set_online("porch_light", True)
    before = len(fleet.commands_for("kitchen_light"))
    batch = tmp_path / "turns.txt"
    batch.write_text(
        "turn on the kitchen light\nset the kitchen light to 30%\nturn on the porch light\n"
    )
    fleet.set_online("porch_light", False)
    try:
        proc = run_hearth(
            "ask",
            "--batch",
            str(batch),
            "--json",
            env={"HEARTH_MQTT_URL": broker.url, "HEARTH_DATA_DIR": str(tmp_path)},
            timeout=120,
        )
    finally:
        fleet.set_online("porch_light", True)
    assert proc.returncode == 0, proc.stderr.decode()
    turns = [json.loads(line) for line in proc.stdout.decode().splitlines()]
    assert turns[0]["handled_by"] == "local"
    assert turns[0]["actions"] == [
        {"service": "light.turn_on", "entity_id": "light.kitchen_light", "data": {}}
    ]
    assert turns[1]["actions"][0]["data"] == {"brightness_pct": 30}
    assert turns[2]["reply"] == "Sorry, the Porch Light is unavailable right now."
    assert fleet.commands_for("kitchen_light")[before:] == [
        ("fleet/kitchen_light/set", "ON"),
        ("fleet/kitchen_light/brightness/set", "30"),
        ("fleet/kitchen_light/set", "ON"),
    ]


def test_unreachable_broker_is_one_clear_line(tmp_path: Path) -> None:
    from tests.ports import free_port

    config = tmp_path / "hearth.toml"
    config.write_text(
        f'[home]\nbackend = "mqtt"\n[home.mqtt]\nurl = "mqtt://127.0.0.1:{free_port()}"\n'
        "connect_timeout_s = 0.5\n"
    )
    proc = run_hearth("ask", "turn on the kitchen light", "--config", str(config), timeout=60)
    assert proc.returncode == 2
    err = proc.stderr.decode().strip()
    assert err.startswith("hearth: cannot reach the MQTT broker at 127.0.0.1:"), err
    assert len(err.splitlines()) == 1


def test_wrong_password_is_one_clear_line(broker: Broker, tmp_path: Path) -> None:
    url = f"mqtt://{broker.username}:wrong@127.0.0.1:{broker.port}"
    proc = run_hearth("ask", "turn on the kitchen light", env={"HEARTH_MQTT_URL": url}, timeout=60)
    assert proc.returncode == 2
    err = proc.stderr.decode().strip()
    assert "refused the connection" in err and len(err.splitlines()) == 1, err
