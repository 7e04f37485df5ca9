"""Typos and near-homophones (nlu/domain_terms.yml, spelling_variants): one table, read by the tokenizer,
the vocabulary extractor and the normaliser, with offsets into what the person typed (issue 15, item 5)."""

from __future__ import annotations

from pathlib import Path

import pytest
from rasa.shared.nlu.training_data.message import Message

from nlu import vocabulary
from nlu.number_normaliser import NumberNormaliser
from nlu.tokenizer import DomainJiebaTokenizer
from nlu.vocabulary_extractor import VocabularyEntityExtractor


def test_every_misspelling_keeps_the_length_and_is_not_a_vocabulary_phrase() -> None:
    variants = vocabulary.spelling_variants()
    assert variants["青蒲"] == "青浦" and variants["补帖"] == "补贴"
    phrases = {vocabulary.fold_text(p.text) for p in vocabulary.load_phrases()}
    assert not set(variants) & phrases  # a real vocabulary word is never "corrected"


def test_a_misspelling_of_another_length_is_refused(tmp_path: Path) -> None:
    terms = tmp_path / "terms.yml"
    terms.write_text("spelling_variants:\n  青蒲区: 青浦\n", encoding="utf-8")
    with pytest.raises(ValueError, match="keep the length"):
        vocabulary.spelling_variants(terms)


def test_corrector_keeps_case_and_offsets() -> None:
    correct = vocabulary.spelling_corrector(vocabulary.spelling_variants())
    text = "Qingpu 青蒲租防补帖，落护咋办"
    assert correct(text) == "Qingpu 青浦租房补贴，落户咋办"
    assert len(correct(text)) == len(text)
    assert correct("hello") == "hello"


def test_tokens_carry_the_word_meant(tokenizer: DomainJiebaTokenizer) -> None:
    text = "青蒲租房补帖咋领啊"
    tokens = [(t.text, t.start, t.end) for t in tokenizer.tokenize(Message(data={"text": text}), "text")]
    assert ("青浦", 0, 2) in tokens and ("租房补贴", 2, 6) in tokens


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "青蒲租房补帖咋领啊 全日制硕士 付高",
            [
                ("district", "青浦", "青蒲"),
                ("education", "硕士", "全日制硕士"),
                ("full_time", True, "全日制硕士"),
                ("title", "副高级", "付高"),
            ],
        ),
        ("我在淞江，博土毕业", [("district", "松江", "淞江"), ("education", "博士", "博土毕业")]),
    ],
)
def test_extractor_reads_typos(extractor: VocabularyEntityExtractor, text: str, expected: list) -> None:
    found = [(e["entity"], e["value"], text[e["start"] : e["end"]]) for e in extractor.extract(text)]
    assert sorted(found, key=str) == sorted(expected, key=str)  # a compound phrase's facts come in any order


def test_normaliser_gives_a_misspelt_diet_entity_its_canonical_value(normaliser: NumberNormaliser) -> None:
    text = "青蒲的人才公寓"
    entity = {"entity": "district", "value": "青蒲", "start": 0, "end": 2, "extractor": "DIETClassifier"}
    message = Message(data={"text": text, "entities": [entity]})
    normaliser.process([message])
    assert [(e["entity"], e["value"]) for e in message.get("entities")] == [("district", "青浦")]
