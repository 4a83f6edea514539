"""Satellites and the API over TLS, with a certificate made for the test."""

from __future__ import annotations

import asyncio
import json
import ssl
import subprocess
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from server_helpers import Server, finish, satellite, speech_file, wyoming_exchange

pytestmark = pytest.mark.real


@pytest.fixture(scope="module")
def cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("tls")
    crt, key = folder / "server.crt", folder / "server.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(crt)], check=True, capture_output=True)
    return crt, key


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, cert: tuple[Path, Path]) -> Iterator[Server]:
    srv = Server(tmp_path_factory.mktemp("tls-server"), tls=cert).start()
    yield srv
    assert srv.stop() == 0


def test_satellite_over_tls(server: Server, cert: tuple[Path, Path],
                            tmp_path_factory: pytest.TempPathFactory,
                            say: Callable[[str], np.ndarray]) -> None:
    wav = speech_file(tmp_path_factory.mktemp("speech"), say, "Hey Jarvis, turn on the light.")
    rc, lines, err = finish(satellite(server, "kitchen", wav, extra=("--ca", str(cert[0]))))
    assert rc == 0, err
    (turn,) = lines[-1]["turns"]
    assert turn["actions"][0]["entity_id"] == "light.kitchen"


def test_a_satellite_that_does_not_trust_the_certificate_fails_clearly(
        server: Server, tmp_path: Path) -> None:
    wav = tmp_path / "silence.wav"
    from assistant.audio.files import write_wav

    write_wav(wav, np.zeros(1600, np.int16))
    rc, lines, err = finish(satellite(server, "kitchen", wav))  # no --ca
    assert rc == 2 and lines == [] and "cannot reach the server" in err
    assert "certificate verify failed" in err.lower()


def test_plain_tcp_to_a_tls_port_gets_nothing(server: Server) -> None:
    try:
        got = asyncio.run(wyoming_exchange(server.wyoming_port, [("describe", {}, None)],
                                           lambda k: k == "info", timeout=10))
    except (ConnectionError, asyncio.IncompleteReadError, TimeoutError, OSError):
        got = []
    assert not any(kind == "info" for kind, _, _ in got)


def test_https_api(server: Server, cert: tuple[Path, Path]) -> None:
    ctx = ssl.create_default_context(cafile=str(cert[0]))
    req = urllib.request.Request(server.url + "/api/health",
                                 headers={"authorization": "Bearer test-api-token-123"})
    with urllib.request.urlopen(req, context=ctx, timeout=30) as res:
        assert json.loads(res.read())["status"] == "ok"
    status, headers, _ = server.request("POST", "/api/login", {"token": "test-api-token-123"},
                                        token=None)
    assert status == 204 and "Secure" in headers["set-cookie"]
