"""The privacy parts of the ``hearth`` command: ``ask --privacy/--explain`` and ``hearth audit``.

Kept here so assistant/cli.py only wires them in.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any

from assistant.config import Settings
from assistant.privacy.audit import AuditEntry, open_readonly, verify_chain

MODES = ("local_only", "ask", "allow")


def add_ask_options(ask: argparse.ArgumentParser) -> None:
    ask.add_argument(
        "--privacy", choices=MODES, help="override the privacy policy's mode for this run"
    )
    ask.add_argument(
        "--explain",
        action="store_true",
        help="show the privacy decision, the rule that made it and the exact redacted "
        "payload that would be sent; sends nothing (implies --dry-run)",
    )


def with_mode(settings: Settings, mode: str | None) -> Settings:
    """``settings`` with the privacy mode overridden (``hearth ask --privacy MODE``)."""
    if mode is None:
        return settings
    return settings.model_copy(
        update={"privacy": settings.privacy.model_copy(update={"mode": mode})}
    )


def turn_report(
    trace: Any, settings: Settings, *, explain: bool
) -> tuple[dict[str, Any], str]:
    """The ``privacy`` object for a turn's JSON, and (with --explain) lines for humans.
    ``trace``: what the privacy path did in the turn (a ``PrivacyTrace``), None if nothing."""
    if trace is None:
        report: dict[str, Any] = {
            "mode": settings.privacy.mode,
            "consulted": False,
            "verdict": "local",
            "rule": None,
            "sent": False,
            "note": "handled on the device; nothing would leave",
        }
    else:
        report = {"consulted": True, **trace.as_json()}
    if not explain:
        return report, ""
    lines = [
        f"  privacy: {report['verdict']}"
        + (f" by {report['rule']}" if report.get("rule") else "")
        + f" (mode {report['mode']})"
    ]
    if report.get("topics"):
        lines.append(f"  topics: {', '.join(report['topics'])}")
    if report.get("note"):
        lines.append(f"  {report['note']}")
    if report.get("redacted_text") is not None:
        lines.append(f"  redacted text: {report['redacted_text']}")
    if report.get("body") is not None:
        lines.append(f"  exact body ({report['payload_bytes']} bytes) to {report['endpoint']}:")
        lines.append(
            "    "
            + json.dumps(json.loads(report["body"]), indent=2, ensure_ascii=False).replace(
                "\n", "\n    "
            )
        )
    elif report.get("payload") is not None:
        lines.append("  payload:")
        lines.append(
            "    "
            + json.dumps(report["payload"], indent=2, ensure_ascii=False).replace("\n", "\n    ")
        )
    return report, "\n".join(lines)


def add_commands(sub: Any, add_common: Callable[[argparse.ArgumentParser], None]) -> None:
    audit = sub.add_parser(
        "audit",
        help="show what has left this device (the cloud audit log)",
        description="Every request sent to the cloud, recorded before it was sent.",
    )
    audit.add_argument("--json", action="store_true", help="one JSON object per request")
    audit.add_argument("--limit", type=int, metavar="N", help="only the newest N requests")
    audit.add_argument("--payload", action="store_true", help="also print each exact request body")
    add_common(audit)
    audit.set_defaults(run=_cmd_audit)


def _cmd_audit(args: argparse.Namespace, settings: Settings) -> int:
    path = settings.privacy.audit_db or settings.data_dir / "audit.sqlite"
    entries = open_readonly(path)
    if entries is None:
        if not args.json:
            sys.stdout.write(f"Nothing has left this device (no audit log at {path}).\n")
        return 0
    broken = set(verify_chain(entries))
    shown = entries[-args.limit :] if args.limit else entries
    for e in shown:
        if args.json:
            row = e.as_json()
            row["chain_ok"] = e.id not in broken
            sys.stdout.write(json.dumps(row, ensure_ascii=False) + "\n")
        else:
            sys.stdout.write(_describe(e, e.id in broken, payload=args.payload))
    if not args.json:
        sys.stdout.write(f"{len(entries)} request(s) left this device; audit log: {path}\n")
        if broken:
            sys.stdout.write(
                f"WARNING: rows {sorted(broken)} do not match the hash chain "
                "(the log was altered outside Hearth)\n"
            )
    return 0


def _describe(e: AuditEntry, broken: bool, *, payload: bool) -> str:
    took = f"{e.latency_ms:.0f} ms" if e.latency_ms is not None else "-"
    out = (
        f"#{e.id} {e.t_sent}  {e.status:<18} {e.rule} ({e.mode}, {e.consent})  "
        f"{e.payload_bytes} B -> {e.endpoint} [{e.model}] {took}"
        + ("  CHAIN BROKEN" if broken else "")
        + "\n"
        f"    text: {e.text}\n"
    )
    if payload:
        out += "    body: " + e.payload.decode("utf-8", errors="replace") + "\n"
    return out
