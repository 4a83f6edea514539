"""A small simulated device fleet that speaks Home Assistant MQTT discovery.

Each device (:mod:`tests.mqtt_devices`) announces itself with a retained discovery
message, reports its state retained on its state topics, and answers commands on its
command topics the way the real firmware would. The fleet keeps a persistent session
(clean_session off, QoS 1), so a broker with persistence holds commands for it across a
restart. On every (re)connect it announces everything again, as zigbee2mqtt does.

Run it by hand against a broker to try `hearth ask` on a "real" home:
    python -m tests.mqtt_fleet mqtt://user:pass@127.0.0.1:1883
"""

from __future__ import annotations

import json
import socket
import sys
import threading
import time
from typing import Any
from urllib.parse import urlsplit

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from tests.mqtt_devices import Device, build_devices


class Fleet:
    """The devices on one broker connection; records every command in arrival order."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        username: str | None = None,
        password: str | None = None,
        prefix: str = "homeassistant",
        client_id: str = "hearth-test-fleet",
    ) -> None:
        self.prefix = prefix
        self.devices = {d.name: d for d in build_devices(prefix)}
        self.received: list[tuple[str, str]] = []
        self.received_at: list[float] = []
        self.lock = threading.Lock()
        self.connected = threading.Event()
        self._routes = {t: d for d in self.devices.values() for t in d.command_topics()}
        self.client = paho.Client(
            CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False
        )
        if username:
            self.client.username_pw_set(username, password)
        self.client.reconnect_delay_set(0.1, 0.5)  # type: ignore[arg-type]
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = lambda *a: self.connected.clear()
        self.client.on_message = self._on_message
        self.client.connect_async(host, port, keepalive=10)

    def start(self, timeout: float = 10) -> Fleet:
        self.client.loop_start()
        if not self.connected.wait(timeout):
            raise RuntimeError("the fleet could not connect to the broker")
        return self

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def discovery_topic(self, d: Device) -> str:
        node = f"{d.node}/" if d.node else ""
        return f"{self.prefix}/{d.component}/{node}{d.name}/config"

    def _on_connect(
        self, client: paho.Client, userdata: Any, flags: Any, reason: Any, properties: Any
    ) -> None:
        if reason.is_failure:
            return
        # Like zigbee2mqtt (mqtt.js sets noDelay): answer at once, not after Nagle's wait.
        sock = client.socket()
        if isinstance(sock, socket.socket):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        client.subscribe([(t, 1) for t in self._routes])
        client.publish(
            "zigbee2mqtt/bridge/state", json.dumps({"state": "online"}), qos=1, retain=True
        )
        for d in self.devices.values():
            client.publish(self.discovery_topic(d), json.dumps(d.config), qos=1, retain=True)
            if d.status_topic:
                self._publish_status(d)
            self.publish_state(d)
        self.connected.set()

    def _publish_status(self, d: Device) -> None:
        if d.name == "porch_light":
            payload = "yes" if d.online else "no"
        else:
            payload = "online" if d.online else "offline"
        assert d.status_topic
        self.client.publish(d.status_topic, payload, qos=1, retain=True)

    def publish_state(self, d: Device) -> None:
        for topic, payload in d.report(d):
            self.client.publish(topic, payload, qos=1, retain=True)

    def _on_message(self, client: paho.Client, userdata: Any, msg: paho.MQTTMessage) -> None:
        device = self._routes.get(msg.topic)
        if device is None:
            return
        payload = msg.payload.decode()
        with self.lock:
            self.received.append((msg.topic, payload))
            self.received_at.append(time.monotonic())
            device.commands.append((msg.topic, payload))
        try:
            device.handle(device, msg.topic, payload)
        except (ValueError, KeyError) as exc:
            print(f"fleet: {device.name} ignored {payload!r}: {exc}", file=sys.stderr)
            return
        self.publish_state(device)

    def set_online(self, name: str, online: bool) -> None:
        d = self.devices[name]
        d.online = online
        self._publish_status(d)

    def commands_for(self, name: str) -> list[tuple[str, str]]:
        with self.lock:
            return list(self.devices[name].commands)

    def publish(self, topic: str, payload: str, retain: bool = False) -> None:
        self.client.publish(topic, payload, qos=1, retain=retain).wait_for_publish(5)


def main(argv: list[str] | None = None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    if not args:
        print("usage: python -m tests.mqtt_fleet mqtt://[user:pass@]host:port", file=sys.stderr)
        return 2
    url = urlsplit(args[0])
    fleet = Fleet(
        url.hostname or "127.0.0.1", url.port or 1883, username=url.username, password=url.password
    ).start()
    print(f"fleet: {len(fleet.devices)} devices announced; Ctrl-C to stop", file=sys.stderr)
    try:
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        fleet.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
