"""Loads and checks the knowledge base: conditions, district files and policy files, all validated at load time.

Layout (see policies/README.md):
    policies/data/<district>/district.yml    the district: documents cited, offices, application routes, notes
    policies/data/<district>/conditions.yml  the named conditions that district's documents define (one
                                             namespace: a name is declared once, in the district it comes from)
    policies/data/<district>/*.yml           policy files, one per document or annex
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from .conditions import Condition, compile_conditions, load_conditions
from .errors import PolicyDataError
from .logic import Check, Thresholds, compile_condition
from .profile import PACKAGE_DIR, profile_fields
from .strict_yaml import load_yaml
from .validation import validate_against

DATA_DIR = PACKAGE_DIR / "data"
DISTRICT_FILE = "district.yml"
DISTRICT_CONDITIONS_FILE = "conditions.yml"

Text = Mapping[str, str]


@dataclass(frozen=True)
class Tier:
    tier: str
    label: Text | None
    condition: Condition | None
    check: Check
    max_amount: float | None
    min_amount: float | None
    unit: str | None
    benefit: Text | None
    article: Text | None


@dataclass(frozen=True)
class Policy:
    id: str
    district: str
    topic: str
    kind: str
    title: Text
    document: Mapping[str, Any]
    part: Text
    article: Text
    requires: tuple[Condition, ...]
    tiers: tuple[Tier, ...]
    max_amount: float | None
    min_amount: float | None
    unit: str | None
    bands: tuple[Mapping[str, Any], ...]
    benefit: Text
    payout: Text | None
    duration: Text | None
    duration_months: int | None
    how_to_apply: Text
    contact: Text
    exclusive_group: str | None
    precedence: int
    alongside: tuple[Mapping[str, Any], ...]
    notes: tuple[Text, ...]
    file: str
    valid_from: str = ""
    valid_until: str | None = None
    also_topics: tuple[str, ...] = ()
    confirm_last: tuple[Condition, ...] = ()  # scope rules asked once the rest holds; unknown -> not checked
    office_checks: tuple[Condition, ...] = ()  # conditions the office checks; always "not checked"
    tiers_are: str = "ranked"  # ranked: the first tier that holds, higher ones still possible; alternatives
    decision: str | None = None  # yearly_ranking: meeting the conditions only entitles the person to register
    not_for: Condition | None = (
        None  # the result is left out when this holds (e.g. the award for team members)
    )
    discretion: Text | None = None  # who sets the amount when the document says 视实际贡献

    def answers(self, topic: str) -> bool:
        """Whether the rule answers a question on this topic (its own topic or one it also covers)."""
        return topic == self.topic or topic in self.also_topics

    def in_force(self, on: str) -> bool:
        """Whether the rule applies on a day (ISO date text compares in date order)."""
        return self.valid_from <= on and (self.valid_until is None or on <= self.valid_until)


@dataclass
class KnowledgeBase:
    """The loaded knowledge base; not changed once `load_knowledge_base` returns it (scopes are cached)."""

    conditions: dict[str, Condition] = field(default_factory=dict)
    policies: list[Policy] = field(default_factory=list)
    districts: dict[str, Mapping[str, Any]] = field(default_factory=dict)
    # fact -> every number a compiled condition compares it with (logic.compile_condition gathers them)
    compared_numbers: Thresholds = field(default_factory=dict)
    _scopes: dict[tuple, tuple[Policy, ...]] = field(default_factory=dict, repr=False, compare=False)

    def by_id(self, policy_id: str) -> Policy:
        for policy in self.policies:
            if policy.id == policy_id:
                return policy
        raise KeyError(policy_id)

    def in_scope(self, districts: tuple[str, ...], topic: str | None, day: str) -> tuple[Policy, ...]:
        """The policies an evaluation must judge, in knowledge-base order: those of `districts` in force on
        `day` that answer `topic` (every one without a topic), and every member of an exclusive group they
        belong to or name in `alongside`, because 就高不重复 and the notes compare a result with those.
        Other topics' policies cannot change this topic's results. Computed once per key (question choice
        evaluates the same scope with each candidate answer)."""
        key = (districts, topic, day)
        scope = self._scopes.get(key)
        if scope is None:
            current = [p for p in self.policies if p.district in districts and p.in_force(day)]
            if topic:
                answering = [p for p in current if p.answers(topic)]
                groups = {p.exclusive_group for p in answering if p.exclusive_group}
                groups |= {rule["group"] for p in answering for rule in p.alongside}
                current = [p for p in current if p.answers(topic) or p.exclusive_group in groups]
            scope = self._scopes[key] = tuple(current)
        return scope

    def thresholds(self, fact: str) -> tuple[float, ...]:
        """The numbers the conditions compare a numeric fact with, ascending: where its answer can change."""
        return tuple(sorted({number for _, number in self.compared_numbers.get(fact, ())}))

    def comparisons(self, fact: str) -> tuple[tuple[str, float], ...]:
        """(comparison, number) of every condition on a numeric fact ("at_least", 120.0), sorted."""
        return tuple(sorted(self.compared_numbers.get(fact, ())))

    def value_for_bound(self, fact: str, bound: str, number: float) -> float | None:
        """One value standing for every value a bound allows, when every condition on the fact judges them
        all alike; None when the conditions tell them apart (the exact number is needed then).

        bound "<": below `number` ("积分还没到120": against 居住证积分 at_least 120 every such value fails,
        so 119 stands for them all; against 人才积分 at_least 45 they differ). bound ">": `number` or more
        ("海外经历3年以上" against at_least 3)."""
        comparisons = self.comparisons(fact)
        if bound == "<" and all(threshold >= number for _, threshold in comparisons):
            return number - 1
        if bound == ">" and all(
            threshold <= number if op in ("at_least", "less_than") else threshold < number
            for op, threshold in comparisons
        ):
            return number
        return None


def _load_district(folder: Path, known_districts: tuple[str, ...]) -> dict:
    path = folder / DISTRICT_FILE
    if not path.exists():
        raise PolicyDataError(str(folder), f"missing {DISTRICT_FILE}")
    data = load_yaml(path)
    validate_against("district_file", data, str(path))
    if data["district"] not in known_districts:
        raise PolicyDataError(
            f"{path} at district",
            f"{data['district']!r} is not a district of profile.yml/vocabulary.yml ({', '.join(known_districts)})",
        )
    return data


def _text_ref(value: Any, table: Mapping[str, Text], what: str, where: str) -> Text:
    if isinstance(value, str):
        if value not in table:
            raise PolicyDataError(where, f"unknown {what} {value!r}")
        return table[value]
    return value


def _checkable(named: Condition, where: str) -> Check:
    if named.check is None:
        raise PolicyDataError(where, f"condition {named.name!r} has no `when` and cannot be tested")
    return named.check


def _build_policy(
    entry: dict,
    district: dict,
    file_data: dict,
    conditions: dict[str, Condition],
    where: str,
    thresholds: Thresholds,
) -> Policy:
    def condition(name: str, at: str) -> Condition:
        if name not in conditions:
            raise PolicyDataError(at, f"unknown condition {name!r}")
        return conditions[name]

    if "tiers" in entry and {"max_amount", "min_amount", "unit"} & set(entry):
        raise PolicyDataError(where, "give amounts either in tiers or at the policy level, not both")
    if entry["kind"] == "computable" and "tiers" not in entry and "unit" not in entry:
        raise PolicyDataError(
            where, "a computable policy needs tiers or max_amount + unit (unit: null when no amount)"
        )
    requires = tuple(condition(name, f"{where}/requires") for name in entry.get("requires", []))
    confirm_last = tuple(condition(name, f"{where}/confirm_last") for name in entry.get("confirm_last", []))
    office_checks = tuple(
        condition(name, f"{where}/office_checks") for name in entry.get("office_checks", [])
    )
    for named in requires + confirm_last:
        if named.check is None:
            raise PolicyDataError(
                where, f"condition {named.name!r} has no `when`; list it under office_checks"
            )
    for named in office_checks:
        if named.check is not None:
            raise PolicyDataError(
                where, f"office_checks: {named.name!r} can be checked; list it under requires"
            )
    tiers = []
    for index, tier in enumerate(entry.get("tiers", [])):
        at = f"{where}/tiers/{index}"
        named = conditions.get(tier["when"]) if isinstance(tier["when"], str) else None
        if isinstance(tier["when"], str) and named is None:
            raise PolicyDataError(at, f"unknown condition {tier['when']!r}")
        if named is not None and named.check is None:
            raise PolicyDataError(at, f"condition {named.name!r} has no `when` and cannot choose a tier")
        check = (
            named.check
            if named
            else compile_condition(
                tier["when"], at, lambda n, at=at: _checkable(condition(n, at), at), thresholds
            )
        )
        if named is None and "label" not in tier:
            raise PolicyDataError(at, "a tier with an inline condition needs a label")
        tiers.append(
            Tier(
                tier=tier["tier"],
                label=tier.get("label") or named.label,
                condition=named,
                check=check,
                max_amount=tier["max_amount"],
                min_amount=tier.get("min_amount"),
                unit=tier["unit"],
                benefit=tier.get("benefit"),
                article=tier.get("article"),
            )
        )
    document = district["documents"].get(file_data["document"])
    if document is None:
        raise PolicyDataError(
            where, f"unknown document {file_data['document']!r} (declare it in {DISTRICT_FILE})"
        )
    notes = tuple(
        _text_ref(note, district.get("notes", {}), "note", f"{where}/notes")
        for note in entry.get("notes", [])
    )
    return Policy(
        id=entry["id"],
        district=district["district"],
        topic=entry["topic"],
        also_topics=tuple(entry.get("also_topics", ())),
        kind=entry["kind"],
        title=entry["title"],
        document=document,
        part=file_data["part"],
        article=entry["article"],
        requires=requires,
        tiers=tuple(tiers),
        max_amount=entry.get("max_amount"),
        min_amount=entry.get("min_amount"),
        unit=entry.get("unit"),
        bands=tuple(entry.get("bands", [])),
        benefit=entry["benefit"],
        payout=entry.get("payout"),
        duration=entry.get("duration"),
        duration_months=entry.get("duration_months"),
        how_to_apply=_text_ref(entry["how_to_apply"], district["routes"], "route", f"{where}/how_to_apply"),
        contact=_text_ref(entry["contact"], district["contacts"], "contact", f"{where}/contact"),
        exclusive_group=entry.get("exclusive_group"),
        precedence=entry.get("precedence", 0),
        alongside=tuple(entry.get("alongside", [])),
        notes=notes,
        file=where.split(" at ")[0],
        valid_from=entry.get("valid_from", document["date"]),
        valid_until=entry.get("valid_until"),
        confirm_last=confirm_last,
        office_checks=office_checks,
        tiers_are=entry.get("tiers_are", "ranked"),
        decision=entry.get("decision"),
        not_for=condition(entry["not_for"], f"{where}/not_for") if "not_for" in entry else None,
        discretion=entry.get("discretion"),
    )


def load_knowledge_base(data_dir: Path | str = DATA_DIR) -> KnowledgeBase:
    """Load every file, validate it strictly and compile the conditions. Raises PolicyDataError naming the file."""
    data_dir = Path(data_dir)
    known_districts = profile_fields()["district"].values
    raw_conditions: dict[str, tuple[dict, str]] = {}
    districts: dict[str, dict] = {}
    policy_files: list[tuple[Path, dict]] = []  # (file, {district, data})
    for folder in sorted(p for p in data_dir.iterdir() if p.is_dir()):
        district = _load_district(folder, known_districts)
        if district["district"] in districts:
            raise PolicyDataError(str(folder), f"district {district['district']!r} is declared twice")
        districts[district["district"]] = district
        if (folder / DISTRICT_CONDITIONS_FILE).exists():
            load_conditions(folder / DISTRICT_CONDITIONS_FILE, raw_conditions)
        for path in sorted(folder.glob("*.yml")):
            if path.name in (DISTRICT_FILE, DISTRICT_CONDITIONS_FILE):
                continue
            data = load_yaml(path)
            validate_against("policy_file", data, str(path))
            policy_files.append((path, {"district": district, "data": data}))
    documents: dict[str, Any] = {}
    for district in districts.values():
        for doc_id, document in district["documents"].items():
            if doc_id in documents:
                raise PolicyDataError(f"document {doc_id}", "declared by two districts")
            documents[doc_id] = document
    thresholds: Thresholds = {}
    conditions = compile_conditions(raw_conditions, documents, thresholds)
    base = KnowledgeBase(conditions=conditions, districts=districts, compared_numbers=thresholds)
    seen: dict[str, str] = {}
    for path, bundle in policy_files:
        for index, entry in enumerate(bundle["data"]["policies"]):
            where = f"{path} at policies/{index}"
            if entry["id"] in seen:
                raise PolicyDataError(where, f"policy id {entry['id']!r} already used in {seen[entry['id']]}")
            seen[entry["id"]] = str(path)
            base.policies.append(
                _build_policy(entry, bundle["district"], bundle["data"], conditions, where, thresholds)
            )
    _check_groups(base)
    return base


def _check_groups(base: KnowledgeBase) -> None:
    groups = {policy.exclusive_group for policy in base.policies if policy.exclusive_group}
    for policy in base.policies:
        for rule in policy.alongside:
            if rule["group"] not in groups:
                raise PolicyDataError(
                    policy.file, f"{policy.id}: alongside names unknown group {rule['group']!r}"
                )


@lru_cache(maxsize=1)
def default_knowledge_base() -> KnowledgeBase:
    """The shipped knowledge base, loaded once per process."""
    return load_knowledge_base()
