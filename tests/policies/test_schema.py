"""The loader is strict: every deliberately broken file below must fail loudly, naming the file and the problem."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from policies import PolicyDataError, load_knowledge_base
from policies.knowledge import DATA_DIR

GOOD_POLICY = """\
document: qingpu-2020-88
part: {zh: 测试, en: test}
policies:
  - id: qingpu.test.policy
    topic: rent_subsidy
    kind: computable
    title: {zh: 测试补贴, en: test subsidy}
    article: {zh: 附件4第一条, en: "Annex 4 art. 1"}
    requires: [qingpu_employer_registered]
    max_amount: 1000
    unit: yuan_per_month
    benefit: {zh: 每月1000元, en: "1,000 yuan a month"}
    how_to_apply: employer_application
    contact: talent_service_center
"""


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    """A writable copy of the shipped data (conditions included)."""
    shutil.copytree(DATA_DIR, tmp_path / "data")
    return tmp_path


def load(root: Path):
    return load_knowledge_base(root / "data")


def write_policy(root: Path, text: str) -> Path:
    path = root / "data" / "qingpu" / "zz-test.yml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_copy_itself_loads(data_copy: Path) -> None:
    write_policy(data_copy, GOOD_POLICY)
    base = load(data_copy)
    assert base.by_id("qingpu.test.policy").max_amount == 1000


def test_shipped_data_loads() -> None:
    base = load_knowledge_base()
    assert len(base.policies) > 50
    assert set(base.districts) == {"青浦", "松江", "长宁", "杨浦"}


BROKEN = {
    "duplicate key": (
        GOOD_POLICY.replace("    unit: yuan_per_month\n", "    unit: yuan_per_month\n    unit: yuan\n"),
        "duplicate key 'unit'",
    ),
    "unknown key": (
        GOOD_POLICY.replace("    max_amount: 1000\n", "    max_amount: 1000\n    amount: 1000\n"),
        "unknown key",
    ),
    "misspelt key": (GOOD_POLICY.replace("how_to_apply:", "how_to_aply:"), "how_to_aply"),
    "unknown condition": (
        GOOD_POLICY.replace("[qingpu_employer_registered]", "[no_such_condition]"),
        "unknown condition 'no_such_condition'",
    ),
    "unknown unit": (GOOD_POLICY.replace("unit: yuan_per_month", "unit: dollars"), "dollars"),
    "unknown topic": (GOOD_POLICY.replace("topic: rent_subsidy", "topic: parking"), "parking"),
    "missing English text": (
        GOOD_POLICY.replace("title: {zh: 测试补贴, en: test subsidy}", "title: {zh: 测试补贴}"),
        "'en' is a required property",
    ),
    "unknown document": (
        GOOD_POLICY.replace("document: qingpu-2020-88", "document: nowhere-1"),
        "unknown document 'nowhere-1'",
    ),
    "unknown route": (
        GOOD_POLICY.replace("how_to_apply: employer_application", "how_to_apply: by_pigeon"),
        "unknown route 'by_pigeon'",
    ),
    "unknown contact": (
        GOOD_POLICY.replace("contact: talent_service_center", "contact: mayor"),
        "unknown contact 'mayor'",
    ),
    "duplicate policy id": (
        GOOD_POLICY.replace("qingpu.test.policy", "qingpu.housing.purchase_subsidy"),
        "already used",
    ),
    "negative amount": (GOOD_POLICY.replace("max_amount: 1000", "max_amount: -5"), "-5"),
    "unquoted comma splits a mapping": (
        GOOD_POLICY.replace('en: "1,000 yuan a month"', "en: 1,000 yuan a month"),
        "unexpected",
    ),
    "number key from an unquoted comma": (
        GOOD_POLICY.replace('en: "1,000 yuan a month"', "en: 1,000"),
        "not text",
    ),
    "tiers and a flat amount together": (
        GOOD_POLICY.replace(
            "    max_amount: 1000\n",
            "    max_amount: 1000\n    tiers: [{tier: A, when: qingpu_housing_class_a, max_amount: 1, unit: yuan}]\n",
        ),
        "either in tiers or at the policy level",
    ),
    "computable without amount or tiers": (
        GOOD_POLICY.replace("    max_amount: 1000\n    unit: yuan_per_month\n", ""),
        "needs tiers or max_amount",
    ),
    "not YAML": ("policies: [unclosed\n", "not valid YAML"),
}


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_broken_policy_file_fails_loudly(data_copy: Path, name: str) -> None:
    text, expected = BROKEN[name]
    path = write_policy(data_copy, text)
    with pytest.raises(PolicyDataError) as error:
        load(data_copy)
    assert expected in str(error.value)
    if name not in ("unknown condition", "duplicate policy id"):
        assert path.name in str(error.value) or "zz-test" in str(error.value)


BROKEN_CONDITIONS = {
    "unknown profile field": (
        "when: {fact: employer_registered_in_district, equals: true}",
        "when: {fact: employer_in_moon, equals: true}",
        "unknown profile field 'employer_in_moon'",
    ),
    "value outside the vocabulary": (
        "{fact: education, equals: 博士}",
        "{fact: education, equals: 学士}",
        "'学士' is not one of",
    ),
    "wrong value type": ("{fact: age, at_most: 35}", "{fact: age, at_most: young}", "expected a number"),
    "order comparison on an unordered field": (
        "{fact: hukou, equals: 上海}",
        "{fact: hukou, at_least: 上海}",
        "needs a number or an ordered field",
    ),
    "two comparisons in one test": (
        "{fact: age, at_most: 35}",
        "{fact: age, at_most: 35, at_least: 20}",
        "exactly one of",
    ),
    "duplicate condition": (
        "  qingpu_personal_tax_and_insurance:\n",
        "  qingpu_employer_registered:\n",
        "duplicate key 'qingpu_employer_registered'",
    ),
}


@pytest.mark.parametrize("name", sorted(BROKEN_CONDITIONS))
def test_broken_condition_fails_loudly(data_copy: Path, name: str) -> None:
    old, new, expected = BROKEN_CONDITIONS[name]
    path = data_copy / "data" / "qingpu" / "conditions.yml"
    text = path.read_text(encoding="utf-8")
    assert old in text, "the fixture text drifted from conditions.yml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(PolicyDataError) as error:
        load(data_copy)
    assert expected in str(error.value)


LOOP = """
  loop_a:
    when: loop_b
    label: {zh: 甲, en: a}
    source: {document: qingpu-2020-88, article: {zh: 附件4, en: Annex 4}}
  loop_b:
    when: {any: [loop_a]}
    label: {zh: 乙, en: b}
    source: {document: qingpu-2020-88, article: {zh: 附件4, en: Annex 4}}
