"""The domain and the actions agree: every response an action names exists in both languages, every action
is implemented, quick replies survive Rasa. (The profile slots and questions are generated from
policies/profile.yml: tests/scripts/test_make_domain.py.)"""

from __future__ import annotations

import re

import pytest

from actions.config import ACTIONS_DIR
from tests.actions.helpers import domain

RESPONSE_NAME = re.compile(r'response="(utter_\w+)"|response = "(utter_\w+)"|"(utter_\w+)"')
# quoted like a response name but Rasa's own: the bot event's metadata key that names its response
NOT_RESPONSES = {"utter_action"}


def _variations(name: str) -> list[dict]:
    return domain()["responses"][name]


def _response_names_in_actions() -> set[str]:
    names: set[str] = set()
    for path in ACTIONS_DIR.glob("*.py"):
        for match in RESPONSE_NAME.finditer(path.read_text(encoding="utf-8")):
            names.update(group for group in match.groups() if group)
    return names - NOT_RESPONSES


def test_every_response_the_actions_use_exists() -> None:
    used = _response_names_in_actions()
    assert {"utter_lead_eligible", "utter_rule_answer", "utter_handoff", "utter_clarify"} <= used
    missing = used - set(domain()["responses"])
    assert not missing


@pytest.mark.parametrize("name", sorted(domain()["responses"]))
def test_every_response_has_chinese_default_and_english_variation(name: str) -> None:
    variations = _variations(name)
    english = [
        v for v in variations if v.get("condition") == [{"type": "slot", "name": "language", "value": "en"}]
    ]
    default = [v for v in variations if "condition" not in v]
    assert len(english) == 1 and len(default) == 1
    assert re.search(
        r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]", default[0]["text"]
    )  # Chinese words or punctuation
    # the same placeholders in both languages, so a value never goes missing in one of them
    assert set(re.findall(r"{(\w+)}", english[0]["text"])) == set(re.findall(r"{(\w+)}", default[0]["text"]))
    assert len(english[0].get("buttons", [])) == len(default[0].get("buttons", []))


def test_every_domain_action_is_implemented() -> None:
    from rasa_sdk.executor import ActionExecutor

    executor = ActionExecutor()
    executor.register_package("actions")
    custom = {name for name in domain()["actions"]}
    assert custom <= set(executor.actions)


def test_quick_reply_payloads_survive_rasa_interpolation() -> None:
    import json

    from rasa.core.nlg.interpolator import interpolate_text

    payloads = [
        button["payload"]
        for variations in domain()["responses"].values()
        for variation in variations
        for button in variation.get("buttons", [])
        if "{" in button["payload"]
    ]
    assert payloads
    for payload in payloads:
        sent = interpolate_text(payload, {"language": "zh"})
        intent, _, entities = sent.partition("{")
        assert intent == "/inform" and isinstance(json.loads("{" + entities), dict), sent
