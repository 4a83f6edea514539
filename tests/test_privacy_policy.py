"""The privacy policy as a pure function, the policy files, and minimisation of the payload."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.config import configs_dir, load_settings
from assistant.errors import ConfigError
from assistant.home.demo import DemoHome
from assistant.privacy.minimise import NO_HOME_PROMPT, TOOL_NAME, build_payload
from assistant.privacy.policy import CloudRequest, detect_topics, evaluate
from assistant.privacy.settings import PolicyRule, PrivacySettings

TOPICS = {
    "health": ("doctor", "medic*", "blood pressure"),
    "money": ("bank*", "salary"),
    "general_knowledge": ("who wrote", "what is", "recipe*"),
    "home": ("light", "lights"),
}


def policy(mode: str = "allow", default: str = "deny", **kw: object) -> PrivacySettings:
    rules = (
        PolicyRule(name="no-health", topics=("health",), effect="deny", reply="Health stays home."),
        PolicyRule(name="no-money", topics=("money",), effect="deny"),
        PolicyRule(name="weather-skill", skills=("weather",), effect="allow"),
        PolicyRule(name="any-skill-asks", skills=("*",), effect="ask"),
        PolicyRule(name="timers-never", intents=("HassStartTimer",), effect="deny"),
        PolicyRule(name="home-help", topics=("home",), effect="allow", share_entity_names=True),
        PolicyRule(name="general", topics=("general_knowledge",), effect="allow", redact=("time",)),
    )
    return PrivacySettings(mode=mode, default=default, rules=rules, topics=TOPICS, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "topics"),
    [
        ("who wrote Middlemarch", ("general_knowledge",)),
        ("my doctor's number", ("health",)),
        ("what is a good MEDICATION for sleep", ("health", "general_knowledge")),
        ("check my blood   pressure", ("health",)),
        ("my bankers say", ("money",)),
        ("nothing to see", ()),
        ("a lighthouse", ()),  # whole words: "light" is not in "lighthouse"
    ],
)
def test_topics_are_whole_words_with_prefixes(text: str, topics: tuple[str, ...]) -> None:
    assert detect_topics(text, TOPICS) == topics


def test_local_only_denies_everything_and_says_why() -> None:
    for text in ("who wrote Middlemarch", "my doctor", "anything at all"):
        d = evaluate(CloudRequest(text), policy(mode="local_only"))
        assert d.verdict == "deny" and d.rule == "mode:local_only"
        assert d.reply is None  # nothing to add to the local answer


def test_first_matching_rule_decides() -> None:
    d = evaluate(CloudRequest("what is the doctor's advice on sleep"), policy())
    assert (d.verdict, d.rule, d.reply) == ("deny", "rule:no-health", "Health stays home.")
    d = evaluate(CloudRequest("who wrote Middlemarch"), policy())
    assert (d.verdict, d.rule) == ("send", "rule:general")
    assert "time" in d.redact and "person" in d.redact
    assert not d.share_entity_names


def test_rule_without_reply_uses_the_default_denial() -> None:
    d = evaluate(CloudRequest("what is my salary"), policy(denied_reply="Not from me."))
    assert (d.rule, d.reply) == ("rule:no-money", "Not from me.")


def test_default_applies_when_no_rule_matches() -> None:
    assert evaluate(CloudRequest("sing"), policy(default="deny")).rule == "default"
    assert evaluate(CloudRequest("sing"), policy(default="deny")).verdict == "deny"
    assert evaluate(CloudRequest("sing"), policy(default="allow")).verdict == "send"
    assert evaluate(CloudRequest("sing"), policy(default="ask")).verdict == "ask"


def test_mode_ask_turns_allow_into_ask_but_never_deny_into_ask() -> None:
    assert evaluate(CloudRequest("who wrote Middlemarch"), policy(mode="ask")).verdict == "ask"
    assert evaluate(CloudRequest("my doctor"), policy(mode="ask")).verdict == "deny"


def test_rules_by_skill_and_intent() -> None:
    p = policy()
    assert evaluate(CloudRequest("will it rain", skill="weather"), p).rule == "rule:weather-skill"
    assert evaluate(CloudRequest("will it rain", skill="radio"), p).rule == "rule:any-skill-asks"
    assert evaluate(CloudRequest("will it rain", skill="radio"), p).verdict == "ask"
    assert (
        evaluate(CloudRequest("will it rain"), p).rule == "default"
    )  # no skill: "*" does not match
    assert evaluate(CloudRequest("set a timer", intent="HassStartTimer"), p).verdict == "deny"


def test_audio_never_leaves_whatever_the_mode() -> None:
    for mode in ("allow", "ask", "local_only"):
        d = evaluate(CloudRequest("who wrote Middlemarch", modality="audio"), policy(mode=mode))
        assert (d.verdict, d.rule) == ("deny", "builtin:audio_never_leaves")


def test_evaluate_is_pure() -> None:
    p = policy()
    request = CloudRequest("who wrote Middlemarch")
    assert evaluate(request, p) == evaluate(request, p)


def test_only_rules_that_share_names_share_them() -> None:
    d = evaluate(CloudRequest("turn the lights to a cosy glow"), policy())
    assert d.rule == "rule:home-help" and d.share_entity_names and not d.share_home_state


# ------------------------------------------------------------------ settings / files ---


def test_unknown_topic_in_a_rule_is_a_config_error() -> None:
    with pytest.raises(ValueError, match="unknown topic"):
        PrivacySettings(rules=(PolicyRule(name="x", topics=("nope",), effect="deny"),))


def test_home_state_needs_entity_names() -> None:
    with pytest.raises(ValueError, match="share_home_state needs share_entity_names"):
        PolicyRule(name="x", effect="allow", share_home_state=True)


def test_packaged_policy_loads_with_default_config(tmp_path: Path) -> None:
    settings = load_settings(data_dir=str(tmp_path))
    assert settings.privacy.policy == configs_dir() / "privacy.toml"
    assert settings.privacy.mode == "ask"
    names = [r.name for r in settings.privacy.rules]
    assert names[:2] == ["no-health", "no-money"]


@pytest.mark.parametrize(
    "example", sorted((configs_dir() / "privacy-examples").glob("*.toml")), ids=lambda p: p.name
)
def test_every_example_policy_is_valid(example: Path, tmp_path: Path) -> None:
    cfg = tmp_path / "hearth.toml"
    cfg.write_text(f'[privacy]\npolicy = "{example}"\n')
    settings = load_settings(cfg)
    assert settings.privacy.policy == example
    assert settings.privacy.rules or settings.privacy.mode == "local_only"


def test_inline_keys_override_the_policy_file(tmp_path: Path) -> None:
    cfg = tmp_path / "hearth.toml"
    cfg.write_text(f'[privacy]\npolicy = "{configs_dir() / "privacy.toml"}"\nmode = "local_only"\n')
    assert load_settings(cfg).privacy.mode == "local_only"


def test_a_broken_policy_file_names_itself(tmp_path: Path) -> None:
    bad = tmp_path / "policy.toml"
    bad.write_text('mode = "sometimes"\n')
    cfg = tmp_path / "hearth.toml"
    cfg.write_text('[privacy]\npolicy = "policy.toml"\n')
    with pytest.raises(ConfigError, match=r"privacy policy .*policy.toml: mode"):
        load_settings(cfg)
    cfg.write_text('[privacy]\npolicy = "missing.toml"\n')
    with pytest.raises(ConfigError, match="privacy policy file not found"):
        load_settings(cfg)


def test_cloud_url_must_be_http(tmp_path: Path) -> None:
    cfg = tmp_path / "hearth.toml"
    cfg.write_text('[cloud]\nurl = "ftp://example"\n')
    with pytest.raises(ConfigError, match="cloud"):
        load_settings(cfg)


# ------------------------------------------------------------------ minimisation -------


@pytest.fixture
def home(tmp_path: Path) -> Iterator[DemoHome]:
    h = DemoHome(configs_dir() / "demo_home.yaml", tmp_path / "home.sqlite")
    yield h
    h.close()


def test_no_home_knowledge_unless_a_rule_shares_it(home: DemoHome) -> None:
    p = policy()
    d = evaluate(CloudRequest("who wrote Middlemarch"), p)
    payload = build_payload("who wrote Middlemarch", d, home, p, area="living_room")
    text = str(payload.messages)
    assert NO_HOME_PROMPT in text
    for entity in home.entities():
        assert entity.entity_id not in text and entity.name not in text
    assert "Living Room" not in text
    assert payload.tools == () and payload.entities == ()
    assert payload.messages[-1] == {"role": "user", "content": "who wrote Middlemarch"}


def test_shared_names_are_limited_to_cloud_entities_and_states_stay_home(home: DemoHome) -> None:
    p = policy(cloud_entities=("light.*",))
    d = evaluate(CloudRequest("make the lights cosy"), p)
    payload = build_payload("make the lights cosy", d, home, p, area="living_room")
    system = payload.messages[0]["content"]
    assert "light.kitchen" in system and "Kitchen Light" in system
    assert "lock.front_door" not in system and "switch.tv" not in system
    assert ": on" not in system and ": off" not in system  # no states
    assert set(payload.entities) == {e.entity_id for e in home.entities() if e.domain == "light"}
    tool = payload.tools[0]["function"]
    assert tool["name"] == TOOL_NAME
    assert set(tool["parameters"]["properties"]["entity_id"]["enum"]) == set(payload.entities)


def test_home_state_only_when_the_rule_allows(home: DemoHome) -> None:
    rules = (
        PolicyRule(name="all", effect="allow", share_entity_names=True, share_home_state=True),
    )
    p = PrivacySettings(mode="allow", rules=rules, cloud_entities=("light.kitchen",))
    d = evaluate(CloudRequest("anything"), p)
    system = build_payload("anything", d, home, p).messages[0]["content"]
    assert "light.kitchen (Kitchen Light, Kitchen): off" in system
