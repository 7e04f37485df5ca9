"""Smoke-train the shipped config.yml (epochs cut to 1) on a small fixture and parse through the model.

Proves that the pipeline's custom components load by module path, train, persist into a model
archive, load back from it and give canonical entities — the way `rasa train` and `rasa run` use them.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = Path(__file__).parent / "fixtures" / "nlu.yml"
FIXTURE_INTENTS = {"greet", "ask_rent_subsidy", "ask_hukou", "inform", "nlu_fallback"}


def quick_config(tmp_path: Path) -> Path:
    """config.yml as shipped, with every `epochs` set to 1 so the test stays fast."""
    config = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))
    for component in config["pipeline"] + config["policies"]:
        if "epochs" in component:
            component["epochs"] = 1
    path = tmp_path / "config.yml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def agent(tmp_path_factory, monkeypatch_module):
    from rasa.core.agent import Agent
    from rasa.model_training import train_nlu

    tmp_path = tmp_path_factory.mktemp("smoke")
    monkeypatch_module.chdir(ROOT)  # Rasa imports nlu.* from the working directory, as in production
    model = train_nlu(
        str(quick_config(tmp_path)), str(FIXTURE), str(tmp_path / "models"), fixed_model_name="smoke"
    )
    assert model and Path(model).exists()
    return Agent.load(model)


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def test_config_uses_the_custom_components() -> None:
    config = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))
    names = [component["name"] for component in config["pipeline"]]
    assert names[0] == "nlu.tokenizer.DomainJiebaTokenizer"
    # filler becomes nlu_fallback after Rasa's own threshold check
    assert names[-3:] == [
        "nlu.number_normaliser.NumberNormaliser",
        "FallbackClassifier",
        "nlu.unclear_intent.UnclearAsFallback",
    ]
    assert "nlu.vocabulary_extractor.VocabularyEntityExtractor" in names
    assert config["language"] == "zh" and config["recipe"] == "default.v1" and config["assistant_id"]


async def test_chinese_message_through_the_trained_model(agent) -> None:
    text = "我三十五岁，在青浦区上班，年薪120w，博士，副研究员"
    result = await agent.parse_message(text)
    entities = {(e["entity"], e["value"]) for e in result["entities"]}
    assert {
        ("age", 35),
        ("district", "青浦"),
        ("annual_salary", 120),
        ("education", "博士"),
        ("title", "副高级"),
    } <= entities
    for entity in result["entities"]:
        assert 0 <= entity["start"] < entity["end"] <= len(text)
    assert result["intent"]["name"] in FIXTURE_INTENTS


async def test_english_message_through_the_trained_model(agent) -> None:
    result = await agent.parse_message(
        "I'm 34, full-time bachelor's, associate senior title, working in Qingpu"
    )
    entities = {(e["entity"], e["value"]) for e in result["entities"]}
    assert {
        ("age", 34),
        ("education", "本科"),
        ("full_time", True),
        ("title", "副高级"),
        ("district", "青浦"),
    } <= entities


async def test_odd_input_gives_a_parse_not_an_error(agent) -> None:
    for text in ["😀😀", "a" * 5000, "35", "   ?"]:
        result = await agent.parse_message(text)
        assert result["intent"]["name"] in FIXTURE_INTENTS
