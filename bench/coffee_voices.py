"""Coffee orders of our own, for developing without looking at the real recordings'
held-out half: sentences drawn at random from the benchmark's grammar
(``coffee_maker_context.yaml``: its expressions and slot values, nothing else), spoken by
the bundled Piper voice (varied speed and noise scales) and by espeak-ng voices (voices,
variants, speeds, pitches), written as a folder ``bench/bench_coffee.py --data`` reads:
one WAV per order and a ``labels.json`` in the benchmark's own format.

    .venv/bin/python bench/coffee_voices.py [--orders 120] [--seed 7] [--out out/coffee-voices]
    .venv/bin/python bench/bench_coffee.py --data out/coffee-voices --noise --snr 20 10 9 5

Kitchen noise is mixed in by bench_coffee (``--noise``), as for the real recordings.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

import numpy as np
import yaml

REPO = Path(__file__).resolve().parents[1]
for _p in (REPO, REPO / "bench"):
    sys.path.insert(0, str(_p))

from voices import ESPEAK_VARIANTS, ESPEAK_VOICES, Piper, espeak  # noqa: E402

_PART = re.compile(r"\[([^\]]*)\]|\$(\w+):(\w+)|(\S+)")


def draw(expressions: list[str], slots: dict[str, list[str]],
         rng: np.random.Generator) -> tuple[str, dict[str, str]]:
    """One sentence of the grammar and its slots. ``[a, b]`` is one of a or b, ``$kind:name``
    a value of slot list ``kind``; "a"/"an" is the one that fits the next word."""
    expression = expressions[int(rng.integers(len(expressions)))]
    words: list[str] = []
    label: dict[str, str] = {}
    for choice, kind, name, word in _PART.findall(expression):
        if choice:
            options = [o.strip() for o in choice.split(",")]
            words.append("<article>" if set(options) == {"a", "an"}
                         else options[int(rng.integers(len(options)))])
        elif kind:
            value = slots[kind][int(rng.integers(len(slots[kind])))]
            label[name] = value
            words.append(value)
        else:
            words.append(word)
    for i, w in enumerate(words):
        if w == "<article>":
            words[i] = "an" if words[i + 1][:1] in "aeiou8" else "a"
    return " ".join(words), label


def other_speech(eval_root: Path, n: int) -> list[tuple[str, Any]]:
    """``n`` SLURP devel sentences that are not coffee requests, spoken by Piper: speech a
    grammar-biased recogniser must not turn into orders."""
    from assistant.audio.chunk import to_int16

    rows = [json.loads(line) for line in
            (eval_root / "slu" / "slurp" / "devel.jsonl").read_text(encoding="utf-8").splitlines()]
    texts = sorted({r["sentence"] for r in rows if "coffee" not in r["intent"]})
    picked = [texts[int(i)] for i in np.random.default_rng(3).choice(len(texts), n, replace=False)]
    piper = Piper()
    return [(t, to_int16(piper.say(t))) for t in picked]


def false_orders(others: list[tuple[str, Any]], stt: Any, accepts: Any, tester: Any,
                 intent: str, repairs: list[Any]) -> dict[str, Any]:
    """Each sentence through the voice loop's two transcriptions; an order is a false one.
    ``repairs`` is where the bench collects what the grammar repair tried."""
    rows = []
    for said, audio in others:
        repairs.clear()
        text = stt.transcribe(audio)
        if not accepts(text):
            text = stt.transcribe_retry(audio)
        tester.understander.forget()
        turn = tester.ask(text, dry_run=True) if text else None
        rows.append({"said": said, "text": text, "intent": turn.intent if turn else None,
                     "repair": list(repairs)})
    wrong = [r for r in rows if r["intent"] == intent]
    return {"clips": len(rows), "false_orders": len(wrong), "false_order_rows": wrong, "rows": rows}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--orders", type=int, default=120, help="how many (a third Piper, the rest espeak-ng)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", type=Path, default=REPO / "out" / "coffee-voices")
    ap.add_argument("--grammar", type=Path,
                    help="coffee_maker_context.yaml (default: from $HEARTH_EVAL_DATA)")
    args = ap.parse_args()

    eval_root = Path(os.environ.get("HEARTH_EVAL_DATA", REPO.parent / "shared" / "eval-data"))
    grammar_path = args.grammar or eval_root / "commands" / "coffee_orders" / "coffee_maker_context.yaml"
    if not grammar_path.is_file():
        sys.stderr.write(f"coffee_voices: no grammar at {grammar_path} (set HEARTH_EVAL_DATA or --grammar)\n")
        return 2
    context = yaml.safe_load(grammar_path.read_text(encoding="utf-8"))["context"]
    expressions: list[str] = context["expressions"]["orderDrink"]
    slots: dict[str, list[str]] = context["slots"]

    from assistant.audio.chunk import SAMPLE_RATE, to_int16
    from assistant.audio.files import write_wav

    rng = np.random.default_rng(args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    piper = Piper()
    labels: dict[str, Any] = {}
    n_piper = args.orders // 3
    for i in range(args.orders):
        text, label = draw(expressions, slots, rng)
        if i < n_piper:
            audio = piper.say(text, length_scale=float(rng.uniform(0.8, 1.3)),
                              noise_scale=float(rng.uniform(0.3, 0.9)),
                              noise_w_scale=float(rng.uniform(0.4, 1.0)))
            voice = "piper"
        else:
            variant = ESPEAK_VARIANTS[int(rng.integers(len(ESPEAK_VARIANTS)))]
            voice = ESPEAK_VOICES[int(rng.integers(len(ESPEAK_VOICES)))] + (f"+{variant}" if variant else "")
            audio = espeak(text, args.out / "tmp.wav", voice=voice, speed=int(rng.integers(130, 200)),
                           pitch=int(rng.integers(25, 76)))
        audio = audio * float(10 ** (rng.uniform(-10, 0) / 20) * 0.9 / max(float(np.abs(audio).max()), 1e-6))
        pad = np.zeros(int(0.3 * SAMPLE_RATE), np.float32)
        name = f"order-{i:03d}.wav"
        write_wav(args.out / name, to_int16(np.concatenate([pad, audio, pad])))
        labels[name] = {"intent": "orderDrink", "slots": label, "text": text, "voice": voice}
        sys.stderr.write(f"\r{i + 1}/{args.orders}")
    sys.stderr.write("\n")
    (args.out / "labels.json").write_text(json.dumps(labels, indent=1), encoding="utf-8")
    print(f"{args.orders} orders in {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
