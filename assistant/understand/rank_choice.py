"""A multiple-choice ranker: the LLM reads the valid commands as lettered options and answers
with one letter (issue 13, item 5: grammar-constrained decoding over the home's commands).

The answer is constrained to the options' letters, as a llama.cpp grammar ``root ::= "A" |
"B" | ...`` would constrain it; rather than sample, the ranker reads the model's whole
distribution over those letters at the answer's one position (one decode, one row of
logits). Every option is read once, in the prompt, instead of being scored as a
continuation twice (request and prior) as :class:`~assistant.understand.ranking.LlmRanker`
does: fewer tokens, but the 135M model must now compare options it has read, not judge
one phrase at a time. The few-shot turns show the same format, their options drawn from
the other examples' answers.
"""

from __future__ import annotations

import random
import string
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.understand.candidates import NOT_A_COMMAND, Command
from assistant.understand.ranking import USER_TURN
from assistant.understand.shots import Shot

if TYPE_CHECKING:
    from assistant.llm.local import LocalLlm

SYSTEM = ("You are a smart home assistant. Answer with the letter of the one option that does "
          "what the user asks, or the letter of none when they are not asking you to control "
          "the home.")
LETTERS = string.ascii_uppercase


class ChoiceRanker:
    """Log-probability of each option's letter as the assistant's answer."""

    name = "choice"

    def __init__(self, llm: LocalLlm, shots: Sequence[Shot] = (), *, distractors: int = 3,
                 seed: int = 7, cache_dir: Path | None = None) -> None:
        self.llm = llm
        self.cache_dir = cache_dir
        self._letters = [llm.tokenize(c) for c in LETTERS]
        if any(len(t) != 1 for t in self._letters):
            raise ValueError("the model's vocabulary has no one-token letters for the options")
        self._prefix = self._render_prefix(list(shots), distractors, random.Random(seed))
        self._warm = False

    @staticmethod
    def _options(phrases: Sequence[str]) -> str:
        return "".join(f"\n{LETTERS[i]}. {p}" for i, p in enumerate(phrases))

    def _render_prefix(self, shots: list[Shot], distractors: int, rng: random.Random) -> str:
        parts = [f"<|im_start|>system\n{SYSTEM}<|im_end|>\n"]
        answers = sorted({s.answer for s in shots if s.answer != NOT_A_COMMAND.phrase})
        for s in shots:
            others = rng.sample([a for a in answers if a != s.answer], min(distractors, len(answers) - 1))
            phrases = [*others, s.answer] if s.answer != NOT_A_COMMAND.phrase else others
            rng.shuffle(phrases)
            phrases.append(NOT_A_COMMAND.phrase)  # "none" is always the last option, as in requests
            answer = LETTERS[phrases.index(s.answer)]
            parts.append(f"<|im_start|>user\n{s.user}{self._options(phrases)}<|im_end|>\n"
                         f"<|im_start|>assistant\n{answer}<|im_end|>\n")
        return "".join(parts)

    def prompt(self, text: str, commands: Sequence[Command]) -> list[int]:
        return self.llm.tokenize(f"{self._prefix}{USER_TURN}{text}"
                                 f"{self._options([c.phrase for c in commands])}<|im_end|>\n"
                                 "<|im_start|>assistant\n")

    def scores(self, text: str, commands: Sequence[Command]) -> list[float]:
        if len(commands) > len(LETTERS):
            raise ValueError(f"at most {len(LETTERS)} options, not {len(commands)}")
        if not self._warm:
            self.llm.warm_prefix(self.llm.tokenize(self._prefix + USER_TURN), self.cache_dir)
            self._warm = True
        # "none" last, as the examples show it; the scores go back in the callers' order
        order = sorted(range(len(commands)), key=lambda i: commands[i].intent is None)
        scored = self.llm.score(self.prompt(text, [commands[i] for i in order]),
                                self._letters[:len(commands)])
        out = [0.0] * len(commands)
        for i, s in zip(order, scored, strict=True):
            out[i] = s.logprob
        return out

    def close(self) -> None:
        self.llm.close()
