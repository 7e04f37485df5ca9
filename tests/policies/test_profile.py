"""Profile normalisation: aliases from vocabulary.yml, types, unknown values -> ProfileError naming the field."""

from __future__ import annotations

import pytest
import yaml

from policies import ProfileError, evaluate, normalise_profile, profile_fields
from policies.profile import PROFILE_FILE, VOCABULARY_FILE

FIXED_FIELDS = (
    "district age education full_time title annual_salary_wan honors former_executive_of key_industry "
    "employer_registered_in_district tax_and_social_insurance_in_district owns_home_in_district rents_in_district "
    "spouse_receives_rent_subsidy newly_recruited hukou residence_permit_points new_public_institution_hire "
    "high_skill_talent remote_town_worker shortage_talent agri_team_class agri_entrepreneur language"
).split()


def test_every_fixed_field_is_declared_with_both_languages() -> None:
    fields = profile_fields()
    for name in FIXED_FIELDS:
        assert name in fields, name
        assert fields[name].fixed
    for spec in fields.values():
        for text in (spec.label, spec.question, spec.description):
            assert text["zh"] and text["en"], spec.name


def test_vocabulary_sections_match_profile_values() -> None:
    vocabulary = yaml.safe_load(VOCABULARY_FILE.read_text(encoding="utf-8"))
    declared = yaml.safe_load(PROFILE_FILE.read_text(encoding="utf-8"))["fields"]
    for name, entry in declared.items():
        if "vocabulary" in entry:
            keys = [key for section in entry["vocabulary"] for key in vocabulary[section]["values"]]
            assert sorted(keys) == sorted(entry["values"]), name


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"district": "青浦区"}, {"district": "青浦"}),
        ({"district": "Qingpu District"}, {"district": "青浦"}),
        ({"title": "副高"}, {"title": "副高级"}),
        ({"education": "PhD"}, {"education": "博士"}),
        ({"education": "master's degree"}, {"education": "硕士"}),
        ({"hukou": "沪籍"}, {"hukou": "上海"}),
        ({"honors": ["杰青", "万人计划"]}, {"honors": ["国家杰青", "国家级人才计划"]}),
        ({"honors": "院士"}, {"honors": ["两院院士"]}),
        (
            {"honors": ["国家科技三等奖", "国家科学技术奖三等奖"]},
            {"honors": ["国家科学技术奖三等奖", "国家科学技术奖三等奖"]},
        ),
        ({"honors": ["没有"]}, {"honors": ["无"]}),
        ({"former_executive_of": "世界500强"}, {"former_executive_of": "财富500强"}),
        ({"former_executive_of": "none"}, {"former_executive_of": "无"}),
        ({"age": "35"}, {"age": 35}),
        ({"age": 35.0}, {"age": 35}),
        ({"annual_salary_wan": "50.5"}, {"annual_salary_wan": 50.5}),
        ({"full_time": "是"}, {"full_time": True}),
        ({"full_time": "false"}, {"full_time": False}),
        ({"agri_team_class": "b"}, {"agri_team_class": "B"}),
        ({"language": "en"}, {"language": "en"}),
    ],
)
def test_aliases_and_types_normalise(raw: dict, expected: dict) -> None:
    assert normalise_profile(raw) == expected


@pytest.mark.parametrize("empty", [None, "", "  ", []])
def test_empty_values_mean_unknown(empty) -> None:
    assert normalise_profile({"district": "青浦", "age": empty, "honors": empty}) == {"district": "青浦"}


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"agee": 30}, "agee"),
        ({"district": "浦东"}, "district"),
        ({"education": "学士后"}, "education"),
        ({"title": 5}, "title"),
        ({"age": "thirty"}, "age"),
        ({"age": 35.5}, "age"),
        ({"age": True}, "age"),
        ({"age": 7}, "age"),
        ({"full_time": "maybe"}, "full_time"),
        ({"honors": ["诺贝尔和平奖?"]}, "honors"),
        ({"honors": {"a": 1}}, "honors"),
        ({"annual_salary_wan": -1}, "annual_salary_wan"),
    ],
)
def test_bad_values_raise_profile_error_naming_the_field(raw: dict, field: str) -> None:
    with pytest.raises(ProfileError) as error:
        normalise_profile(raw)
    assert error.value.field == field
    assert field in str(error.value)


def test_facts_come_out_in_declaration_order_whatever_the_input_order() -> None:
    facts = normalise_profile({"title": "副高", "age": 33, "district": "青浦", "education": "PhD"})
    assert list(facts) == ["district", "age", "education", "title"]
    with pytest.raises(ProfileError) as error:  # of two bad values, the first declared is named
        normalise_profile({"title": 5, "age": "thirty"})
    assert error.value.field == "age"


def test_profile_must_be_a_mapping() -> None:
    with pytest.raises(ProfileError) as error:
        normalise_profile(["district", "青浦"])  # type: ignore[arg-type]
    assert error.value.field == "profile"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"topic": "parking"}, "topic"), ({"language": "fr"}, "language"), ({"district": "浦东"}, "district")],
)
def test_bad_query_arguments_raise_profile_error(kwargs: dict, field: str) -> None:
    with pytest.raises(ProfileError) as error:
        evaluate({}, **kwargs)
    assert error.value.field == field


@pytest.mark.parametrize(
    "entry",
    [
        {"type": "enum", "answer": {"from": "entity", "asked_by": "x"}},  # unknown key
        {"type": "enum", "answer": {"from": "buttons"}},  # unknown source
        {"type": "enum", "answer": {"from": "yes_no"}},  # yes/no for a field that is not a bool
        {"type": "bool", "answer": {"from": "yes_no", "denied": "skip"}},  # a bool's "no" is false
        {"type": "enum", "answer": {"from": "text", "skip_button": "maybe"}},  # unknown skip button
        {"type": "enum", "answer": {"from": "entity", "buttons": [{"value": "A"}]}},  # no English title
        {"type": "list", "answer": {"from": "entity", "buttons": [{"value": "A", "en": "A", "entity": "x"}]}},
        {"type": "int", "answer": {"from": "entity", "bare_number": "count"}},
        {"type": "int"},  # a profile field without an answer block
    ],
)
def test_the_answer_block_is_checked_strictly(entry: dict) -> None:
    from policies.errors import PolicyDataError
    from policies.profile import _answer_spec, dialogue_settings

    with pytest.raises(PolicyDataError):
        _answer_spec("some_field", entry, dialogue_settings()["skip_buttons"])


def test_field_facts_tell_the_dialogue_how_each_answer_is_read() -> None:
    from policies.profile import field_facts

    facts = field_facts()
    assert "language" not in facts  # conversation-only
    assert facts["sector"]["answer"] == "text" and facts["key_industry"]["answer"] == "yes_no"
    assert facts["honors"]["answer"] == "entity" and "无" in facts["honors"]["values"]
    assert {name for name, fact in facts.items() if fact["bare_number"]} == {
        "age",
        "annual_salary_wan",
        "residence_permit_points",
    }
    assert facts["annual_salary_wan"]["bare_number"] == "salary"
