"""Small formatting helpers: engine values -> response variables. Wording comes from labels.yml; amounts,
payouts and durations from policies/present.py, the one presentation of engine results."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from actions.config import label, profile_fields, settings
from policies.present import amount_line, citation, number_text, payout_and_duration


def fragment(language: str, name: str, **values: Any) -> str:
    """A labels.yml fragment with its placeholders filled."""
    return label("fragments", language, name).format(**values)


def value_label(value: Any, language: str) -> str:
    """How a canonical value (district, degree, ...) is shown in the conversation's language."""
    if value is None:
        return ""
    return label("value_labels", language, str(value))


def amount_and_duration(result: Mapping[str, Any], language: str) -> dict[str, str]:
    """The amount line and its tail (policies/present.py), without a sentence stop in between
    ("…补贴。，按月" reads badly)."""
    amount, tail = amount_line(result, language), payout_and_duration(result, language)
    if tail:
        amount = amount.rstrip("。. ")
    return {"amount_text": amount, "duration_text": tail}


def tier_text(result: Mapping[str, Any], language: str) -> str:
    tier = result.get("tier")
    return fragment(language, "tier", tier=tier) if tier else ""


def _reason_text(reason: Any) -> str:
    if isinstance(reason, Mapping):
        for key in ("text", "label", "description", "condition"):
            if reason.get(key):
                return str(reason[key])
        return ""
    return str(reason)


def join_list(items: Iterable[Any], language: str) -> str:
    """Items joined with the language's separator; "无"/"none" when empty."""
    texts = [text for text in (_reason_text(item) for item in items) if text]
    return label("fragments", language, "list_separator").join(texts) or fragment(language, "none")


def missing_text(facts: Iterable[str], language: str) -> str:
    """Short names of facts (policies/profile.yml labels): "学历、职称" / "degree, title"."""
    fields = profile_fields()
    names = [fields.get(fact, {}).get("label", {}).get(language, fact) for fact in facts]
    return label("fragments", language, "fact_separator").join(names) or fragment(language, "none")


def how_to_apply_text(result: Mapping[str, Any], language: str) -> str:
    how = result.get("how_to_apply")
    if isinstance(how, list | tuple):
        return join_list(how, language)
    return str(how) if how else fragment(language, "none")


def short_citation(source: Mapping[str, Any] | None, language: str) -> str:
    """The document number (else the title) for one overview line: "依据青委〔2020〕88号"."""
    source = dict(source or {})
    doc = source.get("doc_number") or source.get("title")
    return fragment(language, "short_citation", doc=doc) if doc else ""


def fact_value_text(value: Any, language: str) -> str:
    """A recorded fact's value as the person reads it: 是/否 for yes-no facts, labels for known values."""
    if isinstance(value, bool):
        return label("fragments", language, "yes" if value else "no")
    if isinstance(value, list | tuple):
        return label("fragments", language, "fact_separator").join(
            fact_value_text(v, language) for v in value
        )
    return value_label(value, language) if isinstance(value, str) else number_text(value, language)


def noted_facts_text(facts: Iterable[tuple[str, Any]], language: str) -> str:
    """ "学历：博士、所在区：松江" / "education: PhD, district: Songjiang (松江)"."""
    fields = profile_fields()
    parts = [
        fragment(
            language,
            "noted_fact",
            label=fields.get(field, {}).get("label", {}).get(language, field),
            value=fact_value_text(value, language),
        )
        for field, value in facts
    ]
    return label("fragments", language, "fact_separator").join(parts)


def result_variables(result: Mapping[str, Any], language: str) -> dict[str, str]:
    """The variables of the follow-ups (how to apply, the source, a question about the answer) and of
    the overview lines."""
    max_reasons = settings()["answer"]["max_reasons"]
    return {
        "title": str(result.get("title") or result.get("policy_id") or ""),
        "benefit": str(result.get("benefit") or ""),
        "summary": str(result.get("summary") or ""),
        "contact": str(result.get("contact") or fragment(language, "none")),
        "district_label": value_label(result.get("district"), language),
        "tier_text": tier_text(result, language),
        **amount_and_duration(result, language),
        "conditions_text": join_list((result.get("reasons") or [])[:max_reasons], language),
        "missing_text": missing_text(result.get("missing_facts") or [], language),
        "how_to_apply": how_to_apply_text(result, language),
        "citation": citation(result.get("source"), language),
        "short_citation": short_citation(result.get("source"), language),
    }
