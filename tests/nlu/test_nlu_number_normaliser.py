"""NumberNormaliser: number entities, canonical values for earlier extractors' entities, conflicts."""

from __future__ import annotations

import pytest
from rasa.shared.nlu.training_data.message import Message

from nlu.number_normaliser import NumberNormaliser
from tests.nlu.component_helpers import build, reload


def run(normaliser: NumberNormaliser, text: str, entities: list[dict] | None = None) -> list[tuple]:
    message = Message(data={"text": text, "entities": entities or []})
    normaliser.process([message])
    return [
        (e["entity"], e["value"], text[e["start"] : e["end"]], e["extractor"])
        for e in message.get("entities")
    ]


def diet(entity: str, text: str, span: str, value: object = None, confidence: float = 0.9) -> dict:
    start = text.index(span)
    return {
        "entity": entity,
        "value": span if value is None else value,
        "start": start,
        "end": start + len(span),
        "confidence_entity": confidence,
        "extractor": "DIETClassifier",
    }


def vocab(entity: str, text: str, span: str, value: object) -> dict:
    start = text.index(span)
    return {
        "entity": entity,
        "value": value,
        "start": start,
        "end": start + len(span),
        "extractor": "VocabularyEntityExtractor",
    }


def test_adds_number_entities(normaliser: NumberNormaliser) -> None:
    text = "我三十五岁，年薪120w，积分一百二十分"
    assert run(normaliser, text) == [
        ("age", 35, "三十五", "NumberNormaliser"),
        ("annual_salary", 120, "120w", "NumberNormaliser"),
        ("residence_points", 120, "一百二十", "NumberNormaliser"),
    ]


@pytest.mark.parametrize(
    "text, entity, span, raw_value, expected",
    [
        ("就35吧", "age", "35", "35", 35),
        ("差不多三十吧", "age", "三十", "三十", 30),
        ("拿一百二十万左右", "annual_salary", "一百二十万", "一百二十万", 120),
        ("大概1.2 million", "annual_salary", "1.2 million", "1.2 million", 120),
        ("大概一百二吧", "annual_salary", "一百二", "一百二", 120),
        ("有一百一", "residence_points", "一百一", "一百一", 110),
        ("在qingpu那边", "district", "qingpu", "qingpu", "青浦"),
        ("在青浦新城的公司", "district", "青浦新城的", "青浦新城的", "青浦"),
        ("phd毕业", "education", "phd", "PhD", "博士"),
        ("副教授", "title", "副教授", "副教授", "副高级"),
        ("全日制的", "full_time", "全日制", "true", True),
        ("非全的", "full_time", "非全", "false", False),
        ("English", "language", "English", "English", "en"),
    ],
)
def test_canonical_values_for_statistical_entities(
    normaliser: NumberNormaliser, text: str, entity: str, span: str, raw_value: str, expected: object
) -> None:
    result = run(normaliser, text, [diet(entity, text, span, raw_value)])
    # one entity, canonical; where the rules found the same fact too, theirs is the one kept
    assert [(e[0], e[1]) for e in result] == [(entity, expected)]


def test_changed_values_record_the_processor(normaliser: NumberNormaliser) -> None:
    message = Message(data={"text": "在qingpu", "entities": [diet("district", "在qingpu", "qingpu")]})
    normaliser.process([message])
    assert message.get("entities")[0]["processors"] == ["NumberNormaliser"]


def test_unknown_closed_class_values_are_dropped(normaliser: NumberNormaliser) -> None:
    text = "我在浦东"
    assert run(normaliser, text, [diet("district", text, "浦东")]) == []


def test_unknown_values_kept_when_configured(model_storage, execution_context) -> None:
    keeping = build(NumberNormaliser, model_storage, execution_context, "keep", drop_unknown_values=False)
    text = "我在浦东"
    assert run(keeping, text, [diet("district", text, "浦东")]) == [
        ("district", "浦东", "浦东", "DIETClassifier")
    ]


def test_unparsable_numbers_are_dropped(normaliser: NumberNormaliser) -> None:
    text = "年纪不小了"
    assert run(normaliser, text, [diet("age", text, "不小")]) == []


def test_unknown_entity_types_pass_through(normaliser: NumberNormaliser) -> None:
    text = "张三"
    entity = diet("name", text, "张三")
    assert run(normaliser, text, [entity]) == [("name", "张三", "张三", "DIETClassifier")]


def test_rule_based_wins_an_overlap_of_the_same_type(normaliser: NumberNormaliser) -> None:
    text = "年薪120w"
    # DIET took only "120" and would read it as 120; the rule-based span with its unit stays
    assert run(normaliser, text, [diet("annual_salary", text, "120")]) == [
        ("annual_salary", 120, "120w", "NumberNormaliser")
    ]


def test_rule_based_wins_an_overlap_of_another_type(normaliser: NumberNormaliser) -> None:
    text = "我是研究员"
    entities = [diet("education", text, "研究员", "硕士"), vocab("title", text, "研究员", "正高级")]
    assert run(normaliser, text, entities) == [("title", "正高级", "研究员", "VocabularyEntityExtractor")]


