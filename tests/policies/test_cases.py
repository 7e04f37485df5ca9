"""Table-driven eligibility cases: each YAML case is a profile and the results it must produce.

Case layout (tests/policies/cases/*.yml):
    - name: unique description
      profile: {...}                      # raw input, aliases allowed
      topic / district / language: ...    # optional evaluate() arguments
      expect:                             # results that must be present, checked key by key
        - {policy: <policy_id>, status: eligible, tier: C, max_amount: 1000000, unit: yuan,
           superseded_by: <policy_id>, missing_facts: [..exact..], missing_includes: [..],
           reasons_include: [substring], reasons_exclude: [substring], summary_includes: [substring],
           summary_excludes: [substring], notes_include: [substring], reasons_first: substring,
           conditions: {condition_name: outcome, ...}}   # outcomes of the named conditions, exactly
      absent: [policy_id, ...]            # results that must not appear (other district or topic)
      missing_first: fact                 # the first top-level missing fact
      only_districts: [...]               # every result belongs to these districts
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from policies import evaluate

CASES_DIR = Path(__file__).parent / "cases"
RESULT_KEYS = (
    "status",
    "tier",
    "max_amount",
    "min_amount",
    "unit",
    "superseded_by",
    "personalised",
    "duration_months",
)


def _load_cases() -> list:
    cases = []
    for path in sorted(CASES_DIR.glob("*.yml")):
        for case in yaml.safe_load(path.read_text(encoding="utf-8")):
            cases.append(pytest.param(case, id=f"{path.stem}: {case['name']}"))
    return cases


CASES = _load_cases()


def test_case_names_are_unique() -> None:
    names = [param.id for param in CASES]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("case", CASES)
def test_case(case: dict) -> None:
    evaluation = evaluate(
        case["profile"],
        topic=case.get("topic"),
        district=case.get("district"),
        language=case.get("language", "zh"),
    )
    by_id = {result["policy_id"]: result for result in evaluation["results"]}
    for expected in case.get("expect", []):
        assert expected["policy"] in by_id, f"{expected['policy']} missing from {sorted(by_id)}"
        result = by_id[expected["policy"]]
        for key in RESULT_KEYS:
            if key in expected:
                assert result[key] == expected[key], (
                    f"{expected['policy']}.{key}: {result[key]!r} (reasons: {result['reasons']})"
                )
        if "missing_facts" in expected:
            assert result["missing_facts"] == expected["missing_facts"]
        for fact in expected.get("missing_includes", []):
            assert fact in result["missing_facts"], result["missing_facts"]
        for field, texts in (("reasons", "reasons_include"), ("notes", "notes_include")):
            for text in expected.get(texts, []):
                assert any(text in line for line in result[field]), f"{text!r} not in {result[field]}"
        for text in expected.get("summary_includes", []):
            assert text in result["summary"], result["summary"]
        for text in expected.get("summary_excludes", []):
            assert text not in result["summary"], result["summary"]
        for text in expected.get("reasons_exclude", []):
            assert not any(text in line for line in result["reasons"]), result["reasons"]
        if "reasons_first" in expected:
            assert result["reasons"][0].startswith(expected["reasons_first"]), result["reasons"]
        outcomes = {entry["condition"]: entry["outcome"] for entry in result["conditions"]}
        for name, outcome in expected.get("conditions", {}).items():
            assert outcomes.get(name) == outcome, f"{name}: {outcomes.get(name)!r} in {outcomes}"
    for policy_id in case.get("absent", []):
        assert policy_id not in by_id
    if "missing_first" in case:
        assert evaluation["missing_facts"][:1] == [case["missing_first"]], evaluation["missing_facts"]
    if "only_districts" in case:
        assert {result["district"] for result in evaluation["results"]} <= set(case["only_districts"])
        assert {result["district"] for result in evaluation["results"]} == set(case["only_districts"])
