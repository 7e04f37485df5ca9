"""The eligibility engine: one profile against the knowledge base, three-valued, with combination rules applied.

Evaluation happens in two passes so the combination rules see every overlapping benefit:
1. each policy of the selected district(s) is judged on its own (requirements, then the first tier that holds);
2. exclusive groups apply 就高不重复 (the highest eligible benefit stays eligible, the others become superseded),
   `alongside` notes are attached; only then is the topic filter applied and the results rendered in one language.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from .errors import ProfileError
from .knowledge import KnowledgeBase, Policy, Tier, default_knowledge_base
from .profile import PACKAGE_DIR, normalise_profile
from .strict_yaml import load_yaml

TOPICS = (
    "rent_subsidy",
    "purchase_subsidy",
    "talent_apartment",
    "hukou",
    "residence_permit",
    "children_school",
    "talent_award",
    "entrepreneur_support",
    "medical_service",
    "spouse_employment",
    "skill_training",
    "overseas_talent",
    "service_contact",
)
LANGUAGES = ("zh", "en")
STATUS_ORDER = {"eligible": 0, "needs_info": 1, "referral": 2, "superseded": 3, "ineligible": 4}
# How strongly a missing fact in a result of this status argues for asking it next.
MISSING_WEIGHT = {"needs_info": 3, "eligible": 1}


@lru_cache(maxsize=1)
def messages() -> dict:
    return load_yaml(PACKAGE_DIR / "messages.yml")


@dataclass
class Judgement:
    """One policy judged against one profile, before rendering."""

    policy: Policy
    status: str
    tier: Tier | None = None
    missing: list[str] = field(default_factory=list)
    reasons: list[tuple] = field(default_factory=list)
    notes: list[Mapping[str, str]] = field(default_factory=list)
    value: float = 0.0  # comparable total in yuan, for 就高不重复 and sorting
    potential: float = 0.0  # the highest value still possible while facts are missing
    superseded_by: Judgement | None = None

    @property
    def amounts(self) -> tuple[float | None, float | None, str | None]:
        source = self.tier if self.tier is not None else self.policy
        return source.max_amount, source.min_amount, source.unit


def total_value(amount: float | None, unit: str | None, duration_months: int | None) -> float:
    """A comparable total in yuan: monthly and yearly benefits count over their duration cap."""
    if amount is None or unit is None:
        return 0.0
    if unit == "yuan":
        return float(amount)
    months = duration_months or 12
    if unit == "yuan_per_month":
        return float(amount) * months
    if unit == "yuan_per_year":
        return float(amount) * months / 12
    return 0.0  # a percentage of the average salary has no yuan value here


def _add_missing(missing: list[str], facts: tuple[str, ...]) -> None:
    for fact in facts:
        if fact not in missing:
            missing.append(fact)


def _judge_requirements(policy: Policy, facts: Mapping[str, Any], judgement: Judgement) -> bool | None:
    overall: bool | None = True
    for condition in policy.requires:
        value, missing = condition.check(facts)
        judgement.reasons.append(("condition", value, condition))
        if value is False:
            overall = False
        elif value is None:
            _add_missing(judgement.missing, missing)
            if overall is True:
                overall = None
    return overall


def _pick_tier(policy: Policy, facts: Mapping[str, Any], judgement: Judgement) -> bool | None:
    """Choose the first tier that holds; unknown tiers above it stay as missing facts that could raise it."""
    if not policy.tiers:
        return True
    unknown: list[Tier] = []
    failed: list[Tier] = []
    tier_missing: list[str] = []
    for tier in policy.tiers:
        value, missing = tier.check(facts)
        if value is True:
            judgement.tier = tier
            break
        if value is None:
            unknown.append(tier)
            _add_missing(tier_missing, missing)
        else:
            failed.append(tier)
    duration = policy.duration_months
    candidates = unknown + ([judgement.tier] if judgement.tier else [])
    judgement.potential = max((total_value(t.max_amount, t.unit, duration) for t in candidates), default=0.0)
    if judgement.tier is not None:
        judgement.reasons.append(("tier_met", judgement.tier))
    if unknown:
        judgement.reasons.append(("tier_higher" if judgement.tier else "tier_unknown", unknown))
        _add_missing(judgement.missing, tuple(tier_missing))
    if judgement.tier is None and not unknown:
        judgement.reasons.append(("no_tier", failed))
        return False
    return True if judgement.tier is not None else None


def judge(policy: Policy, facts: Mapping[str, Any]) -> Judgement:
    """Judge one policy: eligible / ineligible / needs_info for computable policies, referral for the others."""
    judgement = Judgement(policy=policy, status="ineligible")
    requirements = _judge_requirements(policy, facts, judgement)
    tier_found = _pick_tier(policy, facts, judgement) if requirements is not False else False
    if not policy.tiers:
        judgement.potential = total_value(policy.max_amount, policy.unit, policy.duration_months)
    if requirements is False or tier_found is False:
        judgement.status = "ineligible"
        judgement.missing = []
    elif requirements is None or (tier_found is None):
        judgement.status = "needs_info"
    elif policy.kind == "computable":
        judgement.status = "eligible"
    else:
        judgement.status = "referral"
        judgement.missing = []
    max_amount, _, unit = judgement.amounts
    judgement.value = (
        total_value(max_amount, unit, policy.duration_months) if judgement.status == "eligible" else 0.0
    )
    judgement.notes = list(policy.notes)
    return judgement


def apply_combination_rules(judgements: list[Judgement]) -> None:
    """就高不重复 within each exclusive group, then notes for benefits that may be combined under a condition."""
    groups: dict[str, list[Judgement]] = {}
    for judgement in judgements:
        if judgement.policy.exclusive_group:
            groups.setdefault(judgement.policy.exclusive_group, []).append(judgement)
    best_of_group: dict[str, Judgement] = {}
    for name, members in groups.items():
        eligible = [j for j in members if j.status == "eligible"]
        if not eligible:
            continue
        best = max(eligible, key=lambda j: (j.value, -j.policy.precedence))
        best_of_group[name] = best
        for judgement in members:
            outranked = judgement.status == "eligible" or (
                judgement.status == "needs_info" and judgement.potential <= best.value
            )
            if judgement is not best and outranked:
                judgement.status = "superseded"
                judgement.superseded_by = best
                judgement.missing = []
                judgement.reasons.append(("superseded", best.policy))
    for judgement in judgements:
        for rule in judgement.policy.alongside:
            if rule["group"] in best_of_group and judgement.status in ("eligible", "needs_info", "referral"):
                judgement.notes.insert(0, rule["note"])


def _select_districts(base: KnowledgeBase, district: str | None, facts: Mapping[str, Any]) -> tuple[str, ...]:
    """The district argument wins; else the profile's district; else every district (to compare them)."""
    if district in (None, ""):
        district = facts.get("district")
    if district in (None, "all", "*"):
        return tuple(base.districts)
    canonical = normalise_profile({"district": district})["district"]
    if canonical not in base.districts:
        raise ProfileError("district", f"no policy data for {canonical!r}")
    return (canonical,)


