"""VocabularyEntityExtractor: canonical values, longest match, aliases, case, offsets, round trip."""

from __future__ import annotations

from collections import defaultdict

import pytest
from rasa.shared.nlu.training_data.message import Message

from nlu import vocabulary
from nlu.vocabulary_extractor import VocabularyEntityExtractor
from tests.nlu.component_helpers import build, reload


def found(extractor: VocabularyEntityExtractor, text: str) -> list[tuple[str, object, str]]:
    return [(e["entity"], e["value"], text[e["start"] : e["end"]]) for e in extractor.extract(text)]


@pytest.mark.parametrize(
    "text, expected",
    [
        # longest match wins
        ("获得国家科学技术奖一等奖", [("honor", "国家科学技术奖一等奖", "国家科学技术奖一等奖")]),
        ("国家科技进步一等奖", [("honor", "国家科学技术奖一等奖", "国家科技进步一等奖")]),
        ("我是副研究员", [("title", "副高级", "副研究员")]),
        ("我是研究员", [("title", "正高级", "研究员")]),
        ("研究生毕业", [("education", "硕士", "研究生毕业")]),
        ("博士研究生", [("education", "博士", "博士研究生")]),
        ("正高级教师", [("title", "正高级", "正高级教师")]),
        ("高级教师", [("title", "副高级", "高级教师")]),
        ("副高", [("title", "副高级", "副高")]),
        ("高级工程师", [("title", "副高级", "高级工程师")]),
        ("助理工程师", [("title", "初级", "助理工程师")]),
        ("副主任医师", [("title", "副高级", "副主任医师")]),
        ("上海市级人才计划入选者", [("talent_program", "上海市级人才计划", "上海市级人才计划入选者")]),
        # aliases -> canonical keys
        ("青浦区的", [("district", "青浦", "青浦区")]),
        ("G60那边", [("district", "松江", "G60")]),
        ("世界500强高管", [("former_executive_of", "财富500强", "世界500强")]),
        ("世界５００强", [("former_executive_of", "财富500强", "世界５００强")]),
        ("我是外地户口", [("hukou", "外地", "外地户口")]),
        ("杰青", [("talent_program", "国家杰青", "杰青")]),
        # English, case-insensitive, whole words only
        ("I work in QINGPU", [("district", "青浦", "QINGPU")]),
        ("Songjiang District", [("district", "松江", "Songjiang District")]),
        ("Associate Professor", [("title", "副高级", "Associate Professor")]),
        ("a Ph.D. holder", [("education", "博士", "Ph.D.")]),
        ("master’s degree", [("education", "硕士", "master’s degree")]),
        ("xqingpux", []),
        # canonical values that are ordinary words are not matched alone
        ("在上海工作", []),
        ("其他政策", []),
        ("无房", []),
        # a topic word blocks a shorter match cutting through it
        ("上海人才公寓", []),
        ("上海人才政策", []),
        ("我是上海人", [("hukou", "上海", "上海人")]),
        # full_time and language
        ("全日制", [("full_time", True, "全日制")]),
        ("非全日制的", [("full_time", False, "非全日制")]),
        ("part-time", [("full_time", False, "part-time")]),
        ("Can you answer in English?", [("language", "en", "answer in English")]),
        ("说中文", [("language", "zh", "说中文")]),
        ("English please", [("language", "en", "English please")]),
        # agricultural teams (issue 15): the role, the team's class where a team is named, the field
        (
            "我是青浦农业创业团队的带头人，团队评的是B类，买房有补贴吗",
            [
                ("district", "青浦", "青浦"),
                ("sector", "农业", "农业"),
                ("agri_team_role", "带头人", "带头人"),
                ("agri_team_class", "B", "团队评的是B类"),
            ],
        ),
        ("我是团队核心成员", [("agri_team_role", "成员", "团队核心成员")]),
        ("家庭成员", []),
        ("A类人才购房补贴", []),
        ("我被评为A类人才", []),
        ("我们是C类团队", [("agri_team_class", "C", "C类团队")]),
        (
            "I lead an agricultural team, class B team",
            [
                ("agri_team_role", "带头人", "lead an agricultural team"),
                ("agri_team_class", "B", "class B team"),
            ],
        ),
    ],
)
def test_extract(extractor: VocabularyEntityExtractor, text: str, expected: list) -> None:
    assert found(extractor, text) == expected


def test_compound_phrase_gives_every_fact(extractor: VocabularyEntityExtractor) -> None:
    assert found(extractor, "我是在职研究生") == [
        ("full_time", False, "在职研究生"),
        ("education", "硕士", "在职研究生"),
    ] or found(extractor, "我是在职研究生") == [
        ("education", "硕士", "在职研究生"),
        ("full_time", False, "在职研究生"),
    ]


def test_full_profile_sentence(extractor: VocabularyEntityExtractor) -> None:
    text = "I'm 34, full-time bachelor's, associate senior title, working in Qingpu"
    assert sorted(found(extractor, text), key=lambda e: (text.index(e[2]), e[0])) == [
        ("education", "本科", "full-time bachelor's"),
        ("full_time", True, "full-time bachelor's"),
        ("title", "副高级", "associate senior title"),
        ("district", "青浦", "Qingpu"),
    ]


