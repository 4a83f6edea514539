"""`hearth serve` as a user runs it: a real subprocess on 127.0.0.1 with an API token.

One server for the module (models load once); each test talks to it over HTTP.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from server_helpers import HEARTH, TOKEN, Server, free_port

pytestmark = pytest.mark.real


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = Server(tmp_path_factory.mktemp("server")).start()
    yield srv
    assert srv.stop() == 0


# --- the token ----------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/health", "/api/home", "/api/audit", "/api/events",
                                  "/metrics", "/openapi.json", "/api/turns", "/api/privacy",
                                  "/static/app.js"])
def test_every_request_without_the_token_is_refused(server: Server, path: str) -> None:
    status, headers, body = server.request("GET", path, token=None)
    assert status == 401, path
    assert headers["www-authenticate"].startswith("Bearer")
    assert json.loads(body)["error"] == "unauthorized"
    assert server.request("GET", path, token="not-the-token")[0] == 401


def test_posts_without_the_token_change_nothing(server: Server) -> None:
    before = server.entity_state("switch.coffee_maker")
    mode = server.json("GET", "/api/privacy")["mode"]
    status, _, _ = server.request("POST", "/api/ask", {"text": "turn on the coffee maker"},
                                  token=None)
    assert status == 401 and server.entity_state("switch.coffee_maker") == before
    status, _, _ = server.request("POST", "/api/privacy", {"mode": "allow", "confirm": True},
                                  token="wrong-token-123")
    assert status == 401 and server.json("GET", "/api/privacy")["mode"] == mode


def test_a_browser_is_sent_to_sign_in_and_the_cookie_works(server: Server) -> None:
    status, headers, _ = server.request("GET", "/", token=None, headers={"accept": "text/html"})
    assert status == 303 and headers["location"] == "/login"
    assert server.request("GET", "/login", token=None)[0] == 200
    assert server.request("POST", "/api/login", {"token": "nope"}, token=None)[0] == 401
    status, headers, _ = server.request("POST", "/api/login", {"token": TOKEN}, token=None)
    assert status == 204
    cookie = headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and TOKEN not in cookie
    session = cookie.split(";")[0]
    status, _, body = server.request("GET", "/", token=None, headers={"cookie": session})
    assert status == 200 and b"latency-chart" in body
    assert server.request("GET", "/api/health", token=None, headers={"cookie": session})[0] == 200


# --- the API ------------------------------------------------------------------------------


def test_health(server: Server) -> None:
    health = server.json("GET", "/api/health")
    assert health["status"] == "ok" and health["models_load_s"] > 0
    assert {s["name"] for s in health["satellites"]} == {"kitchen", "bedroom", "office"}
    assert not any(s["connected"] for s in health["satellites"])


def _without_timings(result: Any) -> Any:
    """The turn without what differs run to run: timings (also "skill x (6 ms)" in reasons)."""
    if isinstance(result, dict):
        return {k: _without_timings(v) for k, v in result.items() if k != "timings_ms"}
    if isinstance(result, list):
        return [_without_timings(v) for v in result]
    if isinstance(result, str):
        return re.sub(r" \(\d+(\.\d+)? ms\)", "", result)
    return result


@pytest.mark.parametrize("body,args", [
    ({"text": "turn on the kitchen light", "dry_run": True}, ["--dry-run"]),
    ({"text": "turn off the light", "area": "Bedroom", "dry_run": True},
     ["--area", "Bedroom", "--dry-run"]),
    ({"text": "what is the meaning of life", "dry_run": True}, ["--dry-run"]),
])
def test_ask_is_the_same_as_hearth_ask_json(server: Server, body: dict[str, Any],
                                            args: list[str]) -> None:
    api = server.json("POST", "/api/ask", body)
    cli = subprocess.run([HEARTH, "ask", body["text"], "--json", "--config", str(server.config),
                          *args], capture_output=True,
                         env=server.env, check=True, timeout=120)
    assert _without_timings(api) == _without_timings(json.loads(cli.stdout))
    assert set(api["timings_ms"]) == set(json.loads(cli.stdout)["timings_ms"])


def test_ask_acts_on_the_home(server: Server) -> None:
    result = server.json("POST", "/api/ask", {"text": "turn on the desk lamp"})
    assert result["actions"] == [{"service": "light.turn_on", "entity_id": "light.desk_lamp",
                                  "data": {}}]
    assert server.entity_state("light.desk_lamp") == "on"


def test_bad_asks_get_one_clear_error(server: Server) -> None:
    status, _, body = server.request("POST", "/api/ask", {"text": "turn on the light",
                                                          "area": "the moon"})
    assert status == 400
    err = json.loads(body)
    assert err["error"] == "unknown_area" and "the moon" in err["message"]
    assert server.request("POST", "/api/ask", {"text": ""})[0] == 422
    assert server.request("POST", "/api/ask", {"txt": "hi"})[0] == 422
    status, _, _ = server.request("POST", "/api/ask", None, headers={"content-type": "text/plain"})
    assert status == 422
    assert server.json("GET", "/api/health")["status"] == "ok"  # and it keeps running


def test_events_stream_shows_a_turn(server: Server) -> None:
    got: list[dict[str, Any]] = []

    def listen() -> None:
        for ev in server.sse("/api/events?types=intent,action,reply,turn"):
            got.append(ev)
            if ev["type"] == "turn":
                return

    t = threading.Thread(target=listen, daemon=True)
    t.start()
    for _ in range(100):  # ask once the stream is open
        if server.json("GET", "/api/health")["event_subscribers"] >= 1:
            break
        time.sleep(0.1)
    server.json("POST", "/api/ask", {"text": "turn on the hallway light"})
    t.join(30)
    kinds = [e["type"] for e in got]
    assert kinds == ["intent", "action", "reply", "turn"], kinds
    action = got[1]
    assert action["source"] == "api" and action["entity_id"] == "light.hallway"
    assert action["service"] == "light.turn_on" and isinstance(action["seq"], int)
    assert set(got[3]["stages_ms"]) == {"understand", "act"}


def test_home_audit_turns_and_metrics(server: Server) -> None:
    server.json("POST", "/api/ask", {"text": "turn on the bathroom light"})
    home = server.json("GET", "/api/home")
    assert {a["id"] for a in home["areas"]} >= {"kitchen", "bedroom", "living_room"}
    bathroom = next(e for e in home["entities"] if e["entity_id"] == "light.bathroom")
    assert bathroom["state"] == "on" and bathroom["area"] == "bathroom"
    audit = server.json("GET", "/api/audit")
    assert audit["available"] is True and audit["entries"] == []  # nothing left the device
    turns = server.json("GET", "/api/turns?limit=5")
    assert turns[-1]["text"] == "turn on the bathroom light"
    assert turns[-1]["actions"] == ["light.turn_on light.bathroom"]
    status, headers, body = server.request("GET", "/metrics")
    assert status == 200 and headers["content-type"].startswith("text/plain")
    text = body.decode()
    count = re.search(r'hearth_turns_total\{path="local",source="api"\} (\d+)', text)
    assert count and int(count.group(1)) >= 1
    for stage in ("stt", "understand", "act", "tts", "end_to_action"):
        assert f'hearth_stage_latency_seconds_bucket{{le="+Inf",stage="{stage}"}}' in text
    for name in ("hearth_wake_detections", "hearth_escalations", "hearth_errors",
                 "hearth_satellites_connected"):
        assert f"# TYPE {name}" in text


def test_privacy_mode_needs_confirmation(server: Server) -> None:
    initial = server.json("GET", "/api/privacy")
    assert initial["source"] == "config" and initial["applies"] is True
    status, _, body = server.request("POST", "/api/privacy", {"mode": "allow"})
    assert status == 409 and json.loads(body)["error"] == "confirmation_required"
    assert server.request("POST", "/api/privacy", {"mode": "everything", "confirm": True})[0] == 422
    assert server.json("GET", "/api/privacy")["mode"] == initial["mode"]
    changed = server.json("POST", "/api/privacy", {"mode": "local_only", "confirm": True})
    assert changed["mode"] == "local_only" and changed["source"] == "dashboard"
    assert json.loads((server.data / "server.json").read_text())["privacy_mode"] == "local_only"
    # the cloud path follows: under local_only nothing is even considered for sending
    result = server.json("POST", "/api/ask", {"text": "what is the capital of france",
                                              "dry_run": True})
    assert result["privacy"]["mode"] == "local_only" and result["privacy"]["verdict"] == "deny"
    server.json("POST", "/api/privacy", {"mode": initial["mode"], "confirm": True})


# --- the OpenAPI spec ------------------------------------------------------------------


def test_openapi_spec_describes_the_api(server: Server) -> None:
    spec = server.json("GET", "/openapi.json")
    assert spec["openapi"].startswith("3.") and spec["info"]["title"] == "Hearth"
    paths = spec["paths"]
    expected = {"/api/ask": "post", "/api/health": "get", "/api/events": "get", "/api/home": "get",
                "/api/audit": "get", "/metrics": "get", "/api/privacy": "post", "/api/turns": "get"}
    for path, method in expected.items():
        assert method in paths[path], path
    schemas = spec["components"]["schemas"]
    ask = schemas["AskRequest"]
    assert ask["required"] == ["text"] and set(ask["properties"]) == {"text", "area", "dry_run"}
    required = set(schemas["AskResponse"]["required"])
    assert {"handled_by", "actions", "reply", "timings_ms"} <= required
    assert "text/event-stream" in paths["/api/events"]["get"]["responses"]["200"]["content"]
    # every $ref resolves
    for ref in re.findall(r'"\$ref": "#/components/schemas/([^"]+)"', json.dumps(spec)):
        assert ref in schemas, ref
    # no page that would load code from elsewhere
    assert server.request("GET", "/docs")[0] == 404


def test_served_pages_load_nothing_from_elsewhere(server: Server) -> None:
    for path in ("/", "/login", "/static/app.js", "/static/login.js", "/static/style.css"):
        status, _, body = server.request("GET", path)
        assert status == 200, path
        assert not re.search(rb"(src|href)=\"(https?:)?//", body), path
        assert b"http://" not in body and b"https://" not in body, path


# --- failing at start, with one line -------------------------------------------------


def _serve(tmp_path: Path, *args: str, config: str = "") -> subprocess.CompletedProcess[str]:
    cfg = tmp_path / "c.toml"
    cfg.write_text(config)
    env = {**os.environ, "HEARTH_DATA_DIR": str(tmp_path / "data")}
    env.pop("HEARTH_TOKEN", None)
    return subprocess.run([HEARTH, "serve", "--config", str(cfg), *args], capture_output=True,
                          text=True, env=env, timeout=120)


def _one_line(res: subprocess.CompletedProcess[str]) -> str:
    assert res.returncode == 2, res.stderr
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("hearth: "), res.stderr
    assert "Traceback" not in res.stderr
    return lines[0]


def test_unsafe_bind_fails_at_start(tmp_path: Path) -> None:
    line = _one_line(_serve(tmp_path, "--host", "0.0.0.0", "--port", str(free_port())))
    assert "requires an API token" in line


def test_port_in_use_fails_at_start(tmp_path: Path, server: Server) -> None:
    line = _one_line(_serve(tmp_path, "--port", str(server.port), "--wyoming-port", "0"))
    assert f"127.0.0.1:{server.port}" in line and "in use" in line


def test_broken_config_and_missing_model_fail_at_start(tmp_path: Path) -> None:
    line = _one_line(_serve(tmp_path, config="[server]\nport = 'eighty'\n"))
    assert "server.port" in line
    missing = tmp_path / "no-such-whisper"
    line = _one_line(_serve(tmp_path, "--port", str(free_port()), "--wyoming-port", "0",
                            config=f'[stt]\nmodel = "{missing}"\n'))
    assert "no-such-whisper" in line
