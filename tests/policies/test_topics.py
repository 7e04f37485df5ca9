"""policies/topics.yml is the one home of the topics: the schema's enum and the engine agree with it."""

from __future__ import annotations

from policies import TOPICS
from policies.knowledge import default_knowledge_base
from policies.strict_yaml import load_yaml
from policies.topics import topic_label
from policies.validation import SCHEMA_FILE


def test_the_schemas_topic_enum_equals_the_engines_topics() -> None:
    policy = load_yaml(SCHEMA_FILE)["$defs"]["policy"]["properties"]
    assert policy["topic"]["enum"] == list(TOPICS)
    assert policy["also_topics"]["items"]["enum"] == list(TOPICS)


def test_every_topic_has_a_policy_and_a_name_in_each_language() -> None:
    answered = {t for p in default_knowledge_base().policies for t in (p.topic, *p.also_topics)}
    assert answered == set(TOPICS)
    assert (
        topic_label("rent_subsidy", "zh") == "租房补贴"
        and topic_label("rent_subsidy", "en") == "Rent subsidy"
    )
    assert topic_label("eligibility", "en") == "What can I get?"
    assert all(topic_label(t, "zh") != t and topic_label(t, "en") != t for t in TOPICS)
    assert topic_label("no_such_topic", "en") == "no_such_topic"
