#!/usr/bin/env python
"""Decision -> command published -> state confirmed, over a real local MQTT broker.

Starts mosquitto on 127.0.0.1 (or uses --url) and the simulated device fleet from
tests/mqtt_fleet.py, opens Hearth's MQTT backend, and times service calls the way a
turn makes them: "published" is when the broker acknowledged the command (QoS 1
PUBACK), "device" when the (last) message reached the simulated device, "confirmed"
when the device's new state came back on its state topic.
Goal: p50 <= 20 ms. By default it runs twice: with mosquitto's `set_tcp_nodelay true`
and with its stock setting (Nagle on), because that one line decides the round trip.

    .venv/bin/python bench/bench_mqtt.py            # table
    .venv/bin/python bench/bench_mqtt.py --json     # one JSON object
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from assistant.home.mqtt import MqttHome  # noqa: E402
from assistant.home.settings import MqttSettings  # noqa: E402
from tests.mqtt_broker import Broker  # noqa: E402
from tests.mqtt_fleet import Fleet  # noqa: E402

Call = tuple[str, str, Callable[[int], dict[str, Any]]]

CALLS: dict[str, Call] = {
    "light, default schema (2 messages)": (
        "light.turn_on",
        "light.kitchen_light",
        lambda i: {"brightness_pct": 10 + (i * 7) % 91},
    ),
    "light, JSON schema + colour": (
        "light.turn_on",
        "light.ceiling_light",
        lambda i: {"brightness_pct": 10 + (i * 7) % 91, "rgb_color": [i % 256, 64, 200]},
    ),
    "switch toggle": ("switch.toggle", "switch.coffee_maker", lambda i: {}),
    "cover position": (
        "cover.set_cover_position",
        "cover.blinds",
        lambda i: {"position": (i * 13) % 101},
    ),
}


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def summary(values: list[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "p50": round(pct(values, 50), 3),
        "p90": round(pct(values, 90), 3),
        "p99": round(pct(values, 99), 3),
        "mean": round(statistics.fmean(values), 3),
    }


def run(url: str, n: int, warmup: int, label: str) -> dict[str, Any]:
    parts = urlsplit(url)
    fleet = Fleet(
        parts.hostname or "127.0.0.1",
        parts.port or 1883,
        username=parts.username,
        password=parts.password,
        client_id=f"hearth-bench-fleet-{time.time_ns()}",
    ).start()
    home = MqttHome(MqttSettings(url=url, confirm_timeout_s=2.0))
    results: dict[str, Any] = {}
    try:
        for kind, (service, entity_id, data) in CALLS.items():
            published: list[float] = []
            confirmed: list[float] = []
            device: list[float] = []
            for i in range(warmup + n):
                before = len(fleet.received_at)
                t0 = time.monotonic()
                home.call_service(service, entity_id, data(i))
                timing = home.last_timing
                assert timing is not None
                if i < warmup:
                    continue
                published.append(timing.published_ms)
                end = time.monotonic() + 2
                want = before + (2 if entity_id == "light.kitchen_light" else 1)  # ON + brightness
                while len(fleet.received_at) < want and time.monotonic() < end:
                    time.sleep(0.0005)
                with fleet.lock:
                    device.append((fleet.received_at[-1] - t0) * 1000)
                if timing.confirmed_ms is not None:
                    confirmed.append(timing.confirmed_ms)
            print(f"  [{label}] {kind}: {n} calls", file=sys.stderr)
            results[kind] = {
                "service": service,
                "entity_id": entity_id,
                "published_ms": summary(published),
                "device_received_ms": summary(device),
                "confirmed_ms": summary(confirmed) if confirmed else None,
                "unconfirmed": n - len(confirmed),
            }
    finally:
        home.close()
        fleet.stop()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=(__doc__ or "").split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--url",
        help="an existing broker (mqtt://user:pass@host:port) instead "
        "of starting mosquitto on 127.0.0.1",
    )
    parser.add_argument("-n", type=int, default=100, help="timed calls per entity kind (100)")
    parser.add_argument("--warmup", type=int, default=10, help="untimed calls first (10)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)

    configs: dict[str, Any] = {}
    if args.url:
        configs[urlsplit(args.url).hostname or "broker"] = run(
            args.url, args.n, args.warmup, "given broker"
        )
    else:
        for label, nodelay in (
            ("mosquitto set_tcp_nodelay true", True),
            ("mosquitto stock (Nagle on)", False),
        ):
            with tempfile.TemporaryDirectory() as tmp:
                broker = Broker(Path(tmp), nodelay=nodelay).start()
                try:
                    configs[label] = run(broker.url, args.n, args.warmup, label)
                finally:
                    broker.stop()
    out = {"goal_p50_ms": 20.0, "n_per_kind": args.n, "configs": configs}
    if args.json:
        print(json.dumps(out, indent=2))
        return 0
    nan = {"p50": float("nan"), "p90": float("nan"), "p99": float("nan")}
    print(
        f"\nMQTT, decision -> broker ack (pub), -> at the device (dev), -> state back (conf); "
        f"{args.n} calls per row; ms"
    )
    print(
        f"{'broker':32} {'entity':36} {'pub p50':>8} {'pub p90':>8} {'dev p50':>8} {'conf p50':>9} "
        f"{'conf p90':>9} {'conf p99':>9}"
    )
    for label, results in configs.items():
        for kind, r in results.items():
            p, c, d = r["published_ms"], r["confirmed_ms"] or nan, r["device_received_ms"]
            print(
                f"{label:32} {kind:36} {p['p50']:8.2f} {p['p90']:8.2f} {d['p50']:8.2f} "
                f"{c['p50']:9.2f} {c['p90']:9.2f} {c['p99']:9.2f}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
