"""A second stage for the wake word: hear the phrase in a short transcript of the wake window.

openWakeWord's ``hey_jarvis`` scores "Jarvis" alone as high as "Hey Jarvis" (68 of 120
real "Jarvis" clips woke it, 60 even at threshold 0.95), so no threshold separates them.
Whisper tiny.en does: it writes "Jarvis." for one and "Hey Jarvis." for the other. It
runs only on a first-stage candidate (~0.3-0.6 s), never on every chunk.
"""

from __future__ import annotations

import difflib
import logging
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from assistant.audio.chunk import Samples, to_float
from assistant.config import SttSettings, WakeModelSettings
from assistant.errors import ModelError, WakeError
from assistant.models import bundled_path, require_file

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Verdict:
    accepted: bool
    text: str
    """What the second stage heard (empty when it did not transcribe)."""
    verify_ms: float = 0.0


class Verifier(Protocol):
    """Decides whether the audio of a wake window really holds the model's phrase.

    ``peak`` is the first stage's highest score for the candidate."""

    def verify(self, model: WakeModelSettings, samples: Samples, peak: float) -> Verdict: ...


def wake_phrase(model: WakeModelSettings) -> str | None:
    """The words to hear: the configured phrase, else a bundled model's name as words."""
    from assistant.config import model_name_is_bundled

    if model.phrase:
        return model.phrase
    if model.path is None and model_name_is_bundled(model.name):
        return model.name.replace("_", " ")
    return None


_WORD = re.compile(r"[a-z0-9']+")


def words(text: str) -> list[str]:
    """Lower-case words, a word repeated at once kept once (a short Whisper context can
    loop: "Jarvis Jarvis")."""
    out: list[str] = []
    for w in _WORD.findall(text.lower().replace("-", " ")):
        if not out or out[-1] != w:
            out.append(w)
    return out


_SOUNDEX = {c: d for d, letters in enumerate(("aeiouyhw", "bfpv", "cgjkqsxz", "dt", "l", "mn", "r"))
            for c in letters}


def soundex(word: str) -> str:
    """The classic sound key: "hey"/"hi"/"hay" -> h000, "jarvis"/"jervis" -> j612."""
    w = "".join(c for c in word.lower() if c.isalpha())
    if not w:
        return ""
    out, last = w[0], _SOUNDEX.get(w[0], 0)
    for c in w[1:]:
        d = _SOUNDEX.get(c, 0)
        if d and d != last:
            out += str(d)
        if c not in "hw":
            last = d
    return (out + "000")[:4]


def word_similarity(a: str, b: str) -> float:
    """Spelling similarity, or 1 when both words sound alike by their soundex key."""
    if soundex(a) == soundex(b):
        return 1.0
    return difflib.SequenceMatcher(None, a, b).ratio()


def phrase_similarity(phrase: str, text: str) -> float:
    """How well some run of words in ``text`` says ``phrase`` (0..1).

    Every word of the phrase must be matched, in order, by the next word of the text
    (its weakest word decides), so "jarvis" alone does not pass for "hey jarvis". Runs
    of words are also compared joined up, for "heyjarvis" or "jar vis", but that must
    be a near-exact spelling, as half a phrase already spells most of it.
    """
    target = words(phrase)
    ws = words(text)
    n = len(target)
    best = 0.0
    for i in range(len(ws) - n + 1):
        best = max(best, min(word_similarity(p, w) for p, w in zip(target, ws[i : i + n], strict=True)))
    joined = "".join(target)
    for size in range(1, n + 2):
        for i in range(len(ws) - size + 1):
            ratio = difflib.SequenceMatcher(None, joined, "".join(ws[i : i + size])).ratio()
            if ratio >= 0.9:
                best = max(best, ratio)
    return best


def heard_near_miss(phrase: str, text: str, *, min_similarity: float = 0.6) -> bool:
    """The transcript starts with the phrase's last word: "Jarvis" said without "Hey".

    Only phrases of two or more words have this near miss."""
    target = words(phrase)
    ws = words(text)
    return len(target) > 1 and bool(ws) and word_similarity(target[-1], ws[0]) >= min_similarity


def without_own_words(text: str, reply: str) -> str:
    """The transcript without the words it starts with that the assistant was saying: over
    a reply, Whisper hears the reply's words before the person's ("your pasta timer is
    Jarvis, turn…"), which would hide the near miss from :func:`heard_near_miss`."""
    own = set(words(reply))
    heard = words(text)
    start = 0
    while start < len(heard) and heard[start] in own:
        start += 1
    return " ".join(heard[start:])


