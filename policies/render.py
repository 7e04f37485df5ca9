"""Turns judgements into the result dictionaries of the API, in one language (zh or en)."""

from __future__ import annotations

from typing import Any

from .engine import Judgement, messages
from .profile import profile_fields

SUMMARY_FACTS = 3  # a one-line summary names the first few missing facts; missing_facts has them all


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def format_yuan(amount: float, language: str) -> str:
    """500万元 / 4000元 in Chinese; 5,000,000 yuan in English."""
    if language == "zh":
        if amount >= 10000 and amount % 10000 == 0:
            return f"{_number(amount / 10000)}万元"
        return f"{_number(amount)}元"
    return f"{_number(amount):,} yuan"


def format_amount(max_amount: float | None, min_amount: float | None, unit: str | None, language: str) -> str:
    """The amount as text, e.g. 最高每月4000元 / 6% to 48% of the average salary a year."""
    templates = messages()[language]["amount"]
    if max_amount is None or unit is None:
        return templates["none"]
    if unit == "percent_of_average_salary":
        low, high = (_number(min_amount) if min_amount is not None else None), _number(max_amount)
    else:
        low = format_yuan(min_amount, language) if min_amount is not None else None
        high = format_yuan(max_amount, language)
    if low is not None and min_amount != max_amount:
        return templates[f"{unit}_range"].format(min=low, max=high)
    return templates[unit].format(max=high)


def fact_labels(facts: list[str], language: str) -> str:
    specs = profile_fields()
    separator = messages()[language]["fact_separator"]
    return separator.join(specs[fact].label[language] for fact in facts)


def render_reason(reason: tuple, language: str) -> str:
    words = messages()[language]
    kind = reason[0]
    if kind == "condition":
        _, value, condition = reason
        prefix = {True: words["met"], False: words["unmet"], None: words["unknown"]}[value]
        separator = "：" if language == "zh" else ": "
        return f"{prefix}{separator}{condition.label[language]}"
    if kind == "tier_met":
        tier = reason[1]
        return words["tier_met"].format(tier=tier.tier, label=tier.label[language])
    if kind in ("tier_unknown", "tier_higher", "no_tier"):
        labels = words["list_separator"].join(f"{t.tier}: {t.label[language]}" for t in reason[1])
        return words[kind].format(labels=labels)
    if kind == "superseded":
        policy = reason[1]
        return words["superseded"].format(title=policy.title[language], policy_id=policy.id)
    if kind == "note":
        return reason[1][language]
    raise ValueError(f"unknown reason kind {kind!r}")


def _first_failure(judgement: Judgement, language: str) -> str:
    for reason in judgement.reasons:
        if (reason[0] == "condition" and reason[1] is False) or reason[0] == "no_tier":
            return render_reason(reason, language)
    return ""


def summarise(judgement: Judgement, language: str) -> str:
    words = messages()[language]
    templates = words["summary"]
    policy = judgement.policy
    title = policy.title[language]
    status = judgement.status
    if status == "eligible":
        max_amount, min_amount, unit = judgement.amounts
        tier_part = words["tier_part"].format(tier=judgement.tier.tier) if judgement.tier else ""
        duration_part = (
            words["duration_part"].format(duration=policy.duration[language]) if policy.duration else ""
        )
        amount = format_amount(max_amount, min_amount, unit, language)
        if max_amount is None:  # no amount in the document: say what the benefit is instead of inventing one
            benefit = judgement.tier.benefit if judgement.tier and judgement.tier.benefit else policy.benefit
            amount = benefit[language].rstrip("。.")
        return templates["eligible"].format(
            title=title, tier_part=tier_part, amount=amount, duration_part=duration_part
        )
    if status == "needs_info":
        facts = fact_labels(judgement.missing[:SUMMARY_FACTS], language)
        if len(judgement.missing) > SUMMARY_FACTS:
            facts += messages()[language]["more_facts"]
        return templates["needs_info"].format(title=title, facts=facts)
    if status == "referral":
        key = "personalised" if policy.kind == "personalised" else "referral"
        return templates[key].format(
            title=title, benefit=policy.benefit[language], contact=policy.contact[language]
        )
    if status == "superseded":
        return templates["superseded"].format(title=title, by=judgement.superseded_by.policy.title[language])
    return templates["ineligible"].format(title=title, reason=_first_failure(judgement, language))


def render_result(judgement: Judgement, language: str) -> dict[str, Any]:
    """The API result of one policy: every text in `language`; official Chinese names kept in `source`."""
    policy = judgement.policy
    max_amount, min_amount, unit = judgement.amounts
    tier = judgement.tier
    article = tier.article if tier is not None and tier.article else policy.article
    benefit = tier.benefit if tier is not None and tier.benefit else policy.benefit
    return {
        "policy_id": policy.id,
        "district": policy.district,
        "topic": policy.topic,
        "title": policy.title[language],
        "benefit": benefit[language],
        "tier": tier.tier if tier is not None else None,
        "status": judgement.status,
        "max_amount": _number(max_amount) if max_amount is not None else None,
        "min_amount": _number(min_amount) if min_amount is not None else None,
        "unit": unit,
        "bands": [
            {
                "label": band["label"][language],
                "share_percent": band.get("share_percent"),
                "amount": band["amount"],
            }
            for band in policy.bands
        ],
        "payout": policy.payout[language] if policy.payout else messages()[language]["no_payout"],
        "duration": policy.duration[language] if policy.duration else None,
        "duration_months": policy.duration_months,
        "missing_facts": list(judgement.missing),
        "reasons": [render_reason(reason, language) for reason in judgement.reasons],
        "how_to_apply": policy.how_to_apply[language],
        "contact": policy.contact[language],
        "notes": [note[language] for note in judgement.notes],
        "personalised": policy.kind == "personalised",
        "superseded_by": judgement.superseded_by.policy.id if judgement.superseded_by else None,
        "summary": summarise(judgement, language),
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