def test_process_appends_and_names_itself(extractor: VocabularyEntityExtractor) -> None:
    earlier = {"entity": "age", "value": 35, "start": 0, "end": 2, "extractor": "DIETClassifier"}
    message = Message(data={"text": "35岁，博士，在杨浦", "entities": [earlier]})
    extractor.process([message])
    entities = message.get("entities")
    assert entities[0] == earlier
    assert [(e["entity"], e["value"], e["start"], e["end"], e["extractor"]) for e in entities[1:]] == [
        ("education", "博士", 4, 6, "VocabularyEntityExtractor"),
        ("district", "杨浦", 8, 10, "VocabularyEntityExtractor"),
    ]


def test_dimensions_filter(model_storage, execution_context) -> None:
    only_districts = build(
        VocabularyEntityExtractor, model_storage, execution_context, "d", dimensions=["district"]
    )
    assert found(only_districts, "青浦的博士") == [("district", "青浦", "青浦")]


def test_patterns_survive_a_save_load_round_trip(model_storage, execution_context, monkeypatch) -> None:
    trained = build(VocabularyEntityExtractor, model_storage, execution_context, "vocab-round-trip")
    monkeypatch.setattr("nlu.vocabulary.load_phrases", lambda *args: pytest.fail("read the repo files"))
    monkeypatch.setattr("nlu.vocabulary.not_stated_rules", lambda *args: pytest.fail("read the repo files"))
    loaded = reload(trained, VocabularyEntityExtractor, model_storage, execution_context, "vocab-round-trip")
    text = "长宁区的副教授，获得国家科学技术奖二等奖，full-time PhD，上海户口怎么落"
    assert found(loaded, text) == found(trained, text)
    assert "hukou" not in {entity for entity, _, _ in found(loaded, text)}
    assert ("honor", "国家科学技术奖二等奖", "国家科学技术奖二等奖") in found(loaded, text)


def test_every_vocabulary_phrase_is_found_with_its_own_value(extractor: VocabularyEntityExtractor) -> None:
    """Each alias alone is extracted as its canonical value (or a longer phrase of the same entity)."""
    for phrase in vocabulary.load_phrases():
        entities = extractor.extract(phrase.text)
        assert (phrase.entity, phrase.value) in {(e["entity"], e["value"]) for e in entities}, phrase


def test_no_phrase_means_two_things() -> None:
    meanings: dict[str, set] = defaultdict(set)
    for phrase in vocabulary.load_phrases():
        meanings[(vocabulary.fold_text(phrase.text), phrase.entity)].add(phrase.value)
    assert {key: values for key, values in meanings.items() if len(values) > 1} == {}


def test_component_contract() -> None:
    config = VocabularyEntityExtractor.get_default_config()
    assert set(config) == {"vocabulary_path", "domain_terms_path", "dimensions"}
    assert VocabularyEntityExtractor.required_packages() == ["spacy"]


@pytest.mark.parametrize(
    "text, expected",
    [
        # asking how to get a Shanghai hukou states nothing about the person's hukou
        ("上海户口咋落", []),
        ("上海户口怎么办理", []),
        ("怎么落上海户口", []),
        ("想落上海户口，需要什么条件", []),
        ("上海户口的条件是什么", []),
        ("how to get a Shanghai hukou", []),
        ("can I obtain shanghai hukou?", []),
        # ... while saying one has it (or has not) still does
        ("我是上海户口", [("hukou", "上海", "上海户口")]),
        ("我有上海户口，孩子怎么上学", [("hukou", "上海", "上海户口")]),
        ("I already have a Shanghai hukou", [("hukou", "上海", "Shanghai hukou")]),
        ("我没有上海户口", [("hukou", "外地", "没有上海户口")]),
        ("不是上海户口怎么办", [("hukou", "外地", "不是上海户口")]),
        ("I don't have a Shanghai hukou", [("hukou", "外地", "don't have a Shanghai hukou")]),
        ("外地户口怎么转上海", [("hukou", "外地", "外地户口")]),
        # a child's schooling is not the person's education
        ("我家孩子上初中", []),
        ("孩子读高中了", []),
        ("小孩明年考高中", []),
        ("我儿子博士毕业", []),
        ("my son is in high school", []),
        ("上初中要什么材料", []),
        # ... the person's own education still counts, also beside a child in another clause
        ("我高中学历", [("education", "其他", "高中")]),
        ("我只读到高中", [("education", "其他", "高中")]),
        ("我是博士，孩子上初中", [("education", "博士", "博士")]),
        ("I finished high school", [("education", "其他", "high school")]),
    ],
)
def test_phrases_that_state_nothing_about_the_person(
    extractor: VocabularyEntityExtractor, text: str, expected: list
) -> None:
    assert found(extractor, text) == expected


def test_older_models_stored_a_bare_pattern_list(model_storage, execution_context) -> None:
    from rasa.engine.storage.resource import Resource

    patterns = [{"text": "青浦", "entity": "district", "value": "青浦"}]
    extractor = VocabularyEntityExtractor(
        VocabularyEntityExtractor.get_default_config(), model_storage, Resource("old"), patterns
    )
    assert found(extractor, "上海户口咋落，青浦") == [("district", "青浦", "青浦")]