def accept(model: WakeModelSettings, text: str, peak: float, min_similarity: float) -> bool:
    """The second stage's rule: the phrase was heard; or the first stage was sure (peak at
    or above the model's ``threshold``) and the transcript is not the near miss."""
    phrase = wake_phrase(model)
    if phrase is None:
        return True
    if phrase_similarity(phrase, text) >= min_similarity:
        return True
    return peak >= model.threshold and not heard_near_miss(phrase, text)


def accept_over_reply(model: WakeModelSettings, text: str, reply: str, peak: float,
                      min_similarity: float) -> bool:
    """:func:`accept` while the assistant says ``reply``: the phrase heard anywhere still
    wakes it; otherwise the near miss is looked for past the reply's own words."""
    phrase = wake_phrase(model)
    if phrase is None or phrase_similarity(phrase, text) >= min_similarity:
        return True
    return accept(model, without_own_words(text, reply), peak, min_similarity)


class WhisperPhraseVerifier:
    """faster-whisper, unprompted (a prompt would make it hear the phrase), on the window."""

    def __init__(self, stt: SttSettings, *, min_similarity: float = 0.8, context_s: float = 8.0,
                 model: Any | None = None) -> None:
        """``model``: an already loaded faster-whisper ``WhisperModel`` to share (the loop
        never transcribes a command while it verifies a wake word)."""
        self._model = model if model is not None else self._load(stt)
        from faster_whisper.tokenizer import Tokenizer
        from faster_whisper.transcribe import get_suppressed_tokens

        multilingual = bool(self._model.model.is_multilingual)
        self._tok = Tokenizer(self._model.hf_tokenizer, multilingual, task="transcribe",
                              language=stt.language if multilingual else None)
        self._prompt = [*self._tok.sot_sequence, self._tok.no_timestamps]
        self._suppress = list(get_suppressed_tokens(self._tok, [-1]))
        self.min_similarity = min_similarity
        self.context_s = context_s

    @staticmethod
    def _load(stt: SttSettings) -> Any:
        from faster_whisper import WhisperModel

        folder = (require_file(stt.model, "speech-to-text") if stt.model is not None
                  else bundled_path("whisper-tiny.en").parent)
        if not (Path(folder) / "model.bin").is_file():
            raise ModelError(f"speech-to-text model folder {folder} has no model.bin "
                             "(expected a CTranslate2 Whisper model)", code="model_invalid")
        try:
            return WhisperModel(str(folder), device="cpu", compute_type=stt.compute_type,
                                cpu_threads=stt.threads)
        except Exception as exc:  # CTranslate2 raises RuntimeError/ValueError for bad files
            raise ModelError(f"cannot load speech-to-text model {folder}: {str(exc)[:200]}",
                             code="model_corrupt") from None

    def transcribe(self, samples: Samples) -> str:
        """Greedy Whisper on a short context: the window padded to ``context_s``, not 30 s.

        The encoder's cost grows with its input; Whisper reads a wake window padded to
        8 s as well as padded to 30 s (measured by bench/bench_wake.py), ~4x faster.
        """
        if len(samples) == 0:
            return ""
        import ctranslate2

        audio = to_float(samples)
        n = max(len(audio), int(self.context_s * 16000))
        audio = np.concatenate([audio, np.zeros(n - len(audio), np.float32)])
        try:
            feats = self._model.feature_extractor(audio)[:, : int(self.context_s * 100)]
            x = ctranslate2.StorageView.from_array(np.ascontiguousarray(feats[None], dtype=np.float32))
            result = self._model.model.generate(x, [self._prompt], beam_size=1, max_length=24,
                                                suppress_blank=True, suppress_tokens=self._suppress)
        except Exception as exc:
            raise WakeError(f"wake word verification failed: {exc}", code="verify_failed") from None
        ids = [t for t in result[0].sequences_ids[0] if t < self._tok.eot]
        return str(self._tok.decode(ids)).strip()

    def verify(self, model: WakeModelSettings, samples: Samples, peak: float) -> Verdict:
        if wake_phrase(model) is None:
            return Verdict(True, "")
        t0 = time.perf_counter()
        text = self.transcribe(samples)
        ms = (time.perf_counter() - t0) * 1000.0
        ok = accept(model, text, peak, self.min_similarity)
        log.info("wake %s: second stage heard %r -> %s (%.0f ms)", model.name, text,
                 "accept" if ok else "reject", ms)
        return Verdict(ok, text, ms)

    def warm_up(self) -> None:
        self.transcribe(np.zeros(16000, np.int16))
