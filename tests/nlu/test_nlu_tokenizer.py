"""DomainJiebaTokenizer: tokens and their character offsets, Chinese and English, and the model-storage round trip."""

from __future__ import annotations

import pytest
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from nlu.tokenizer import DomainJiebaTokenizer
from tests.nlu.component_helpers import build, reload


def tokens_of(tokenizer: DomainJiebaTokenizer, text: str) -> list[tuple[str, int, int]]:
    return [(t.text, t.start, t.end) for t in tokenizer.tokenize(Message(data={"text": text}), "text")]


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "青浦区的租房补贴",
            [("青浦", 0, 2), ("区", 2, 3), ("的", 3, 4), ("租房补贴", 4, 8)],
        ),
        (
            "我三十五岁，年薪一百二十万",
            [
                ("我", 0, 1),
                ("三十五", 1, 4),
                ("岁", 4, 5),
                ("，", 5, 6),
                ("年薪", 6, 8),
                ("一百二十", 8, 12),
                ("万", 12, 13),
            ],
        ),
        ("获得国家科学技术奖一等奖", [("获得", 0, 2), ("国家科学技术奖一等奖", 2, 12)]),
        # a phrase inside a longer one gets its own boundaries, so either can be annotated
        ("副研究员和研究生", [("副", 0, 1), ("研究员", 1, 4), ("和", 4, 5), ("研究生", 5, 8)]),
        # core words are split from what jieba glues to them, as the training data annotates them
        ("我副高职称", [("我", 0, 1), ("副高", 1, 3), ("职称", 3, 5)]),
        ("请用中文回答", [("请", 0, 1), ("用", 1, 2), ("中文", 2, 4), ("回答", 4, 6)]),
        ("诺奖得主", [("诺奖", 0, 2), ("得主", 2, 4)]),
        ("全日制本科", [("全日制", 0, 3), ("本科", 3, 5)]),
        ("我积分九十分", [("我", 0, 1), ("积分", 1, 3), ("九十", 3, 5), ("分", 5, 6)]),
        # a phrase cutting through a topic word is not a boundary (上海人 in 上海人才公寓)
        ("上海人才公寓", [("上海", 0, 2), ("人才公寓", 2, 6)]),
        # numerals inside ordinary and domain words stay whole
        ("一下子", [("一下子", 0, 3)]),
        ("千人计划", [("千人计划", 0, 4)]),
        ("人才公寓怎么申请", [("人才公寓", 0, 4), ("怎么", 4, 6), ("申请", 6, 8)]),
        ("居住证积分120分", [("居住证积分", 0, 5), ("120", 5, 8), ("分", 8, 9)]),
        ("年薪120w", [("年薪", 0, 2), ("120", 2, 5), ("w", 5, 6)]),
        ("我35周岁", [("我", 0, 1), ("35", 1, 3), ("周岁", 3, 5)]),
        ("十分感谢", [("十分", 0, 2), ("感谢", 2, 4)]),
    ],
)
def test_chinese_tokens_and_offsets(tokenizer: DomainJiebaTokenizer, text: str, expected: list) -> None:
    assert tokens_of(tokenizer, text) == expected


def test_english_is_split_on_spaces_and_punctuation_without_whitespace_tokens(
    tokenizer: DomainJiebaTokenizer,
) -> None:
    text = "I'm 34, full-time  bachelor's in Qingpu"
    assert tokens_of(tokenizer, text) == [
        ("I", 0, 1),
        ("'", 1, 2),
        ("m", 2, 3),
        ("34", 4, 6),
        (",", 6, 7),
        ("full", 8, 12),
        ("-", 12, 13),
        ("time", 13, 17),
        ("bachelor", 19, 27),
        ("'", 27, 28),
        ("s", 28, 29),
        ("in", 30, 32),
        ("Qingpu", 33, 39),
    ]


