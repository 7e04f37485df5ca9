"""The eligibility engine: one profile against the knowledge base, three-valued, with combination rules applied.

Evaluation happens in two passes so the combination rules see every overlapping benefit:
1. each policy of the selected district(s) (for a topic, those that can change its results:
   KnowledgeBase.in_scope) is judged on its own (requirements, then the tier): eligible, or review when a
   condition the document lets the office relax is unmet, or can_register when the office picks recipients by
   a yearly ranking; needs_info / ineligible / referral otherwise;
2. exclusive groups apply 就高不重复 (the highest certain benefit stays eligible; the others, and uncertain results
   worth no more, become superseded), `alongside` notes are attached; only then is the topic filter applied and the
   results rendered in one language (policies/render.py, wording from policies/present.py).
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from .errors import ProfileError
from .judgement import ConditionResult, Judgement, condition_outcome
from .knowledge import KnowledgeBase, Policy, Tier, default_knowledge_base
from .memo import EvaluationMemo, frozen_facts
from .profile import normalise_profile
from .render import render_result
from .topics import TOPICS

LANGUAGES = ("zh", "en")
# What the person can count on first: a certain benefit, a registration, an office decision, then the rest.
STATUS_ORDER = {
    "eligible": 0,
    "can_register": 1,
    "review": 2,
    "needs_info": 3,
    "referral": 4,
    "superseded": 5,
    "ineligible": 6,
}
# Statuses whose value is not certain: 就高不重复 compares them by what they could be worth, never as a sum owed.
UNCERTAIN = ("needs_info", "review", "can_register")
# Outcomes already computed in this process (policies/memo.py); MEMO.clear() forgets them.
MEMO = EvaluationMemo()
# How strongly a missing fact in a result of this status argues for asking it next.
MISSING_WEIGHT = {"needs_info": 3, "eligible": 1, "can_register": 1, "review": 1}


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


def _judge_conditions(policy: Policy, facts: Mapping[str, Any], judgement: Judgement) -> None:
    """Requirements (unknown -> ask), scope rules confirmed last, and the office's own checks."""
    for condition in policy.requires:
        outcome, missing = condition_outcome(condition, facts)
        judgement.checks.append(ConditionResult(outcome, condition))
        _add_missing(judgement.missing, missing)
    for condition in policy.confirm_last:
        outcome, missing = condition_outcome(condition, facts)
        judgement.checks.append(
            ConditionResult("not_checked" if outcome == "unknown" else outcome, condition)
        )
        _add_missing(judgement.confirm_missing, missing)
    for condition in policy.office_checks:
        judgement.checks.append(ConditionResult("not_checked", condition))


def _pick_tier(policy: Policy, facts: Mapping[str, Any], judgement: Judgement) -> bool | None:
    """Choose the tier: the first that holds. Ranked tiers above it that are still unknown stay as facts that could
    raise it; alternatives (equal classes) stop at the first that holds and ask nothing more."""
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
    if judgement.tier is not None and policy.tiers_are == "alternatives":
        unknown, tier_missing = [], []  # one class that holds decides: nothing else is worth asking
    duration = policy.duration_months
    candidates = unknown + ([judgement.tier] if judgement.tier else [])
    judgement.potential = max((total_value(t.max_amount, t.unit, duration) for t in candidates), default=0.0)
    if judgement.tier is not None:
        judgement.checks.append(ConditionResult("met", judgement.tier.condition, judgement.tier))
    judgement.checks.extend(ConditionResult("unknown", t.condition, t) for t in unknown)
    _add_missing(judgement.missing, tuple(tier_missing))
    if judgement.tier is None and not unknown:
        judgement.checks.extend(ConditionResult("unmet", t.condition, t) for t in failed)
        return False
    return True if judgement.tier is not None else None


def _status(policy: Policy, outcomes: set[str], tier_found: bool | None) -> str:
    if "unmet" in outcomes or tier_found is False:
        return "ineligible"
    if "unknown" in outcomes or tier_found is None:
        return "needs_info"
    if policy.kind != "computable":
        return "referral"
    if "review" in outcomes:
        return "review"
    if policy.decision == "yearly_ranking":
        return "can_register"
    return "eligible"


def judge(policy: Policy, facts: Mapping[str, Any]) -> Judgement:
    """Judge one policy: eligible / can_register / review / ineligible / needs_info, or referral (descriptive)."""
    checked = policy.requires or policy.confirm_last or policy.office_checks or policy.tiers
    if policy.kind != "computable" and not checked:  # a referral for everyone (most plan entries)
        return Judgement(
            policy=policy,
            status="referral",
            potential=total_value(policy.max_amount, policy.unit, policy.duration_months),
            notes=list(policy.notes),
        )
    judgement = Judgement(policy=policy, status="ineligible")
    _judge_conditions(policy, facts, judgement)
    outcomes = judgement.outcomes()
    tier_found = _pick_tier(policy, facts, judgement) if "unmet" not in outcomes else False
    if not policy.tiers:
        judgement.potential = total_value(policy.max_amount, policy.unit, policy.duration_months)
    judgement.status = _status(policy, outcomes, tier_found)
    if judgement.status in ("eligible", "can_register", "review"):
        # scope rules (confirm_last) are asked once the rest holds, when they can still change the answer
        _add_missing(judgement.missing, tuple(judgement.confirm_missing))
    elif judgement.status != "needs_info":
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
                judgement.status in UNCERTAIN and judgement.potential <= best.value
            )
            if judgement is not best and outranked:
                judgement.status = "superseded"
                judgement.superseded_by = best
                judgement.missing = []
    for judgement in judgements:
        for rule in judgement.policy.alongside:
            if rule["group"] in best_of_group and judgement.status not in ("superseded", "ineligible"):
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


def _left_out(policy: Policy, facts: Mapping[str, Any]) -> bool:
    """A result meant for someone else: another entry answers this person (e.g. team members, not leaders)."""
    if policy.not_for is None or policy.not_for.check is None:
        return False
    return policy.not_for.check(facts)[0] is True


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
    judgements = [judge(p, facts) for p in knowledge.in_scope(districts, topic or None, day)]
    apply_combination_rules(judgements)
    judgements = [j for j in judgements if not _left_out(j.policy, facts)]
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
    on = on or datetime.date.today()
    key, outcome = None, None
    if isinstance(topic, str) and topic in TOPICS and isinstance(district, str | None):
        # one topic (question choice asks the same again and again); an outcome without a topic holds
        # every policy, and copying it for each caller would cost more than evaluating it again
        key = (frozen_facts(facts), topic, district, language, on)
        outcome = MEMO.get(key, knowledge)
    if outcome is not None:
        return outcome
    judgements = judge_all(facts, topic=topic, district=district, knowledge=knowledge, on=on)
    outcome = {
        "profile": facts,
        "results": [render_result(j, language) for j in judgements],
        "missing_facts": rank_missing_facts(judgements),
    }
    return outcome if key is None else MEMO.put(key, knowledge, outcome)
