"""The audit log: written before sending, append-only, crash-safe, tamper-evident."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.cli import main
from assistant.privacy.audit import AuditError, AuditLog, open_readonly

ROW = dict(rule="rule:general", mode="allow", consent="policy", endpoint="http://127.0.0.1:1/v1",
           model="m", text="who wrote <PERSON_1>", payload=b'{"messages":[]}')


def test_begin_is_committed_before_it_returns(tmp_path: Path) -> None:
    with AuditLog(tmp_path / "a.sqlite") as log:
        row = log.begin(**ROW)  # type: ignore[arg-type]
        other = sqlite3.connect(tmp_path / "a.sqlite")
        got = other.execute("SELECT text, payload_bytes, outcome FROM cloud_requests WHERE id=?",
                            (row,)).fetchone()
        other.close()
        assert got == ("who wrote <PERSON_1>", len(ROW["payload"]), None)  # type: ignore[arg-type]
        log.complete(row, outcome="ok", latency_ms=12.5, ttft_ms=3.0)
        [entry] = log.entries()
        assert (entry.status, entry.latency_ms, entry.ttft_ms) == ("ok", 12.5, 3.0)
        assert log.verify() == []


def test_the_database_refuses_deletes_and_edits_of_what_was_sent(tmp_path: Path) -> None:
    path = tmp_path / "a.sqlite"
    with AuditLog(path) as log:
        row = log.begin(**ROW)  # type: ignore[arg-type]
    db = sqlite3.connect(path)
    for sql in ("DELETE FROM cloud_requests",
                "UPDATE cloud_requests SET text='nothing to see'",
                "UPDATE cloud_requests SET payload=x'00', payload_bytes=1",
                "UPDATE cloud_requests SET endpoint='elsewhere'",
                "UPDATE cloud_requests SET t_sent='2000-01-01'"):
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            db.execute(sql)
    db.execute("UPDATE cloud_requests SET outcome='ok', latency_ms=1 WHERE id=?", (row,))
    db.commit()
    with pytest.raises(sqlite3.DatabaseError, match="completed request cannot change"):
        db.execute("UPDATE cloud_requests SET outcome='cloud_timeout' WHERE id=?", (row,))
    db.close()
    with AuditLog(path) as log, pytest.raises(AuditError, match="cannot complete"):
        log.complete(row, outcome="again", latency_ms=1)


def test_a_crash_after_begin_leaves_an_interrupted_row(tmp_path: Path) -> None:
    path = tmp_path / "a.sqlite"
    code = (
        "import os, sys\n"
        "from pathlib import Path\n"
        "from assistant.privacy.audit import AuditLog\n"
        f"log = AuditLog(Path({str(path)!r}))\n"
        "log.begin(rule='r', mode='allow', consent='policy', endpoint='e', model='m',"
        " text='sent just before the crash', payload=b'{}')\n"
        "os._exit(9)\n"  # no close, no complete, no atexit: like a power cut after the write
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).parent.parent)
    assert proc.returncode == 9
    entries = open_readonly(path)
    assert entries is not None and len(entries) == 1
    assert entries[0].text == "sent just before the crash"
    assert entries[0].status == "interrupted"


def test_edits_that_bypass_the_triggers_break_the_chain(tmp_path: Path) -> None:
    path = tmp_path / "a.sqlite"
    with AuditLog(path) as log:
        for i in range(3):
            row = log.begin(**{**ROW, "text": f"request {i}"})  # type: ignore[arg-type]
            log.complete(row, outcome="ok", latency_ms=1)
        assert log.verify() == []
    db = sqlite3.connect(path)
    db.execute("DROP TRIGGER cloud_requests_sent_is_final")
    db.execute("DROP TRIGGER cloud_requests_complete_once")
    db.execute("UPDATE cloud_requests SET text='something else' WHERE id=2")
    db.commit()
    db.close()
    with AuditLog(path) as log:
        assert log.verify() == [2]


def test_reading_never_creates_a_log(tmp_path: Path) -> None:
    assert open_readonly(tmp_path / "none.sqlite") is None
    assert not (tmp_path / "none.sqlite").exists()


def test_hearth_audit_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                              capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("HEARTH_DATA_DIR", str(tmp_path))
    assert main(["audit"]) == 0
    assert "Nothing has left this device" in capsys.readouterr().out
    with AuditLog(tmp_path / "audit.sqlite") as log:
        row = log.begin(**ROW)  # type: ignore[arg-type]
        log.complete(row, outcome="cloud_timeout", latency_ms=4001)
        log.begin(**{**ROW, "text": "second"})  # type: ignore[arg-type]
    assert main(["audit", "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["status"] for r in rows] == ["cloud_timeout", "interrupted"]
    assert rows[0]["payload"] == ROW["payload"].decode()  # type: ignore[union-attr]
    assert all(r["chain_ok"] for r in rows)
    assert main(["audit", "--limit", "1"]) == 0
    out = capsys.readouterr().out
    assert "#2" in out and "#1 " not in out and "2 request(s) left this device" in out
