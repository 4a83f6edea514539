"""faster-whisper (CTranslate2) with the bundled tiny.en, biased toward the home's names."""

from __future__ import annotations

import hashlib
import logging
import math
import re
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from assistant.address import strip_address
from assistant.audio.chunk import SAMPLE_RATE, Samples, to_float
from assistant.config import SttSettings
from assistant.errors import ModelError, SttError
from assistant.models import bundled_path, quiet_openmp, require_file
from assistant.stt.grammar import PhraseGraph, Repair, join_words, settle, words_of

log = logging.getLogger(__name__)

ENCODED_KEPT = 3
"""Encoder outputs kept (~0.8 MB each for tiny.en's 10 s window): the decode asked for as
the speech stopped, the one of the speech before it, and one more."""

ALIGN_BATCH = 4
"""Sentences scored together against the audio: CTranslate2's align costs more per sentence
in a large batch (47 slot rivals: 4.3 s at once, 1.7 s four at a time, load 4)."""

def _sentence(words: str) -> str:
    """A grammar sentence's words written as Whisper writes a transcript."""
    return words[:1].upper() + words[1:] + "."


_LEADING_FRAGMENT = re.compile(r"^\s*[\w'-]+(?:\s+[\w'-]+)?\s*[,.!?]\s+(?=\S+\s+\S+\s+\S+)")


def strip_wake_phrase(text: str) -> str:
    """Whisper often hears the end of the wake phrase ("Jarvis, turn on ...", "vis, turn
    on ..."); it is not part of the command. The name goes as :func:`strip_address`
    takes it off any text; besides, a one- or two-word fragment before a comma at the
    very start of a longer command is that tail, however it was spelled."""
    rest = _LEADING_FRAGMENT.sub("", strip_address(text), count=1).strip()
    return rest[:1].upper() + rest[1:] if rest != text.strip() else rest


def drop_repeats(text: str) -> str:
    """A short window can make Whisper say the command again ("Open the blinds. Open the
    blinds, open the ..."): keep it once. Cuts where the words start over. Whisper's other
    loop, a phrase said over and over ("the coffee maker, coffee maker, coffee maker, …"),
    is kept once too (three times or more in a row; twice can be meant)."""
    words = text.split()
    norm = [re.sub(r"[^\w%']", "", w).lower() for w in words]
    for start in range(2, len(norm) - 1):
        span = min(3, len(norm) - start)
        if span >= 2 and norm[start:start + span] == norm[:span]:
            return _end_sentence(" ".join(words[:start]))
    return _end_sentence(_drop_loops(words, norm) if len(words) >= 3 else text)


def _drop_loops(words: list[str], norm: list[str]) -> str:
    i = 0
    kept: list[str] = []
    while i < len(words):
        for n in range(1, 7):
            copies = 1
            while (i + (copies + 1) * n <= len(norm)
                   and norm[i:i + n] == norm[i + copies * n:i + (copies + 1) * n]):
                copies += 1
            if copies >= 3:
                kept.extend(words[i + (copies - 1) * n:i + copies * n])  # the last copy, with its punctuation
                i += copies * n
                break
        else:
            kept.append(words[i])
            i += 1
    return " ".join(kept)


def _end_sentence(text: str) -> str:
    """A command cut short ends with a full stop, not a dangling comma."""
    text = text.strip().rstrip(",;")
    return text + "." if text and text[-1].isalnum() else text


def bias_prompt(names: list[str]) -> str:
    """An initial prompt that makes the home's own words likely (and sets the style)."""
    return "Hey Jarvis, turn on the " + ", ".join(dict.fromkeys(n.lower() for n in names)) + "."


def bias_prompts(names: list[str], skill_words: list[str]) -> tuple[str, str | None]:
    """The first hearing's prompt (the home's names) and the retry's (the skills' words
    too; none without them): the plain commands are not pulled toward a skill's words."""
    return bias_prompt(names), (bias_prompt(names + skill_words) if skill_words else None)


Accepts = Callable[[str], bool]
"""Whether a transcript is a whole command (matches a sentence template): the grammar in play."""


