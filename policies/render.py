"""Turns judgements into the result dictionaries of the API, in one language (zh or en).

Conditions come out as data (`conditions`); `reasons` are the same conditions as text, made by the one formatter in
policies/present.py, kept for callers that still print strings.
"""

from __future__ import annotations

from typing import Any

from .judgement import ConditionResult, Judgement
from .knowledge import Policy, Tier
from .present import amount_text, bands_text, condition_lines, discretion_text, first_failure, number, words
from .profile import profile_fields

SUMMARY_FACTS = 3  # a one-line summary names the first few missing facts; missing_facts has them all


def fact_labels(facts: list[str], language: str) -> str:
    specs = profile_fields()
    return words(language)["fact_separator"].join(specs[fact].label[language] for fact in facts)


_REFERRALS: dict[tuple[int, str], tuple[object, str]] = {}
_ENTRIES: dict[tuple[int, int, int, str], tuple[object, object, dict[str, Any]]] = {}


def condition_entry(check: ConditionResult, judgement: Judgement, language: str) -> dict[str, Any]:
    """{condition, outcome, label, article} of one condition (tier entries also carry `tier`)."""
    condition, tier, policy = check.condition, check.tier, judgement.policy
    key = (id(condition), id(tier), id(policy), language)
    cached = _ENTRIES.get(key)
    if cached is None or cached[0] is not condition or cached[1] is not tier:
        if tier is not None:
            article = tier.article or (condition.article if condition else policy.article)
            base = {
                "condition": condition.name if condition else f"tier_{tier.tier}",
                "label": tier.label[language],
                "article": article[language],
                "tier": tier.tier,
            }
        else:
            base = {
                "condition": condition.name,
                "label": condition.label[language],
                "article": condition.article[language],
            }
        cached = (condition, tier, base)
        _ENTRIES[key] = cached
    return {"condition": cached[2]["condition"], "outcome": check.outcome, **cached[2]}


def _review_rules(result: dict[str, Any], language: str) -> str:
    rules = [c["label"] for c in result["conditions"] if c["outcome"] == "review"]
    return words(language)["list_separator"].join(rules)


def summarise(judgement: Judgement, result: dict[str, Any], language: str) -> str:
    table = words(language)
    templates = table["summary"]
    policy = judgement.policy
    title = policy.title[language]
    status = judgement.status
    tier_part = table["tier_part"].format(tier=judgement.tier.tier) if judgement.tier else ""
    if status == "eligible":
        duration_part = (
            table["duration_part"].format(duration=policy.duration[language]) if policy.duration else ""
        )
        amount = amount_text(result, language)
        if result["max_amount"] is None:  # no amount in the document: say what the benefit is instead
            amount = result["benefit"].rstrip("。.")
        else:
            amount += discretion_text(result, language)
        return templates["eligible"].format(
            title=title, tier_part=tier_part, amount=amount, duration_part=duration_part
        )
    if status == "can_register":
        return templates["can_register"].format(
            title=title, bands=bands_text(result, language), duration=result["duration"] or ""
        )
    if status == "review":
        amount = amount_text(result, language) if result["max_amount"] is not None else result["benefit"]
        return templates["review"].format(
            title=title,
            tier_part=tier_part,
            rules=_review_rules(result, language),
            amount=amount.rstrip("。."),
            contact=result["contact"],
        )
    if status == "needs_info":
        facts = fact_labels(judgement.missing[:SUMMARY_FACTS], language)
        if len(judgement.missing) > SUMMARY_FACTS:
            facts += table["more_facts"]
        return templates["needs_info"].format(title=title, facts=facts)
    if status == "referral":  # the same words every time: built once
        key = (id(policy), language)
        cached = _REFERRALS.get(key)
        if cached is None or cached[0] is not policy:
            template = templates["personalised" if policy.kind == "personalised" else "referral"]
            cached = (
                policy,
                template.format(title=title, benefit=result["benefit"], contact=result["contact"]),
            )
            _REFERRALS[key] = cached
        return cached[1]
    if status == "superseded":
        return templates["superseded"].format(title=title, by=judgement.superseded_by.policy.title[language])
    return templates["ineligible"].format(title=title, reason=first_failure(result, language))


# The parts of a result that depend only on the policy, its tier and the language, built once per process.
# Keyed by object identity; the value keeps the policy and tier alive so an id is never reused for another.
_STATIC: dict[tuple[int, int, str], tuple[object, object, dict[str, Any]]] = {}


def _static_part(policy: Policy, tier: Tier | None, language: str) -> dict[str, Any]:
    key = (id(policy), id(tier), language)
    cached = _STATIC.get(key)
    if cached is not None and cached[0] is policy and cached[1] is tier:
        return cached[2]
    max_amount, min_amount, unit = (
        (tier.max_amount, tier.min_amount, tier.unit)
        if tier is not None
        else (policy.max_amount, policy.min_amount, policy.unit)
    )
    article = tier.article if tier is not None and tier.article else policy.article
    benefit = tier.benefit if tier is not None and tier.benefit else policy.benefit
    static = {
        "policy_id": policy.id,
        "district": policy.district,
        "topic": policy.topic,
        "title": policy.title[language],
        "benefit": benefit[language],
        "tier": tier.tier if tier is not None else None,
        "max_amount": number(max_amount) if max_amount is not None else None,
        "min_amount": number(min_amount) if min_amount is not None else None,
        "unit": unit,
        "bands": [
            {
                "label": band["label"][language],
                "share_percent": band["share_percent"],
                "amount": band["amount"],
            }
            for band in policy.bands
        ],
        "payout": policy.payout[language] if policy.payout else words(language)["no_payout"],
        "duration": policy.duration[language] if policy.duration else None,
        "duration_months": policy.duration_months,
        # 视实际贡献: who sets the actual amount (said beside the maximum wherever it is shown)
        "discretion": policy.discretion[language] if policy.discretion else None,
        "how_to_apply": policy.how_to_apply[language],
        "contact": policy.contact[language],
        "personalised": policy.kind == "personalised",
        "source": {
            "title": policy.document["title"],
            "title_en": policy.document["title_en"],
            "doc_number": policy.document["doc_number"],
            "date": policy.document["date"],
            "issuer": policy.document["issuer"][language],
            "part": policy.part[language],
            "article": article[language],
        },
    }
    _STATIC[key] = (policy, tier, static)
    return static


def render_result(judgement: Judgement, language: str) -> dict[str, Any]:
    """The API result of one policy: every text in `language`; official Chinese names kept in `source`."""
    static = _static_part(judgement.policy, judgement.tier, language)
    result: dict[str, Any] = {
        **static,
        "bands": [dict(band) for band in static["bands"]],
        "source": dict(static["source"]),
        "status": judgement.status,
        "missing_facts": list(judgement.missing),
        "conditions": [condition_entry(check, judgement, language) for check in judgement.checks],
        "notes": [note[language] for note in judgement.notes],
        "superseded_by": judgement.superseded_by.policy.id if judgement.superseded_by else None,
    }
    result["reasons"] = condition_lines(result, language)
    if judgement.superseded_by is not None:
        best = judgement.superseded_by.policy
        result["reasons"].append(
            words(language)["superseded"].format(title=best.title[language], policy_id=best.id)
        )
    result["summary"] = summarise(judgement, result, language)
    return result
