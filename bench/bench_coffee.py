"""Coffee orders from real recordings: Whisper -> sentence templates -> the coffee skill.

The data: 100 real spoken orders (50+ speakers, voice actors) from Picovoice's
speech-to-intent benchmark, in ``$HEARTH_EVAL_DATA/commands/coffee_orders`` with their
labels (intent ``orderDrink``; slots coffeeDrink, size, roast, numberOfShots,
milkAmount, sugarAmount). Each clip goes through the bundled faster-whisper
(``assistant.stt.whisper.WhisperStt``, loaded once) the way the voice loop hears it: the
home's names as the prompt; a transcript no template takes heard again with every loaded
skill's ``stt_words`` too, as an n-best list read against the templates and, failing
that, repaired toward the skills' nearest sentence when Whisper agrees (``[stt]``
``retry_hypotheses``, ``repair_edits``, ``repair_margin``); then the template path with
all built-in skills loaded (no local LLM, no cloud). ``--others N`` also counts how many
of N other spoken requests come out as an order.

The metric is Picovoice's *command acceptance rate*: a command counts only when the
intent and every slot are right (a missing, extra or wrong slot is an error). The
coffee skill's slots map one-to-one onto the labels: drink = coffeeDrink, size
("16 oz" = "sixteen ounce"), roast ("dark" = "dark roast"), shots (2 = "double shot"),
milk = milkAmount, sugar = sugarAmount.

Published figures, for comparison (Picovoice/speech-to-intent-benchmark on GitHub,
README "Results" and its chart ``data/misc/result-summary.svg``, commit 4ee4d1b,
2022-06-04: command acceptance rate averaged over cafe and kitchen noise mixed at
24 to 6 dB SNR, 619 commands): Picovoice Rhino 97.6 %, Microsoft LUIS 89.9 %,
IBM Watson 86.8 %, Amazon Lex 84.5 %, Google Dialogflow 77.6 %. Those are on noisy
audio and all 619 clips; this bench runs the 100-clip clean subset, and with
``--noise`` mixes in the eval data's kitchen recording at the same SNRs.

The sentences were written from the benchmark grammar's vocabulary and tuned while
looking at the transcripts of the even-numbered clips only (``--split dev``); the
odd-numbered half (``--split holdout``) is run once, at the end of a round of work.
``--data`` takes a folder of the same shape, e.g. ``bench/coffee_voices.py``'s orders.

    .venv/bin/python bench/bench_coffee.py                  # table, all 100 clips
    .venv/bin/python bench/bench_coffee.py --beam 5         # Whisper beam search
    .venv/bin/python bench/bench_coffee.py --prompt home    # without the skills' words
    .venv/bin/python bench/bench_coffee.py --noise --json   # kitchen noise at 24..6 dB
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
# this checkout's coffee skill first (the installed one may be another checkout's, editable)
for _p in (REPO, REPO / "bench", REPO / "skills" / "coffee"):
    sys.path.insert(0, str(_p))

from coffee_voices import false_orders, other_speech  # noqa: E402

PUBLISHED = [  # engine, command acceptance rate (%), as published by Picovoice (see docstring)
    ("Picovoice Rhino (on device)", 97.6),
    ("Microsoft LUIS (cloud)", 89.9),
    ("IBM Watson (cloud)", 86.8),
    ("Amazon Lex (cloud)", 84.5),
    ("Google Dialogflow (cloud)", 77.6),
]
SNRS_DB = (24, 21, 18, 15, 12, 9, 6)
SIZES = {"eight ounce": "8 oz", "twelve ounce": "12 oz", "sixteen ounce": "16 oz", "twenty ounce": "20 oz"}
SHOTS = {"single shot": 1, "double shot": 2, "triple shot": 3}
COFFEE_INTENT = "HearthBrew"


def expected(label: dict[str, Any]) -> dict[str, Any]:
    """A label in the coffee skill's slot names and values (a one-to-one mapping)."""
    s = {k: str(v).strip() for k, v in label["slots"].items()}
    out: dict[str, Any] = {"drink": s["coffeeDrink"]}
    if "size" in s:
        out["size"] = SIZES.get(s["size"], s["size"])
    if "roast" in s:
        out["roast"] = s["roast"].removesuffix(" roast")
    if "numberOfShots" in s:
        out["shots"] = SHOTS[s["numberOfShots"]]
    if "milkAmount" in s:
        out["milk"] = s["milkAmount"]
    if "sugarAmount" in s:
        out["sugar"] = s["sugarAmount"]
    return out


LEADS = (0.5, 1.0, 2.0, 3.0, 4.0, 6.0)