"""
NO_SOURCE = """
  no_source:
    when: {fact: age, at_most: 35}
    label: {zh: 年轻, en: young}
"""


@pytest.mark.parametrize(
    ("addition", "expected"), [(LOOP, "refers to itself"), (NO_SOURCE, "'source' is a required property")]
)
def test_added_broken_condition_fails(data_copy: Path, addition: str, expected: str) -> None:
    path = data_copy / "data" / "qingpu" / "conditions.yml"
    path.write_text(path.read_text(encoding="utf-8") + addition, encoding="utf-8")
    with pytest.raises(PolicyDataError) as error:
        load(data_copy)
    assert expected in str(error.value)


def test_district_not_in_vocabulary_fails(data_copy: Path) -> None:
    path = data_copy / "data" / "yangpu" / "district.yml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("district: 杨浦", "district: 浦东"), encoding="utf-8"
    )
    with pytest.raises(PolicyDataError, match="'浦东' is not a district"):
        load(data_copy)


def test_folder_without_district_file_fails(data_copy: Path) -> None:
    (data_copy / "data" / "pudong").mkdir()
    with pytest.raises(PolicyDataError, match="missing district.yml"):
        load(data_copy)


def test_a_changed_rule_is_a_new_dated_entry(data_copy: Path) -> None:
    import datetime

    from policies import evaluate

    old = GOOD_POLICY.replace(
        "    contact: talent_service_center\n",
        "    contact: talent_service_center\n    valid_until: 2024-12-31\n",
    )
    new = (
        GOOD_POLICY.replace("qingpu.test.policy", "qingpu.test.policy_2025")
        .replace("max_amount: 1000", "max_amount: 1200")
        .replace(
            "    contact: talent_service_center\n",
            "    contact: talent_service_center\n    valid_from: 2025-01-01\n",
        )
    )
    write_policy(data_copy, old + new.split("policies:\n", 1)[1])  # both versions in one file
    base = load(data_copy)
    profile = {"district": "青浦", "employer_registered_in_district": True}
    for day, expected in (
        (datetime.date(2024, 6, 1), ("qingpu.test.policy", 1000)),
        (datetime.date(2025, 6, 1), ("qingpu.test.policy_2025", 1200)),
    ):
        results = [
            r
            for r in evaluate(profile, knowledge=base, on=day)["results"]
            if r["policy_id"].startswith("qingpu.test")
        ]
        assert [(r["policy_id"], r["max_amount"]) for r in results] == [expected]


def test_condition_naming_an_unknown_condition_names_its_file(data_copy: Path) -> None:
    path = data_copy / "data" / "qingpu" / "conditions.yml"
    addition = """
  dangling:
    when: {any: [no_such_thing]}
    label: {zh: 悬空, en: dangling}
    source: {document: qingpu-2020-88, article: {zh: 附件4, en: Annex 4}}
