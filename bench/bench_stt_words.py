"""Word error on plain home commands, Whisper alone, the voice loop's way: does biasing
toward the skills' sentences (the retry's n-best list and the repair) hurt commands that
are not coffee orders?

The clips are bench_hearing's commands whose words are known (two real recordings, the
Piper voice, espeak-ng voices, commands said with a 0.6 s pause), clean and with kitchen
noise. Each is transcribed with the home's names as the prompt; a transcript no sentence
accepts is heard again the way ``[stt]`` says (``retry_hypotheses``, ``repair_*``), and
both ways are scored: without the retry, with a one-hypothesis retry and no repair (the
loop before this work), and with the settings'.

    .venv/bin/python bench/bench_stt_words.py [--noise] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
for _p in (REPO, REPO / "bench"):
    sys.path.insert(0, str(_p))

from bench_coffee import mix  # noqa: E402
from bench_hearing import make_clips, word_errors  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--noise", action="store_true", help="also with kitchen noise at 20/10/5 dB")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    from _common import eval_data_dir

    from assistant.audio.files import read_audio
    from assistant.skills.testing import SkillTester
    from assistant.stt.grammar import PhraseGraph
    from assistant.stt.whisper import WhisperStt

    data = eval_data_dir()
    tester = SkillTester(builtin=True, data_dir=tempfile.mkdtemp(prefix="hearth-bench-words-"))
    settings = tester.settings
    clips = [c for c in make_clips(settings, data, coffee_every=10_000) if c["text"]]
    prompt, retry_prompt = tester.stt_prompts()

    def stt(hypotheses: int, repair: bool) -> WhisperStt:
        stt_settings = settings.stt.model_copy(update={"retry_hypotheses": hypotheses})
        return WhisperStt(stt_settings, prompt=prompt, retry_prompt=retry_prompt, accepts=tester.is_command,
                          phrases=PhraseGraph(tester.registry.sentences()) if repair else None)

    ways = {"no retry": None, "retry: 1 hypothesis, no repair": stt(1, False),
            f"retry: {settings.stt.retry_hypotheses} hypotheses + repair (settings)":
            stt(settings.stt.retry_hypotheses, True)}
    first = next(s for s in ways.values() if s is not None)
    conditions: list[tuple[str, float | None]] = [("clean", None)]
    if args.noise:
        conditions += [(f"kitchen {snr} dB", float(snr)) for snr in (20, 10, 5)]
    noise = read_audio(data / "noise" / "doing_the_dishes.wav")
    out: list[dict[str, Any]] = []
    for cond, snr in conditions:
        totals: dict[str, list[float]] = {w: [0, 0, 0.0] for w in ways}  # edits, words, retry ms
        for i, clip in enumerate(clips):
            audio = clip["audio"] if snr is None else mix(clip["audio"], noise, snr, seed=i)
            text = first.transcribe(audio)
            for way, retry in ways.items():
                heard, ms = text, 0.0
                if retry is not None and not tester.is_command(text):
                    t0 = time.perf_counter()
                    heard = retry.transcribe_retry(audio)
                    ms = (time.perf_counter() - t0) * 1000
                edits, n = word_errors(clip["text"], heard)
                totals[way][0] += edits
                totals[way][1] += n
                totals[way][2] += ms
            sys.stderr.write(f"\r[{cond}] {i + 1}/{len(clips)}")
        sys.stderr.write("\n")
        for way, (all_edits, all_words, ms) in totals.items():
            out.append({"condition": cond, "way": way, "clips": len(clips),
                        "wer": 100.0 * all_edits / all_words,
                        "retry_ms_total": round(ms)})
    tester.close()
    if args.json:
        print(json.dumps(out, indent=2))
        return 0
    for row in out:
        print(f"{row['condition']:14} {row['way']:42} WER {row['wer']:5.1f}%  ({row['clips']} clips, "
              f"retries took {row['retry_ms_total']} ms in all)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