def outcomes(rows: list[dict[str, Any]], lead: float | None = None) -> dict[str, int]:
    """Right (every slot), wrong (an order with a wrong slot: the coffee nobody asked for)
    and no order (asked again). With ``lead``: as if the slot scoring had asked whenever a
    slot led by less (a clip the scoring did not see stays as it came out)."""
    asked = [lead is not None and r["min_lead"] is not None and r["min_lead"] < lead for r in rows]
    right = sum(r["accepted"] and not a for r, a in zip(rows, asked, strict=True))
    wrong = sum(r["intent"] == COFFEE_INTENT and not r["accepted"] and not a
                for r, a in zip(rows, asked, strict=True))
    return {"right": right, "wrong": wrong, "no_order": len(rows) - right - wrong}


def mix(speech: np.ndarray, noise: np.ndarray, snr_db: float, seed: int) -> np.ndarray:
    """``speech`` with a slice of ``noise`` at ``snr_db`` (power over the whole clip)."""
    rng = np.random.default_rng(seed)
    start = int(rng.integers(0, max(1, len(noise) - len(speech))))
    part = np.resize(noise[start:start + len(speech)], len(speech)).astype(np.float64)
    s = speech.astype(np.float64)
    speech_power = float(np.mean(s ** 2))
    noise_power = max(float(np.mean(part ** 2)), 1e-9)
    gain = (speech_power / noise_power / 10 ** (snr_db / 10)) ** 0.5
    mixed: np.ndarray = np.clip(s + gain * part, -32768, 32767).astype(np.int16)
    return mixed


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, help="the coffee_orders folder (default: from $HEARTH_EVAL_DATA)")
    ap.add_argument("--split", choices=["all", "dev", "holdout"], default="all",
                    help="dev = even-numbered clips (looked at while writing sentences), holdout = odd")
    ap.add_argument("--prompt", choices=["skills", "home", "none", "retry"], default="retry",
                    help="Whisper's prompt: retry (the voice loop's way, default: home names; when no "
                    "template matches, again with the skills' words and an n-best list read against "
                    "the templates), home names + skills' stt_words, home names only, or none")
    ap.add_argument("--hypotheses", type=int, default=None,
                    help="n-best hypotheses on the retry (default: the settings' retry_hypotheses)")
    ap.add_argument("--beam", type=int, default=None, help="Whisper beam size (default: the settings', 1)")
    ap.add_argument("--repair-edits", type=float, default=None,
                    help="the settings' repair_edits (0 = no repair toward the skills' sentences)")
    ap.add_argument("--repair-margin", type=float, default=None, help="the settings' repair_margin")
    ap.add_argument("--slot-lead", type=float, default=None,
                    help="the settings' slot_lead (0 = no slot scoring); the summary also shows "
                    "right / wrong / asked for other leads, from each retried clip's slot leads")
    ap.add_argument("--model", type=Path, default=None,
                    help="a CTranslate2 Whisper folder (default: the settings', bundled tiny.en)")
    ap.add_argument("--window", type=float, default=None,
                    help="Whisper's window in seconds (default: the settings'); audio longer widens it")
    ap.add_argument("--noise", action="store_true",
                    help=f"also run with kitchen noise mixed at {', '.join(map(str, SNRS_DB))} dB SNR")
    ap.add_argument("--snr", type=float, nargs="+", help="with --noise: only these SNRs (dB)")
    ap.add_argument("--others", type=int, default=0,
                    help="also N SLURP devel sentences that are not coffee orders, spoken by Piper: "
                    "how many come out as an order")
    ap.add_argument("--rows", action="store_true", help="with --json: every clip's row")
    ap.add_argument("--limit", type=int, help="only the first N clips")
    ap.add_argument("--json", action="store_true", help="one JSON object instead of the table")
    ap.add_argument("--failures", action="store_true", help="list the commands that were not accepted")
    args = ap.parse_args()

    eval_root = Path(os.environ.get("HEARTH_EVAL_DATA", REPO.parent / "shared" / "eval-data"))
    data = args.data or eval_root / "commands" / "coffee_orders"
    if not (data / "labels.json").is_file():
        sys.stderr.write(f"bench: no labels.json in {data} (set HEARTH_EVAL_DATA or --data)\n")
        return 2
    labels: dict[str, Any] = json.loads((data / "labels.json").read_text(encoding="utf-8"))
    names = sorted(labels)
    if args.split != "all":
        names = [n for i, n in enumerate(names) if (i % 2 == 0) == (args.split == "dev")]
    names = names[: args.limit] if args.limit else names

    os.environ["HEARTH_DATA_DIR"] = tempfile.mkdtemp(prefix="hearth-bench-coffee-")
    from assistant.audio.files import read_audio
    from assistant.skills.testing import SkillTester
    from assistant.stt.grammar import PhraseGraph
    from assistant.stt.whisper import WhisperStt

    tester = SkillTester(builtin=True, data_dir=os.environ["HEARTH_DATA_DIR"])
    settings = tester.settings
    stt_update: dict[str, Any] = {}
    if args.beam:
        stt_update["beam_size"] = args.beam
    if args.window:
        stt_update["window_s"] = args.window
    if args.model:
        stt_update["model"] = args.model
    if args.hypotheses:
        stt_update["retry_hypotheses"] = args.hypotheses
    for name, value in (("repair_edits", args.repair_edits), ("repair_margin", args.repair_margin),
                        ("slot_lead", args.slot_lead)):
        if value is not None:
            stt_update[name] = value
    if stt_update:
        settings = settings.model_copy(update={"stt": settings.stt.model_copy(update=stt_update)})
    home_only, with_words = tester.stt_prompts()  # the voice loop's two prompts
    with_words = with_words or home_only
    prompt = {"skills": with_words, "retry": home_only, "home": home_only, "none": None}[args.prompt]
    sys.stderr.write(f"loading Whisper ({settings.stt.model or 'bundled tiny.en'}, "
                     f"beam {settings.stt.beam_size})\n")
    stt = WhisperStt(settings.stt, prompt=prompt, accepts=tester.is_command,
                     retry_prompt=with_words if args.prompt == "retry" else None,
                     phrases=PhraseGraph(tester.registry.sentences()))
    stt.warm_up()

    conditions: list[tuple[str, float | None]] = [("clean", None)]
    noise = None
    if args.noise:
        noise = read_audio(eval_root / "noise" / "doing_the_dishes.wav")
        conditions += [(f"kitchen {snr:g} dB", float(snr)) for snr in (args.snr or SNRS_DB)]

    repairs: list[tuple[Any, ...]] = []  # what the grammar repair tried, from Whisper's debug log
    leads: list[tuple[Any, ...]] = []  # the slot scoring's verdicts, likewise

    class _Repairs(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if isinstance(record.args, tuple) and record.msg.startswith(("repair", "slots")):
                (repairs if record.msg.startswith("repair") else leads).append(record.args)

    stt_log = logging.getLogger("assistant.stt.whisper")
    stt_log.setLevel(logging.DEBUG)
    stt_log.addHandler(_Repairs())

    results: list[dict[str, Any]] = []
    for cond, snr in conditions:
        rows: list[dict[str, Any]] = []
        for i, name in enumerate(names):
            audio = read_audio(data / name)
            if snr is not None and noise is not None:
                audio = mix(audio, noise, snr, seed=i)
            t0 = time.perf_counter()
            repairs.clear()
            leads.clear()
            text = stt.transcribe(audio)
            retried = False
            if stt.can_retry and not tester.is_command(text):
                text, retried = stt.transcribe_retry(audio), True
            t1 = time.perf_counter()
            tester.understander.forget()
            turn = tester.ask(text, dry_run=True) if text else None
            t2 = time.perf_counter()
            want = expected(labels[name])
            got = turn.slots if turn is not None and turn.intent == COFFEE_INTENT else {}
            ok = turn is not None and turn.intent == COFFEE_INTENT and got == want
            rows.append({"clip": name, "text": text, "retried": retried, "repair": list(repairs),
                         "leads": [list(v[2]) for v in leads],
                         "min_lead": min((x[3] for v in leads for x in v[2]), default=None),
                         "intent": turn.intent if turn else None, "slots": got,
                         "expected": want, "accepted": ok, "stt_ms": (t1 - t0) * 1000,
                         "understand_ms": (t2 - t1) * 1000,
                         "wrong_slots": sorted(k for k in set(want) | set(got) if want.get(k) != got.get(k))})
            accepted = sum(r["accepted"] for r in rows)
            sys.stderr.write(f"\r[{cond}] {i + 1}/{len(names)}  accepted {accepted}   ")
            sys.stderr.flush()
        sys.stderr.write("\n")
        results.append({"condition": cond, "snr_db": snr, "clips": len(rows),
                        "accepted": sum(r["accepted"] for r in rows),
                        "rate": 100.0 * sum(r["accepted"] for r in rows) / max(1, len(rows)),
                        "intent_rate": 100.0 * sum(r["intent"] == COFFEE_INTENT for r in rows)
                        / max(1, len(rows)),
                        "stt_ms_p50": statistics.median(r["stt_ms"] for r in rows),
                        "stt_ms_mean": statistics.mean(r["stt_ms"] for r in rows),
                        "stt_ms_p95": statistics.quantiles([r["stt_ms"] for r in rows], n=20)[-1]
                        if len(rows) > 1 else rows[0]["stt_ms"],
                        "retried": sum(r["retried"] for r in rows),
                        "understand_ms_p50": statistics.median(r["understand_ms"] for r in rows),
                        **outcomes(rows), "if_lead": {lead: outcomes(rows, lead) for lead in LEADS},
                        "rows": rows})
    other = false_orders(other_speech(eval_root, args.others), stt, tester.is_command, tester, COFFEE_INTENT,
                                 repairs) \
        if args.others else None
    tester.close()

    noisy = [r for r in results if r["snr_db"] is not None]
    order = {n: i for i, n in enumerate(sorted(labels))}
    for r in results:  # the two halves separately: sentences were tuned on dev only
        for half, parity in (("dev", 0), ("holdout", 1)):
            rows = [row for row in r["rows"] if order[row["clip"]] % 2 == parity]
            r[f"{half}_rate"] = 100.0 * sum(x["accepted"] for x in rows) / len(rows) if rows else None
    summary = {
        "split": args.split, "prompt": args.prompt, "beam": settings.stt.beam_size, "clips": len(names),
        "conditions": [{k: v for k, v in r.items() if k != "rows" or args.rows} for r in results],
        "noisy_average_rate": statistics.mean(r["rate"] for r in noisy) if noisy else None,
        "published": [{"engine": e, "rate": r} for e, r in PUBLISHED],
        "other_speech": other,
    }
    if args.json:
        if args.failures:
            summary["failures"] = [row for r in results for row in r["rows"] if not row["accepted"]]
        print(json.dumps(summary, indent=2))
        return 0
    model = settings.stt.model.name if settings.stt.model else "tiny.en"
    engine = f"Hearth: Whisper {model} (beam {settings.stt.beam_size}, prompt {args.prompt}) + templates"
    lines = [("engine", "audio", "commands", "accepted", "intent right")]

    def halves(r: dict[str, Any]) -> str:
        if args.split != "all" or r["dev_rate"] is None or r["holdout_rate"] is None:
            return ""
        return f" (dev {r['dev_rate']:.0f}%, holdout {r['holdout_rate']:.0f}%)"

    for r in results:
        lines.append((engine, r["condition"], str(r["clips"]),
                      f"{r['rate']:.1f}%{halves(r)} ({r['wrong']} wrong, {r['no_order']} no order)",
                      f"{r['intent_rate']:.1f}%"))
    if noisy:
        lines.append((engine, "kitchen noise, 24..6 dB mean", str(len(names)),
                      f"{summary['noisy_average_rate']:.1f}%", ""))
    for e, rate in PUBLISHED:
        lines.append((e, "cafe+kitchen noise, 24..6 dB mean (published)", "619", f"{rate:.1f}%", ""))
    widths = [max(len(row[i]) for row in lines) for i in range(5)]
    for j, row in enumerate(lines):
        cells = enumerate(zip(row, widths, strict=True))
        print("  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in cells))
        if j == 0:
            print("  ".join("-" * w for w in widths))
    if any(r["min_lead"] is not None for res in results for r in res["rows"]):
        print("\nas if the slot scoring had asked below a lead of (nats): right / wrong / no order")
        for res in results:
            print(f"  {res['condition']}: " + ", ".join(
                f"{lead:g}: {o['right']}/{o['wrong']}/{o['no_order']}" for lead, o in res["if_lead"].items()))
    clean = results[0]
    if other is not None:
        print(f"\nother speech (SLURP devel, Piper): {other['false_orders']} of {other['clips']} came out "
              "as a coffee order")
    if args.prompt == "retry":
        print(f"\nretried with the skills' words: {clean['retried']} of {clean['clips']}")
    print(f"\nspeech-to-text p50 {clean['stt_ms_p50']:.0f} ms, p95 {clean['stt_ms_p95']:.0f} ms "
          f"(mean {clean['stt_ms_mean']:.0f}), "
          "understanding p50 "
          f"{clean['understand_ms_p50']:.1f} ms per command ({args.split} split, {len(names)} clips)")
    if args.failures:
        for r in results:
            for row in r["rows"]:
                if not row["accepted"]:
                    print(f"[{r['condition']}] {row['text']!r}: {row['intent']} wrong {row['wrong_slots']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