class WhisperStt:
    def __init__(self, settings: SttSettings, *, prompt: str | None = None,
                 retry_prompt: str | None = None, accepts: Accepts | None = None,
                 phrases: PhraseGraph | None = None) -> None:
        quiet_openmp()
        from faster_whisper import WhisperModel

        if settings.model is not None:
            folder = require_file(settings.model, "speech-to-text")
        else:
            folder = bundled_path("whisper-tiny.en").parent
        if not (Path(folder) / "model.bin").is_file():
            raise ModelError(f"speech-to-text model folder {folder} has no model.bin "
                             "(expected a CTranslate2 Whisper model)", code="model_invalid")
        try:
            self._model = WhisperModel(str(folder), device="cpu", compute_type=settings.compute_type,
                                       cpu_threads=settings.threads)
        except Exception as exc:  # CTranslate2 raises RuntimeError/ValueError for bad files
            raise ModelError(f"cannot load speech-to-text model {folder}: {str(exc)[:200]}",
                             code="model_corrupt") from None
        self.settings = settings
        self._encoded: dict[tuple[float, int, bytes], Any] = {}  # oldest first
        self._encoded_lock = threading.Lock()
        from faster_whisper.tokenizer import Tokenizer

        self._tokenizer = Tokenizer(self._model.hf_tokenizer, self._model.model.is_multilingual,
                                    task="transcribe", language=settings.language)
        self.set_prompts(prompt, retry_prompt)
        self.accepts = accepts
        self.phrases = phrases

    def set_prompts(self, prompt: str | None, retry_prompt: str | None = None) -> None:
        """The words to expect (the home's names change when devices come and go)."""
        self.prompt = prompt
        self._prompt_tokens: list[int] = (
            self._tokenizer.encode(" " + prompt.strip()) if prompt else [])
        self._retry_tokens: list[int] | None = (
            self._tokenizer.encode(" " + retry_prompt.strip()) if retry_prompt else None)

    def transcribe(self, samples: Samples) -> str:
        """The text of a short command; empty for silence.

        Whisper always encodes a fixed window (30 s in stock Whisper), which costs the
        same for a 2 s command as for 30 s of speech. A command fits in
        ``settings.window_s`` (10 s by default), so the window is cut to that: the
        encoder runs ~5x faster with the same words (see the README's STT table).
        """
        return self._transcribe(samples, self._prompt_tokens)

    def transcribe_wide(self, samples: Samples) -> str:
        """Again, on stock Whisper's full 30 s window: 2-3x slower, but the short window
        mishears a word said just before a pause now and then ("set the bedroom light
        to" as "... light tube"), and a word a sentence cannot end on says "wait"."""
        return self._transcribe(samples, self._prompt_tokens, window_s=30.0)

    @property
    def model(self) -> Any:
        """The loaded faster-whisper model, for others to share (the wake second stage)."""
        return self._model

    @property
    def can_retry(self) -> bool:
        return self._retry_tokens is not None

    def transcribe_retry(self, samples: Samples) -> str:
        """Again, with the longer prompt (the skills' words too), for audio whose first
        transcript matched nothing. With ``retry_hypotheses`` > 1 and a grammar
        (``accepts``), a beam search's n-best list is read in score order and the first
        hypothesis the grammar accepts wins ("I won an eight ounce ..." loses to "I want
        an eight ounce ..." a little further down). None accepted: the skills' sentence
        nearest the best hypothesis (``phrases``), when Whisper finds it nearly as likely
        as what it heard ("Rural coffee ..." -> "brew a coffee ..."); else the best one.
        A repaired sentence's slots are then scored against their lists' other values
        (``slot_lead``): the likeliest wins, and "" when one is too close to call."""
        if len(samples) == 0:
            return ""
        tokens = self._retry_tokens or self._prompt_tokens
        n = self.settings.retry_hypotheses if self.accepts is not None else 1
        try:
            audio = to_float(samples)
            encoded, seconds = self._encode(audio, self.settings.window_s)
            heard = list(dict.fromkeys(self._clean(t) for t in self._generate(encoded, seconds, tokens, n)))
            chosen = next((t for t in heard if t and self.accepts and self.accepts(t)), None)
            if chosen is None and heard[0] and self.phrases is not None:
                repair = self._repair(encoded, seconds, heard[0])
                if repair is not None:
                    chosen = self._settle(encoded, seconds, repair)  # words Whisper did not say
                    if chosen is None:  # a slot too close to call: nothing to act on, not a guess
                        return ""
        except Exception as exc:
            raise SttError(f"transcription failed: {exc}") from None
        return chosen if chosen is not None else heard[0]

    def _repair(self, encoded: Any, seconds: float, heard: str) -> Repair | None:
        assert self.phrases is not None
        words = words_of(heard)
        repair = self.phrases.nearest(heard, max_cost=self.settings.repair_edits * len(words))
        if repair is None:
            return None
        plain = join_words(words)  # both spelled alike: only the words differ
        then, now = self._log_likelihood(encoded, seconds, [plain, repair.text])
        log.debug("repair %r -> %r (edits %.2f, log-likelihood %.2f -> %.2f)", heard, repair.text,
                  repair.cost, then, now)
        if now - then < -self.settings.repair_margin * len(words):
            return None
        return repair

    def _settle(self, encoded: Any, seconds: float, base: Repair) -> str | None:
        """Each slot of a repaired sentence against its list's other values, scored
        against the audio: the likeliest value wins; a thin lead means None (a wrong
        coffee is worse than "say that again"). An n-best hypothesis is not scored: it is
        Whisper's own sentence, its beam already weighed the rivals (and each costs a pass)."""
        if not base.spans or self.settings.slot_lead <= 0:
            return _sentence(base.text)
        rivals = base.rivals()
        scores = self._log_likelihood(encoded, seconds, [base.text, *(r.text for r in rivals)])
        verdict = settle(base, scores[0], rivals, scores[1:])
        log.debug("slots %r -> %r (leads %s)", base.text, verdict.text, verdict.leads)
        if verdict.doubts(self.settings.slot_lead):
            return None
        return _sentence(verdict.text)

    def _log_likelihood(self, encoded: Any, seconds: float, texts: list[str]) -> list[float]:
        """How likely Whisper finds each text for this audio (teacher-forced, summed)."""
        import ctranslate2

        frames = int(seconds * 100)
        scores: list[float] = []
        for start in range(0, len(texts), ALIGN_BATCH):
            part = texts[start:start + ALIGN_BATCH]
            batch = ctranslate2.StorageView.from_array(np.repeat(np.asarray(encoded), len(part), axis=0))
            tokens = [self._tokenizer.encode(" " + t) for t in part]
            results = self._model.model.align(batch, self._tokenizer.sot_sequence, tokens,
                                              [frames] * len(part))
            scores += [float(np.log(np.maximum(np.asarray(r.text_token_probs), 1e-12)).sum())
                       for r in results]
        return scores

    def _transcribe(self, samples: Samples, prompt_tokens: list[int], *,
                    window_s: float | None = None) -> str:
        if len(samples) == 0:
            return ""
        try:
            audio = to_float(samples)
            encoded, seconds = self._encode(audio, window_s or self.settings.window_s)
            return self._clean(self._generate(encoded, seconds, prompt_tokens, 1)[0])
        except Exception as exc:
            raise SttError(f"transcription failed: {exc}") from None

    @staticmethod
    def _clean(text: str) -> str:
        return strip_wake_phrase(drop_repeats(text))

    def _encode(self, audio: npt.NDArray[np.float32], window_s: float) -> tuple[Any, float]:
        """Whisper's encoder on the window; the last few are kept: a second look (the
        retry's other prompt and n-best) hears the audio the first decode encoded."""
        seconds = len(audio) / SAMPLE_RATE
        window = min(30.0, max(window_s, math.ceil(seconds + 1.0)))
        key = (window, len(audio), hashlib.blake2b(audio.tobytes(), digest_size=16).digest())
        with self._encoded_lock:
            if key in self._encoded:
                return self._encoded[key], seconds
        padded = np.zeros(int(window * SAMPLE_RATE), np.float32)
        padded[: min(len(audio), len(padded))] = audio[: len(padded)]
        features = self._model.feature_extractor(padded)[:, : int(window * 100)]
        encoded = self._model.encode(features)
        with self._encoded_lock:
            self._encoded[key] = encoded
            while len(self._encoded) > ENCODED_KEPT:
                del self._encoded[next(iter(self._encoded))]
        return encoded, seconds

    def _generate(self, encoded: Any, seconds: float, prompt_tokens: list[int],
                  hypotheses: int) -> list[str]:
        prompt = self._model.get_prompt(self._tokenizer, prompt_tokens, without_timestamps=True)
        result = self._model.model.generate(
            encoded,
            [prompt],
            beam_size=max(self.settings.beam_size, hypotheses),
            num_hypotheses=hypotheses,
            max_length=len(prompt) + int(12 + 8 * seconds),
            return_no_speech_prob=True,
            suppress_blank=True,
            suppress_tokens=[-1],
        )[0]
        if result.no_speech_prob > 0.8:
            return [""]
        eot = self._tokenizer.eot
        return [str(self._tokenizer.decode([t for t in seq if t < eot])).strip()
                for seq in result.sequences_ids]

    def warm_up(self) -> None:
        self.transcribe(np.zeros(16000, np.int16))
