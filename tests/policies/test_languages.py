"""Issue 6: the same person asked in Chinese and in English gets the same computed answer.

Every table-driven case in tests/policies/cases is evaluated for every topic twice: once with the
profile as a Chinese speaker states it (language zh) and once with each vocabulary value replaced by an
English word for it from policies/vocabulary.yml ("博士" → "phd", "青浦" → "qingpu"), in English. The
language-independent parts of the results — which policies, status, tier, amounts, unit, duration,
what is still missing, and the cited document — must be identical.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from policies import evaluate
from policies.engine import TOPICS
from tests.policies.test_cases import CASES

ROOT = Path(__file__).resolve().parents[2]
VOCABULARY = yaml.safe_load((ROOT / "policies/vocabulary.yml").read_text(encoding="utf-8"))
ASCII = re.compile(r"^[\x20-\x7e]+$")
COMPARED = (
    "policy_id",
    "district",
    "topic",
    "status",
    "tier",
    "max_amount",
    "min_amount",
    "unit",
    "duration_months",
    "missing_facts",
    "personalised",
    "superseded_by",
)


def english_word(field: str, value: Any) -> Any:
    """An English alias of a canonical (or aliased) vocabulary value of this profile field, if there is one."""
    if isinstance(value, list):
        return [english_word(field, item) for item in value]
    if not isinstance(value, str):
        return value
    for section in VOCABULARY.values():
        if section.get("field") != field:
            continue
        for canonical, aliases in section["values"].items():
            if value == canonical or value in (aliases or []):
                return next((alias for alias in aliases or [] if ASCII.match(alias)), value)
    return value


def in_english(profile: dict[str, Any]) -> dict[str, Any]:
    return {field: english_word(field, value) for field, value in profile.items()}


def comparable(evaluation: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {**{key: result[key] for key in COMPARED}, "doc_number": result["source"]["doc_number"]}
        for result in evaluation["results"]
    ]


def test_english_words_really_replace_the_chinese_ones() -> None:
    """Guards the test itself: the English profiles must differ from the Chinese ones where words exist."""
    profiles = [case.values[0]["profile"] for case in CASES]
    changed = sum(in_english(profile) != profile for profile in profiles)
    assert changed >= len(CASES) * 0.8, f"only {changed} of {len(CASES)} profiles have English words"
    assert english_word("education", "博士") == "phd"
    assert english_word("district", "青浦区") == "qingpu"


@pytest.mark.parametrize("topic", TOPICS)
@pytest.mark.parametrize("case", CASES)
def test_same_results_in_chinese_and_english(case: dict[str, Any], topic: str) -> None:
    chinese = evaluate(case["profile"], topic=topic, district=case.get("district"), language="zh")
    english = evaluate(
        in_english(case["profile"]),
        topic=topic,
        district=english_word("district", case.get("district")),
        language="en",
    )
    assert comparable(english) == comparable(chinese)
    assert english["missing_facts"] == chinese["missing_facts"]
    for result in english["results"]:  # the English answer is really in English, and still cites
        assert not re.search(r"[\u4e00-\u9fff]", result["summary"].split("(")[0][:12]), result["summary"]
        assert result["source"]["title"]  # the Chinese title; a plan may have no document number