def rank_missing_facts(judgements: list[Judgement]) -> list[str]:
    """Facts most worth asking next: those missing from the most undecided results first, then profile order."""
    score: dict[str, int] = {}
    first_seen: dict[
        str, int
    ] = {}  # ties: the order the (sorted) results and their conditions mention the fact
    for judgement in judgements:
        for fact in judgement.missing:
            weight = MISSING_WEIGHT.get(judgement.status, 0)
            if judgement.policy.kind != "computable":
                weight = min(weight, 1)  # a fact that only leads to a referral matters less than an amount
            score[fact] = score.get(fact, 0) + weight
            first_seen.setdefault(fact, len(first_seen))
    return sorted((f for f in score if score[f] > 0), key=lambda f: (-score[f], first_seen[f]))


def _sort_key(judgement: Judgement) -> tuple:
    """Status order; referrals whose conditions the person meets before general ones; then the largest total."""
    specific = judgement.status == "referral" and bool(judgement.policy.requires)
    amount = judgement.value if judgement.status == "eligible" else judgement.potential
    return (STATUS_ORDER[judgement.status], not specific, -amount, judgement.policy.id)


def judge_all(
    facts: Mapping[str, Any],
    *,
    topic: str | None,
    district: str | None,
    knowledge: KnowledgeBase,
    on: datetime.date | None = None,
) -> list[Judgement]:
    """Judge the rules in force on `on` (default today), combine, filter by topic and sort; language-independent."""
    if topic not in (None, "") and topic not in TOPICS:
        raise ProfileError("topic", f"unknown topic {topic!r}; expected one of {', '.join(TOPICS)}")
    districts = _select_districts(knowledge, district, facts)
    day = (on or datetime.date.today()).isoformat()
    judgements = [judge(p, facts) for p in knowledge.policies if p.district in districts and p.in_force(day)]
    apply_combination_rules(judgements)
    if topic:
        judgements = [j for j in judgements if j.policy.answers(topic)]
    judgements.sort(key=_sort_key)
    return judgements


def evaluate(
    profile: Mapping[str, Any],
    *,
    topic: str | None = None,
    district: str | None = None,
    language: str = "zh",
    knowledge: KnowledgeBase | None = None,
    on: datetime.date | None = None,
) -> dict:
    """Evaluate a profile against the policies; see docs in policies/README.md for the result shape.

    `on` picks the rules in force on that day (default today): a changed rule is a new dated entry.
    Raises ProfileError (naming the field) for an unknown field or value, topic, district or language.
    """
    if language not in LANGUAGES:
        raise ProfileError("language", f"unknown language {language!r}; expected zh or en")
    facts = normalise_profile(profile)
    knowledge = knowledge or default_knowledge_base()
    judgements = judge_all(facts, topic=topic, district=district, knowledge=knowledge, on=on)
    from .render import render_result  # local: render imports engine helpers

    return {
        "profile": facts,
        "results": [render_result(j, language) for j in judgements],
        "missing_facts": rank_missing_facts(judgements),
    }
