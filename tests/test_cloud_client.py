"""The cloud client's small parts: where the endpoint comes from, and sentence splitting."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from assistant.errors import CloudError
from assistant.llm.cloud import DEFAULT_MODEL, SentenceSplitter, resolve_endpoint
from assistant.privacy.settings import CloudSettings


def test_no_url_anywhere_means_no_cloud() -> None:
    assert resolve_endpoint(CloudSettings(), {}) is None


def test_env_fills_in_what_the_config_leaves_empty() -> None:
    env = {"HEARTH_CLOUD_URL": "http://127.0.0.1:8080/v1/", "HEARTH_CLOUD_MODEL": "qwen",
           "HEARTH_CLOUD_API_KEY": "sk-env"}
    ep = resolve_endpoint(CloudSettings(), env)
    assert ep is not None
    assert (ep.url, ep.model, ep.api_key) == ("http://127.0.0.1:8080/v1", "qwen", "sk-env")
    assert "sk-env" not in repr(ep)
    ep = resolve_endpoint(CloudSettings(url="http://127.0.0.1:1/v1", model="m",
                                        api_key=SecretStr("sk-file"), first_token_timeout_s=2.5),
                          env)
    assert ep is not None
    assert (ep.url, ep.model, ep.api_key, ep.first_token_timeout_s) == (
        "http://127.0.0.1:1/v1", "m", "sk-file", 2.5)
    ep = resolve_endpoint(CloudSettings(url="http://127.0.0.1:1/v1"), {})
    assert ep is not None and ep.model == DEFAULT_MODEL and ep.api_key is None


def test_a_bad_url_in_the_env_is_one_clear_error() -> None:
    with pytest.raises(CloudError, match="HEARTH_CLOUD_URL must start with http"):
        resolve_endpoint(CloudSettings(), {"HEARTH_CLOUD_URL": "cloud.example"})


def split(parts: list[str]) -> list[tuple[int, str]]:
    """(index of the part that completed it, sentence); index len(parts) = at the end."""
    splitter = SentenceSplitter()
    out = [(i, s) for i, p in enumerate(parts) for s in splitter.feed(p)]
    rest = splitter.flush()
    return out + ([(len(parts), rest)] if rest else [])


def test_a_sentence_is_out_as_soon_as_its_last_token_is() -> None:
    parts = ["Middle", "march", " was", " by", " George", " Eliot", ".", " It", " came", "!"]
    assert split(parts) == [(6, "Middlemarch was by George Eliot."), (9, "It came!")]


def test_numbers_abbreviations_and_initials_do_not_end_sentences() -> None:
    parts = ["It costs 3", ".", "5 pounds, Dr", ". Smith says", ", e.g", ". in J", ". K", ". Rowling",
             "'s books. Done"]
    assert split(parts) == [
        (8, "It costs 3.5 pounds, Dr. Smith says, e.g. in J. K. Rowling's books."),
        (9, "Done"),
    ]


def test_newlines_end_a_sentence_and_long_text_is_cut_at_a_comma() -> None:
    assert split(["one\n", "two"]) == [(0, "one"), (2, "two")]
    long = "word, " * 60
    sentences = [s for _, s in split([long])]
    assert all(len(s) <= 240 for s in sentences) and "".join(sentences).count("word") == 60


def test_only_the_audited_client_imports_openai() -> None:
    """A second OpenAI client elsewhere would be a path to the cloud around the audit log."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    pattern = re.compile(r"^\s*(?:import openai|from openai\b)|\bOpenAI\(", re.MULTILINE)
    offenders = [
        str(path.relative_to(root))
        for folder in ("assistant", "skills")
        for path in sorted((root / folder).rglob("*.py"))
        if path != root / "assistant" / "llm" / "cloud.py" and pattern.search(path.read_text())
    ]
    assert offenders == []
