"""An evaluation for one topic judges only the policies that can change that topic's results
(KnowledgeBase.in_scope): the topic's own and the members of the exclusive groups they share or name.
Proved here against judging every policy of the district, for every profile case and topic."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from policies import TOPICS, default_knowledge_base, evaluate
from policies.engine import MEMO
from policies.knowledge import KnowledgeBase

CASES_DIR = Path(__file__).parent / "cases"
PROFILES = [
    case["profile"]
    for path in sorted(CASES_DIR.glob("*.yml"))
    for case in yaml.safe_load(path.read_text(encoding="utf-8"))
]


def every_policy(self: KnowledgeBase, districts: tuple[str, ...], topic: str | None, day: str) -> tuple:
    """The scope without the topic: what the engine judged before scopes."""
    return tuple(p for p in self.policies if p.district in districts and p.in_force(day))


@pytest.mark.parametrize("topic", TOPICS)
def test_a_topic_scope_gives_the_results_of_judging_every_policy(
    topic: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    scoped = [evaluate(profile, topic=topic) for profile in PROFILES]
    monkeypatch.setattr(KnowledgeBase, "in_scope", every_policy)
    MEMO.clear()  # the memo would answer from the scoped evaluations
    assert [evaluate(profile, topic=topic) for profile in PROFILES] == scoped


def test_a_scope_keeps_the_exclusive_group_of_its_topic() -> None:
    base = default_knowledge_base()
    scope = base.in_scope(("青浦",), "talent_apartment", "2026-12-01")
    ids = {p.id for p in scope}
    assert "qingpu.housing.talent_apartment" in ids
    # the apartment's note depends on the best of the housing subsidies (its `alongside` group)
    assert {p.id for p in base.policies if p.exclusive_group == "qingpu.housing_subsidy"} <= ids
    assert not any(p.topic == "talent_award" and p.exclusive_group is None for p in scope)
