"""Small formatting helpers: engine values -> response variables. Wording comes from labels.yml."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from actions.config import label, labels


def fragment(language: str, name: str, **values: Any) -> str:
    """A labels.yml fragment with its placeholders filled."""
    return label("fragments", language, name).format(**values)


def value_label(value: Any, language: str) -> str:
    """How a canonical value (district, degree, ...) is shown in the conversation's language."""
    if value is None:
        return ""
    return label("value_labels", language, str(value))


def format_number(number: Any, language: str) -> str:
    """4000 -> "4000" (zh) / "4,000" (en); whole floats lose their ".0"."""
    if isinstance(number, float) and number.is_integer():
        number = int(number)
    if isinstance(number, int | float):
        return f"{number:,}" if language == "en" else f"{number}"
    return str(number)


def amount_text(result: Mapping[str, Any], language: str) -> str:
    """ "金额：最高4000元/月" / "Amount: up to 4,000 CNY per month", or "" when there is no amount."""
    amount, unit = result.get("max_amount"), result.get("unit")
    unit_text = label("units", language, str(unit)) if unit else ""
    if amount is None:
        return fragment(language, "amount_no_number", unit=unit_text) if unit_text else ""
    return fragment(language, "amount", amount=format_number(amount, language), unit=unit_text).strip()


def duration_text(result: Mapping[str, Any], language: str) -> str:
    """Payout and duration as one tail of the amount line ("，按月发放，期限最长3年")."""
    text = ""
    if result.get("payout"):
        text += fragment(language, "payout", payout=result["payout"])
    if result.get("duration"):
        text += fragment(language, "duration", duration=result["duration"])
    return text


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
    return join_list((label("fact_labels", language, fact) for fact in facts), language)


def how_to_apply_text(result: Mapping[str, Any], language: str) -> str:
    how = result.get("how_to_apply")
    if isinstance(how, list | tuple):
        return join_list(how, language)
    return str(how) if how else fragment(language, "none")


def citation(source: Mapping[str, Any] | None, language: str) -> str:
    """《title》（doc number, date）article — in English with the Chinese title kept beside the gloss."""
    source = dict(source or {})
    values = {key: source.get(key) or "" for key in ("title", "doc_number", "date", "article")}
    values["title_zh"] = source.get("title_zh") or ""
    if language == "en" and values["title_zh"] == values["title"]:
        values["title_zh"] = ""
    name = "citation" if values["article"] else "citation_no_article"
    return fragment(language, name, **values).strip()


def result_variables(result: Mapping[str, Any], language: str) -> dict[str, str]:
    """All variables the utter_result_* responses use."""
    return {
        "benefit": str(result.get("benefit") or result.get("policy_id") or ""),
        "district_label": value_label(result.get("district"), language),
        "tier_text": tier_text(result, language),
        "amount_text": amount_text(result, language),
        "duration_text": duration_text(result, language),
        "conditions_text": join_list(result.get("reasons") or [], language),
        "missing_text": missing_text(result.get("missing_facts") or [], language),
        "how_to_apply": how_to_apply_text(result, language),
        "citation": citation(result.get("source"), language),
    }


def known_units() -> set[str]:
    """Units labels.yml can name (tests check the engine uses no other)."""
    return set(labels().get("units", {}).get("zh", {}))
