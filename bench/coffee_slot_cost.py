"""What the slot scoring costs: in one process, clip by clip, the teacher-forced batch of a
sentence and its rivals (each slot's other values said their first way, as
``WhisperStt`` scores them, and every way) against the retry's n-best decode of the same
audio. Our own orders (``bench/coffee_voices.py``); each label's sentence is the one scored.

    .venv/bin/python bench/coffee_slot_cost.py [--data out/coffee-voices] [--clips 20]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
for _p in (REPO, REPO / "skills" / "coffee"):
    sys.path.insert(0, str(_p))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=REPO / "out" / "coffee-voices")
    ap.add_argument("--clips", type=int, default=20)
    args = ap.parse_args()
    if not (args.data / "labels.json").is_file():
        sys.stderr.write(f"coffee_slot_cost: no labels.json in {args.data} (run bench/coffee_voices.py)\n")
        return 2
    from assistant.audio.chunk import to_float
    from assistant.audio.files import read_audio
    from assistant.skills.testing import SkillTester
    from assistant.stt.grammar import PhraseGraph, Rival, join_words
    from assistant.stt.whisper import WhisperStt

    tester = SkillTester(builtin=True, data_dir=tempfile.mkdtemp(prefix="hearth-slot-cost-"))
    home, words = tester.stt_prompts()
    phrases = PhraseGraph(tester.registry.sentences())
    stt = WhisperStt(tester.settings.stt, prompt=home, retry_prompt=words, accepts=tester.is_command,
                     phrases=phrases)
    labels = json.loads((args.data / "labels.json").read_text(encoding="utf-8"))
    timings: dict[str, list[float]] = {"first forms": [], "every form": [], "n-best decode": []}
    sizes: dict[str, list[int]] = {"first forms": [], "every form": []}
    for name in sorted(labels)[: 2 * args.clips: 2]:
        base = phrases.nearest(labels[name]["text"], max_cost=0.0)
        if base is None:
            continue
        encoded, seconds = stt._encode(to_float(read_audio(args.data / name)), stt.settings.window_s)
        every = [Rival(s, v, f, join_words((*base.words[: s.start], *f, *base.words[s.end:])))
                 for s in base.spans for f, v in s.said.choices if f != s.said.words]
        for kind, rivals in (("first forms", base.rivals()), ("every form", every)):
            t0 = time.perf_counter()
            stt._log_likelihood(encoded, seconds, [base.text, *(r.text for r in rivals)])
            timings[kind].append((time.perf_counter() - t0) * 1000)
            sizes[kind].append(len(rivals))
        t0 = time.perf_counter()
        stt._generate(encoded, seconds, stt._retry_tokens or [], stt.settings.retry_hypotheses)
        timings["n-best decode"].append((time.perf_counter() - t0) * 1000)
    tester.close()
    for kind, ms in timings.items():
        n = f", {statistics.median(sizes[kind]):g} rivals (median)" if kind in sizes else ""
        print(f"{kind}: p50 {statistics.median(ms):.0f} ms over {len(ms)} clips{n}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