"""
    path.write_text(path.read_text(encoding="utf-8") + addition, encoding="utf-8")
    with pytest.raises(PolicyDataError) as error:
        load(data_copy)
    assert "conditions.yml at conditions/dangling" in str(error.value) and "no_such_thing" in str(error.value)


REVIEW_WITHOUT_WHEN = """
  relax_only:
    review_when: true
    label: {zh: 可适当放宽, en: may be relaxed}
    source: {document: qingpu-2020-88, article: {zh: 附件3, en: Annex 3}}
"""


def test_review_when_without_when_fails(data_copy: Path) -> None:
    path = data_copy / "data" / "qingpu" / "conditions.yml"
    path.write_text(path.read_text(encoding="utf-8") + REVIEW_WITHOUT_WHEN, encoding="utf-8")
    with pytest.raises(PolicyDataError, match="review_when needs a `when`"):
        load(data_copy)


def test_office_only_condition_cannot_be_a_requirement(data_copy: Path) -> None:
    write_policy(
        data_copy,
        GOOD_POLICY.replace("requires: [qingpu_employer_registered]", "requires: [agri_team_composition]"),
    )
    with pytest.raises(PolicyDataError, match="list it under office_checks"):
        load(data_copy)


def test_checkable_condition_is_not_an_office_check(data_copy: Path) -> None:
    write_policy(
        data_copy,
        GOOD_POLICY.replace(
            "requires: [qingpu_employer_registered]", "office_checks: [qingpu_employer_registered]"
        ),
    )
    with pytest.raises(PolicyDataError, match="list it under requires"):
        load(data_copy)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ('    cites: {zh: "附件3第四条", en: "Annex 3 art. 4"}\n', ""),  # an office with no source
        (
            '    cites: {zh: "附件3第四条", en: "Annex 3 art. 4"}\n',
            "    source: office_practice\n",  # office practice without who confirmed it
        ),
    ],
)
def test_office_or_route_without_source_fails(data_copy: Path, old: str, new: str) -> None:
    path = data_copy / "data" / "qingpu" / "district.yml"
    text = path.read_text(encoding="utf-8")
    assert old in text, "the fixture text drifted from qingpu/district.yml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(PolicyDataError, match="district.yml"):
        load(data_copy)


def test_office_practice_with_who_confirmed_it_loads(data_copy: Path) -> None:
    path = data_copy / "data" / "qingpu" / "district.yml"
    old = '    cites: {zh: "附件3第四条", en: "Annex 3 art. 4"}\n'
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace(old, "    source: office_practice\n    confirmed_by: 区人才服务中心窗口（测试）\n", 1),
        encoding="utf-8",
    )
    assert (
        load(data_copy).districts["青浦"]["contacts"]["agriculture_committee"]["source"] == "office_practice"
    )