def test_mixed_script_offsets_always_point_at_the_token_text(tokenizer: DomainJiebaTokenizer) -> None:
    text = "Hi 我是PhD，在Songjiang工作， salary 800k / 年薪八十万 😀"
    tokens = tokenizer.tokenize(Message(data={"text": text}), "text")
    assert tokens, "no tokens"
    for token in tokens:
        assert text[token.start : token.end] == token.text
        assert token.text.strip() == token.text and token.text
    assert [t.start for t in tokens] == sorted(t.start for t in tokens)


def test_realignment_can_be_switched_off(model_storage, execution_context) -> None:
    plain = build(DomainJiebaTokenizer, model_storage, execution_context, "plain", split_number_units=False)
    assert tokens_of(plain, "我三十五岁") == [("我", 0, 1), ("三十五岁", 1, 5)]


def test_process_training_data_sets_tokens(tokenizer: DomainJiebaTokenizer) -> None:
    example = Message(data={"text": "松江的人才公寓", "intent": "ask_talent_apartment"})
    tokenizer.process_training_data(TrainingData([example]))
    assert [t.text for t in example.get("text_tokens")] == ["松江", "的", "人才公寓"]
    assert [t.text for t in example.get("intent_tokens")] == ["ask_talent_apartment"]


def test_dictionary_survives_a_save_load_round_trip(model_storage, execution_context, monkeypatch) -> None:
    trained = build(DomainJiebaTokenizer, model_storage, execution_context, "round-trip")
    # The loaded tokenizer must use the dictionary stored in the model, not the repo's files.
    monkeypatch.setattr("nlu.vocabulary.jieba_words", lambda *args: pytest.fail("read the repo files"))
    loaded = reload(trained, DomainJiebaTokenizer, model_storage, execution_context, "round-trip")
    text = "我是副研究员，想问国家科学技术奖一等奖和人才公寓，今年三十五岁"
    assert tokens_of(loaded, text) == tokens_of(trained, text)
    assert ("国家科学技术奖一等奖", 9, 19) in tokens_of(loaded, text)


def test_private_jieba_leaves_the_global_dictionary_alone(tokenizer: DomainJiebaTokenizer) -> None:
    import jieba

    assert "居住证积分" in [t.text for t in tokenizer.tokenize(Message(data={"text": "居住证积分"}), "text")]
    assert "居住证积分" not in list(jieba.cut("居住证积分"))


def test_fingerprint_changes_with_the_vocabulary(tmp_path) -> None:
    vocabulary_file = tmp_path / "vocabulary.yml"
    vocabulary_file.write_text(
        "district: {entity: district, field: district, values: {青浦: []}}\n", encoding="utf-8"
    )
    config = {**DomainJiebaTokenizer.get_default_config(), "vocabulary_path": str(vocabulary_file)}
    before = DomainJiebaTokenizer.fingerprint_addon(config)
    vocabulary_file.write_text(
        "district: {entity: district, field: district, values: {青浦: [青浦区]}}\n", encoding="utf-8"
    )
    assert DomainJiebaTokenizer.fingerprint_addon(config) != before


def test_component_contract() -> None:
    config = DomainJiebaTokenizer.get_default_config()
    assert {
        "vocabulary_path",
        "domain_terms_path",
        "split_number_units",
        "use_hmm",
        "dictionary_path",
    } <= set(config)
    assert DomainJiebaTokenizer.required_packages() == ["jieba"]


@pytest.mark.parametrize(
    "component",
    [
        "nlu.tokenizer.DomainJiebaTokenizer",
        "nlu.vocabulary_extractor.VocabularyEntityExtractor",
        "nlu.number_normaliser.NumberNormaliser",
    ],
)
def test_fingerprint_addon_works_with_the_keys_config_yml_sets(component: str) -> None:
    """Rasa calls fingerprint_addon with the config as written (no defaults): {} must work."""
    import importlib

    module, name = component.rsplit(".", 1)
    component_class = getattr(importlib.import_module(module), name)
    assert component_class.fingerprint_addon({}) == component_class.fingerprint_addon(
        component_class.get_default_config()
    )