def test_duplicates_are_kept_once(normaliser: NumberNormaliser) -> None:
    text = "青浦，青浦区"
    entities = [
        diet("district", text, "青浦"),
        vocab("district", text, "青浦", "青浦"),
        vocab("district", text, "青浦区", "青浦"),
    ]
    assert run(normaliser, text, entities) == [("district", "青浦", "青浦", "VocabularyEntityExtractor")]


def test_two_districts_both_stay(normaliser: NumberNormaliser) -> None:
    text = "青浦还是松江"
    entities = [vocab("district", text, "青浦", "青浦"), vocab("district", text, "松江", "松江")]
    assert [e[1] for e in run(normaliser, text, entities)] == ["青浦", "松江"]


def test_overlapping_statistical_entities_keep_the_more_confident(normaliser: NumberNormaliser) -> None:
    text = "副教授"
    entities = [
        diet("title", text, "副教授", confidence=0.6),
        diet("education", text, "教授", "博士", confidence=0.9),
    ]
    assert run(normaliser, text, entities) == [("education", "博士", "教授", "DIETClassifier")]


def test_bare_number_is_no_entity(normaliser: NumberNormaliser) -> None:
    assert run(normaliser, "35") == []


def test_statistical_hukou_in_a_question_is_dropped(normaliser: NumberNormaliser) -> None:
    text = "上海户口咋落"
    assert run(normaliser, text, [diet("hukou", text, "上海户口")]) == []
    stated = "我是上海户口"
    assert run(normaliser, stated, [diet("hukou", stated, "上海户口")]) == [
        ("hukou", "上海", "上海户口", "DIETClassifier")
    ]


def test_statistical_education_of_a_child_is_dropped(normaliser: NumberNormaliser) -> None:
    text = "我家孩子上初中"
    assert run(normaliser, text, [diet("education", text, "初中")]) == []


def test_older_models_stored_a_bare_value_table(model_storage, execution_context) -> None:
    from rasa.engine.storage.resource import Resource

    lookup = {"district": {"qingpu": "青浦", "青浦": "青浦"}}
    old = NumberNormaliser(NumberNormaliser.get_default_config(), model_storage, Resource("old"), lookup)
    text = "qingpu"
    assert run(old, text, [diet("district", text, "qingpu")]) == [
        ("district", "青浦", "qingpu", "DIETClassifier")
    ]


def test_value_table_survives_a_save_load_round_trip(model_storage, execution_context, monkeypatch) -> None:
    trained = build(NumberNormaliser, model_storage, execution_context, "normaliser-round-trip")
    monkeypatch.setattr("nlu.vocabulary.load_phrases", lambda *args: pytest.fail("read the repo files"))
    monkeypatch.setattr("nlu.vocabulary.not_stated_rules", lambda *args: pytest.fail("read the repo files"))
    loaded = reload(trained, NumberNormaliser, model_storage, execution_context, "normaliser-round-trip")
    text = "songjiang的高工，35岁"
    entities = [diet("district", text, "songjiang"), diet("title", text, "高工")]
    assert run(loaded, text, [dict(e) for e in entities]) == run(trained, text, [dict(e) for e in entities])
    assert [e[1] for e in run(loaded, text, entities)] == ["松江", "副高级", 35]


def test_component_contract() -> None:
    config = NumberNormaliser.get_default_config()
    assert set(config) == {
        "vocabulary_path",
        "domain_terms_path",
        "rule_based_extractors",
        "drop_unknown_values",
    }


def test_a_bound_found_by_diet_is_dropped(normaliser: NumberNormaliser) -> None:
    text = "积分还没到120，年薪50万以上有奖励吗"
    entities = [diet("residence_points", text, "120", 120), diet("annual_salary", text, "50", 50)]
    assert run(normaliser, text, entities) == []


@pytest.mark.parametrize(
    "text, span, kind, value",
    [
        ("我38岁，海外工作过5年，注册资本500万", "5", "age", 5),
        ("我38岁，海外工作过5年，注册资本500万", "500", "age", 500),
        ("基数大概1.2万", "1.2万", "annual_salary", 1.2),
        ("人才积分通用指标有50分", "50", "residence_points", 50),
    ],
)
def test_diet_number_whose_unit_names_another_fact_is_dropped(
    normaliser: NumberNormaliser, text: str, span: str, kind: str, value: float
) -> None:
    kept = [e for e in run(normaliser, text, [diet(kind, text, span, value)]) if e[3] == "DIETClassifier"]
    assert kept == []


def test_diet_bare_number_among_facts_is_kept(normaliser: NumberNormaliser) -> None:
    text = "PhD, 28, Qingpu"
    assert run(normaliser, text, [diet("age", text, "28", 28)]) == [("age", 28, "28", "DIETClassifier")]
