"""Every topic title of policies/topics.yml (topics and the overview, zh and en) is a training example of its intent:
the web chat greeting's topic buttons and the clarification question send the title as text."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from policies.topics import TOPICS_FILE
from scripts.nlu_eval import comparable

ROOT = Path(__file__).resolve().parents[2]

TOPIC_NAMES = yaml.safe_load(TOPICS_FILE.read_text(encoding="utf-8"))
# {language: {topic or "eligibility": its name}} (policies/topics.yml, the overview first)
LABELS = {
    language: {
        topic: names[language]
        for topic, names in {**TOPIC_NAMES["overview"], **TOPIC_NAMES["topics"]}.items()
    }
    for language in ("zh", "en")
}


@pytest.fixture(scope="module")
def trained_intents() -> dict[str, set[str]]:
    from rasa.shared.nlu.training_data.loading import load_data

    intents: dict[str, set[str]] = {}
    for message in load_data(str(ROOT / "data/nlu")).intent_examples:
        intents.setdefault(comparable(message.get("text")), set()).add(message.get("intent"))
    return intents


@pytest.mark.parametrize(
    "language, topic, title",
    [(language, topic, title) for language, titles in LABELS.items() for topic, title in titles.items()],
)
def test_topic_title_is_trained_as_its_intent(trained_intents, language: str, topic: str, title: str) -> None:
    assert trained_intents.get(comparable(title)) == {f"ask_{topic}"}
