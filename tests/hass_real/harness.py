"""A real Home Assistant core for the tests, on 127.0.0.1 with a free port.

It runs from its own virtual environment (``.venv-hass``, built by
``scripts/setup_hass.sh``; ``$HEARTH_HASS_PYTHON`` names another interpreter) with
``--skip-pip``, from a fresh config folder with ``configuration.yaml`` beside this file.
The token comes from onboarding over the HTTP API, as the first user would get it
(no browser): create the owner, trade the auth code for an access token, ask the
WebSocket API for a long-lived token. Areas, entity areas and aliases are then put
in Home Assistant's registries over the WebSocket API, as its UI does.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from websockets.sync.client import connect

from tests.ports import free_port

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
VERSION = "2024.3.3"
HASS_PYTHON = Path(os.environ.get("HEARTH_HASS_PYTHON") or REPO / ".venv-hass" / "bin" / "python")
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def missing_reason() -> str | None:
    """Why the real Home Assistant cannot run here, or None when it can."""
    if not HASS_PYTHON.exists():
        return (f"Home Assistant's venv is missing ({HASS_PYTHON}): run scripts/setup_hass.sh "
                "(or set HEARTH_HASS_PYTHON)")
    proc = subprocess.run([str(HASS_PYTHON), "-c", "import homeassistant.const as c; "
                           "print(c.__version__)"], capture_output=True, text=True, check=False)
    if proc.returncode != 0 or proc.stdout.strip() != VERSION:
        return f"{HASS_PYTHON} has no Home Assistant {VERSION}: run scripts/setup_hass.sh"
    return None


class RealHass:
    """One Home Assistant process; ``stop()`` and ``start()`` again keep its storage."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.token = ""
        self.areas: dict[str, str] = {}
        """Area name -> area id in Home Assistant's registry."""
        self.proc: subprocess.Popen[bytes] | None = None
        folder.mkdir(parents=True, exist_ok=True)
        config = (HERE / "configuration.yaml").read_text().replace("@PORT@", str(self.port))
        (folder / "configuration.yaml").write_text(config)
        self.log = folder / "home-assistant.out"

    # -- process --------------------------------------------------------------------

    def start(self, timeout: float = 90.0) -> float:
        """Start and wait until the HTTP API answers; returns the seconds it took."""
        t0 = time.monotonic()
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [str(HASS_PYTHON), "-m", "homeassistant", "--config", str(self.folder),
                 "--skip-pip", "--log-no-color"],
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        while time.monotonic() - t0 < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError(f"Home Assistant exited ({self.proc.returncode}):\n"
                                   + self.log_tail())
            try:
                self.http("GET", "/api/onboarding", auth=False)
                return time.monotonic() - t0
            except (OSError, urllib.error.URLError):
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"Home Assistant did not answer within {timeout:.0f} s:\n"
                           + self.log_tail())

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def log_tail(self, lines: int = 40) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    # -- APIs -----------------------------------------------------------------------

    def http(self, method: str, path: str, body: Any = None, *, auth: bool = True,
             form: dict[str, str] | None = None) -> Any:
        headers = {"Authorization": f"Bearer {self.token}"} if auth else {}
        data = None
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        with _NO_PROXY.open(req, timeout=30) as resp:
            raw = resp.read()
        ctype = resp.headers.get("Content-Type", "")
        return json.loads(raw) if raw and "json" in ctype else raw

    def ws(self, *messages: dict[str, Any]) -> list[Any]:
        """Send WebSocket commands in order; their results (a refusal raises)."""
        results = []
        with connect(self.url.replace("http://", "ws://") + "/api/websocket",
                     proxy=None, max_size=None) as ws:
            json.loads(ws.recv(10))
            ws.send(json.dumps({"type": "auth", "access_token": self.token}))
            if json.loads(ws.recv(10)).get("type") != "auth_ok":
                raise RuntimeError("Home Assistant refused the token on the WebSocket")
            for i, msg in enumerate(messages, 1):
                ws.send(json.dumps({"id": i, **msg}))
                while True:
                    reply = json.loads(ws.recv(60))
                    if reply.get("id") == i and reply.get("type") == "result":
                        break
                if not reply["success"]:
                    raise RuntimeError(f"Home Assistant refused {msg}: {reply.get('error')}")
                results.append(reply.get("result"))
        return results

    def state(self, entity_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self.http("GET", f"/api/states/{entity_id}")
        return result

    # -- first start ----------------------------------------------------------------

    def onboard(self) -> str:
        """Create the owner and get a long-lived token, as a new user would."""
        client_id = self.url + "/"
        answer = self.http("POST", "/api/onboarding/users", {
            "client_id": client_id, "name": "Test Owner", "username": "owner",
            "password": "hearth-test-password", "language": "en"}, auth=False)
        tokens = self.http("POST", "/auth/token", auth=False, form={
            "grant_type": "authorization_code", "code": answer["auth_code"],
            "client_id": client_id})
        self.token = tokens["access_token"]
        (long_lived,) = self.ws({"type": "auth/long_lived_access_token",
                                 "client_name": "Hearth tests", "lifespan": 30})
        self.token = str(long_lived)
        return self.token

    def furnish(self) -> None:
        """Areas with aliases, entities in them with aliases, and what Assist may see."""
        (areas,) = self.ws({"type": "config/area_registry/list"})
        have = {a["name"]: a["area_id"] for a in areas}  # onboarding made a few
        for name in ("Living Room", "Kitchen", "Office"):
            if name not in have:
                (made,) = self.ws({"type": "config/area_registry/create", "name": name})
                have[name] = made["area_id"]
        self.areas = have
        self.ws(
            {"type": "config/area_registry/update", "area_id": have["Living Room"],
             "aliases": ["Lounge"]},
            {"type": "config/entity_registry/update", "entity_id": "light.ceiling",
             "area_id": have["Living Room"], "aliases": ["Big Light"]},
            {"type": "config/entity_registry/update", "entity_id": "switch.kettle",
             "area_id": have["Kitchen"]},
            {"type": "config/entity_registry/update", "entity_id": "light.desk_lamp",
             "area_id": have["Office"]},
            {"type": "config/entity_registry/update", "entity_id": "lock.front_door",
             "area_id": have["Living Room"]},
            # Home Assistant's own "exposed to Assist": the router is not, the lock is.
            {"type": "homeassistant/expose_entity", "assistants": ["conversation"],
             "entity_ids": ["switch.router"], "should_expose": False},
            {"type": "homeassistant/expose_entity", "assistants": ["conversation"],
             "entity_ids": ["lock.front_door"], "should_expose": True},
        )


_SHARED: RealHass | None = None


def shared() -> RealHass:
    """One onboarded, furnished Home Assistant per test session (stopped at exit)."""
    global _SHARED
    if _SHARED is None:
        import atexit
        import shutil
        import tempfile

        folder = Path(tempfile.mkdtemp(prefix="hearth-hass-"))
        hass = RealHass(folder)
        hass.start()
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        atexit.register(hass.stop)
        hass.onboard()
        hass.furnish()
        _SHARED = hass
    return _SHARED
