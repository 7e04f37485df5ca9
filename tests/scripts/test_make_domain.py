"""scripts/make_domain.py: domain/profile.yml is what policies/profile.yml says, and Rasa merges domain/."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from policies import profile_fields
from policies.profile import dialogue_settings
from scripts import make_domain

ROOT = Path(__file__).resolve().parents[2]
ASKED = [name for name, spec in profile_fields().items() if spec.role == "profile"]


def test_the_generated_domain_file_is_up_to_date() -> None:
    current = make_domain.OUTPUT.read_text(encoding="utf-8")
    assert current == make_domain.render_domain(), "domain/profile.yml is stale: run `make domain`"


def test_check_fails_on_a_stale_file_and_passes_once_written(tmp_path: Path) -> None:
    out = tmp_path / "profile.yml"
    out.write_text("# edited by hand\n", encoding="utf-8")
    assert make_domain.main(["--check", "--out", str(out)]) == 1
    assert make_domain.main(["--out", str(out)]) == 0
    assert make_domain.main(["--check", "--out", str(out)]) == 0


def test_the_domain_directory_links_the_hand_written_domain() -> None:
    link = ROOT / "domain" / "dialogue.yml"
    assert link.is_symlink() and os.readlink(link) == "../domain.yml"


@pytest.fixture(scope="module")
def merged() -> dict:
    from rasa.shared.core.domain import Domain

    return Domain.load(ROOT / "domain").as_dict()


def test_rasa_merges_one_slot_question_and_form_place_per_profile_field(merged: dict) -> None:
    form = merged["forms"][dialogue_settings()["form"]]["required_slots"]
    assert form == [*dialogue_settings()["form_leading_slots"], *ASKED]
    for name in ASKED:
        spec = profile_fields()[name]
        assert merged["slots"][name]["type"] == make_domain.SLOT_TYPES[spec.type]
        assert merged["slots"][name]["influence_conversation"] is False
        english, chinese = merged["responses"][f"utter_ask_{name}"]
        assert (english["text"], chinese["text"]) == (spec.question["en"], spec.question["zh"])
        assert english["condition"] == [{"type": "slot", "name": "language", "value": "en"}]


def test_the_hand_written_domain_declares_no_profile_field(merged: dict) -> None:
    import yaml

    dialogue = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    assert not set(ASKED) & set(dialogue["slots"])
    assert not {f"utter_ask_{name}" for name in ASKED} & set(dialogue["responses"])
    assert "forms" not in dialogue
    assert "language" in merged["slots"]  # the conversation-only field stays a hand-written dialogue slot


def _while_asked(field: str) -> list[dict]:
    return [{"active_loop": "policy_form", "requested_slot": field}]


def test_a_yes_no_field_maps_affirm_and_deny_only_while_asked() -> None:
    mappings = make_domain.slot_mappings(profile_fields()["key_industry"], dialogue_settings())
    assert mappings == [
        {
            "type": "from_intent",
            "intent": "affirm",
            "value": True,
            "conditions": _while_asked("key_industry"),
        },
        {"type": "from_intent", "intent": "deny", "value": False, "conditions": _while_asked("key_industry")},
    ]


def test_an_entity_field_maps_its_entities_then_the_denied_value() -> None:
    mappings = make_domain.slot_mappings(profile_fields()["honors"], dialogue_settings())
    assert mappings == [
        {"type": "from_entity", "entity": "honor"},
        {"type": "from_entity", "entity": "talent_program"},
        {"type": "from_intent", "intent": "deny", "value": "none", "conditions": _while_asked("honors")},
    ]
    # the district has no "no" answer: a deny while asked for it sets nothing
    assert make_domain.slot_mappings(profile_fields()["district"], dialogue_settings()) == [
        {"type": "from_entity", "entity": "district"}
    ]


def test_a_text_field_takes_the_whole_reply_except_other_requests() -> None:
    mappings = make_domain.slot_mappings(profile_fields()["sector"], dialogue_settings())
    # the NLU's entity in any sentence ("我是农业创业团队…"), then "no"/skip, then the whole reply while asked
    assert mappings[0] == {"type": "from_entity", "entity": "sector"}
    assert mappings[1] == {
        "type": "from_intent",
        "intent": "deny",
        "value": "skip",
        "conditions": _while_asked("sector"),
    }
    assert mappings[2]["type"] == "from_text" and mappings[2]["conditions"] == _while_asked("sector")
    assert {"request_human", "ask_rent_subsidy"} <= set(mappings[2]["not_intent"])
    assert not {"inform", "affirm", "deny"} & set(mappings[2]["not_intent"])


def test_quick_replies_send_what_the_mappings_read() -> None:
    from rasa.core.nlg.interpolator import interpolate_text

    honors = make_domain.buttons(profile_fields()["honors"], dialogue_settings(), "en")
    sent = interpolate_text(honors[1]["payload"], {"language": "en"})
    assert sent.startswith("/inform") and json.loads(sent.removeprefix("/inform")) == {
        "talent_program": "国家级人才计划"
    }
    assert honors[-1] == {"title": "None of these", "payload": "/deny"}
    sector = make_domain.buttons(profile_fields()["sector"], dialogue_settings(), "zh")
    assert sector[1] == {"title": "教育", "payload": "教育"} and sector[-1] == {
        "title": "不清楚，跳过",
        "payload": "/deny",
    }
    title = make_domain.buttons(profile_fields()["title"], dialogue_settings(), "zh")
    assert title[-1] == {"title": "无职称", "payload": '/inform{{"title":"无"}}'}
    assert make_domain.buttons(profile_fields()["full_time"], dialogue_settings(), "zh") == [
        {"title": "是", "payload": "/affirm"},
        {"title": "否", "payload": "/deny"},
    ]
    # a number nobody has to know: the question can always be skipped (issue 15)
    assert make_domain.buttons(profile_fields()["talent_points"], dialogue_settings(), "zh") == [
        {"title": "不清楚，跳过", "payload": "/deny"}
    ]
    assert make_domain.buttons(profile_fields()["district"], dialogue_settings(), "zh")[-1:] != [
        {"title": "不清楚，跳过", "payload": "/deny"}
    ]
