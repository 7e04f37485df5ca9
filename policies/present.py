"""One presentation of engine results: the wording table (messages.yml) and the formatters, in zh and en.

Everything here works on the result dictionaries `evaluate()` returns, so the actions, the staff console and
`python -m policies explain` can all use the same functions:

    amount_text(result, language)      "最高每月4000元" / "up to 4,000 yuan a month"
    amount_line(result, language)      "金额：最高每月4000元", or "待遇：…" (the benefit) when no amount is stated
    payout_and_duration(result, language)  "，按月发放，最长5年", the tail of an amount
    condition_lines(result, language)  ["符合：…", "待确认：…"], the failing condition first when ineligible
    bands_text(result, language)       "第一档每月1000元（40%）；…" for a benefit paid by yearly ranking
    status_label(status, language)     "可以享受" / "You qualify"
    status_in_a_line(status, language) "待确认" / "to be confirmed" (another item's line in an answer)
    discretion_text(result, language)  "（视实际贡献，由区人才工作主管部门审核兑现）" beside a maximum
    citation(source, language)         "《上海市青浦区…》（青委〔2020〕88号，2020-…）第三条"
    console_result(result, language)   one result as the staff console shows it (handoff payload, card)
    yuan_text(amount, language)        "500万元" / "5,000,000 yuan"
    number_text(value, language)       "4000" / "4,000"
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from .profile import PACKAGE_DIR
from .strict_yaml import load_yaml


@lru_cache(maxsize=1)
def messages() -> dict:
    """The wording table, zh and en (policies/messages.yml)."""
    return load_yaml(PACKAGE_DIR / "messages.yml")


def words(language: str) -> dict:
    return messages()[language]


def number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def number_text(value: Any, language: str) -> str:
    """4000 -> "4000" (zh) / "4,000" (en); whole floats lose their ".0"; anything else as it is."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    return f"{number(value):,}" if language == "en" else f"{number(value)}"


def yuan_text(amount: float, language: str) -> str:
    """500万元 / 4000元 in Chinese; 5,000,000 yuan in English (a language without `wan_yuan` counts in units)."""
    table = words(language)
    if "wan_yuan" in table and amount >= 10000 and amount % 10000 == 0:
        return table["wan_yuan"].format(amount=number_text(amount / 10000, language))
    return table["yuan"].format(amount=number_text(amount, language))


def format_amount(max_amount: float | None, min_amount: float | None, unit: str | None, language: str) -> str:
    """The amount as text, e.g. 最高每月4000元 / 6% to 48% of the average salary a year."""
    templates = words(language)["amount"]
    if max_amount is None or unit is None:
        return templates["none"]
    if unit == "percent_of_average_salary":
        low, high = (number(min_amount) if min_amount is not None else None), number(max_amount)
    else:
        low = yuan_text(min_amount, language) if min_amount is not None else None
        high = yuan_text(max_amount, language)
    if low is not None and min_amount != max_amount:
        return templates[f"{unit}_range"].format(min=low, max=high)
    return templates[unit].format(max=high)


def amount_text(result: Mapping[str, Any], language: str) -> str:
    """The amount of a result as text; the document's own words when it states no amount."""
    if not has_amount(result):
        return format_amount(None, None, None, language)
    return format_amount(result["max_amount"], result.get("min_amount"), result["unit"], language)


def has_amount(result: Mapping[str, Any]) -> bool:
    """Whether the document states a sum for this result (else only the benefit's words)."""
    return result.get("max_amount") is not None and result.get("unit") is not None


def amount_line(result: Mapping[str, Any], language: str) -> str:
    """ "金额：最高每月4000元"; "待遇：优先入学" (the benefit) when the document states no amount; "" when neither."""
    table = words(language)
    if has_amount(result):
        return table["amount_line"].format(amount=amount_text(result, language))
    benefit = result.get("benefit")
    return table["benefit_line"].format(benefit=benefit) if benefit else ""


def discretion_text(result: Mapping[str, Any], language: str) -> str:
    """Who sets the actual amount where the document says 视实际贡献, to follow the maximum; "" otherwise."""
    discretion = result.get("discretion")
    return words(language)["discretion_part"].format(discretion=discretion) if discretion else ""


def payout_and_duration(result: Mapping[str, Any], language: str) -> str:
    """How and how long it is paid, as the tail of an amount: "，按月发放，最长5年"."""
    table = words(language)
    text = ""
    # how money is paid says nothing when there is no sum (the engine then reports "not stated")
    if result.get("payout") and has_amount(result):
        text += table["payout_part"].format(payout=result["payout"])
    if result.get("duration"):
        text += table["duration_part"].format(duration=result["duration"])
    return text


def bands_text(result: Mapping[str, Any], language: str) -> str:
    """The bands of a benefit paid by ranking: 第一档：每月1000元（入选人数的40%）；…"""
    table = words(language)
    template = table["band"][result.get("unit") or "yuan"]
    return table["list_separator"].join(
        template.format(
            label=band["label"],
            amount=yuan_text(band["amount"], language),
            share=number(band["share_percent"]),
        )
        for band in result.get("bands") or []
    )


def status_label(status: str, language: str) -> str:
    return words(language)["explain"]["status"][status]


def status_in_a_line(status: str, language: str) -> str:
    """A result's state in a few words, for another item's line in an answer ("待确认", "the office decides")."""
    return words(language)["status_in_a_line"][status]


def _tier_name(entry: Mapping[str, Any]) -> str:
    return f"{entry['tier']}: {entry['label']}"


def condition_lines(result: Mapping[str, Any], language: str) -> list[str]:
    """Each condition of a result as a line; unmet first when the result is ineligible. A condition the person
    never answered reads "待确认"/"not checked", never "符合"."""
    entries = result.get("conditions")
    if not entries:
        return []
    table = messages()[language]
    separator = table["colon"]
    plain: list[tuple[str, str]] = []
    tiers: dict[str, list[Mapping[str, Any]]] = {"met": [], "unknown": [], "unmet": []}
    for entry in entries:
        if "tier" in entry:
            tiers.setdefault(entry["outcome"], []).append(entry)
        else:
            plain.append(
                (entry["outcome"], f"{table['outcome'][entry['outcome']]}{separator}{entry['label']}")
            )
    lines = [text for _, text in plain]
    for entry in tiers["met"]:
        lines.append(table["tier_met"].format(tier=entry["tier"], label=entry["label"]))
    if tiers["unknown"]:
        key = "tier_higher" if tiers["met"] else "tier_unknown"
        lines.append(
            table[key].format(labels=table["list_separator"].join(map(_tier_name, tiers["unknown"])))
        )
    if tiers["unmet"]:
        lines.append(
            table["no_tier"].format(labels=table["list_separator"].join(map(_tier_name, tiers["unmet"])))
        )
    if result.get("status") == "ineligible":
        failing = [text for outcome, text in plain if outcome == "unmet"]
        failing += [line for line in lines if line.startswith(table["no_tier"].split("{")[0])]
        lines = failing + [line for line in lines if line not in failing]
    return lines


def first_failure(result: Mapping[str, Any], language: str) -> str:
    """The condition that rules the person out (for "不符合条件（…）")."""
    lines = condition_lines({**result, "status": "ineligible"}, language)
    unmet_prefix = words(language)["outcome"]["unmet"]
    no_tier = words(language)["no_tier"].split("{")[0]
    for line in lines:
        if line.startswith(unmet_prefix) or line.startswith(no_tier):
            return line
    return ""


def citation(source: Mapping[str, Any] | None, language: str) -> str:
    """《title》（doc number，date）article; in English the official Chinese title, then its gloss.
    Parts a document lacks (some plans have no number) are left out with their separators."""
    source = dict(source or {})
    table = words(language)
    details = [str(source[key]) for key in ("doc_number", "date") if source.get(key)]
    text = table["citation"].format(
        title=source.get("title") or "",
        title_en=source.get("title_en") or source.get("title") or "",
        details=table["citation_separator"].join(details),
        article=source.get("article") or "",
    )
    return text.replace("（）", "").replace(" ()", "").replace(", , ", ", ").strip().rstrip(",").strip()


def console_result(result: Mapping[str, Any], language: str) -> dict[str, Any]:
    """One engine result as the staff console shows it: in the handoff payload the action server sends
    and in the card's re-run after an officer corrects a fact (docs/console-api.md: Case.result.results[])."""
    source = result.get("source") or {}
    return {
        "policy": result.get("title") or result.get("policy_id"),
        "policy_id": result.get("policy_id"),
        "status": result.get("status"),
        "status_label": status_label(str(result.get("status")), language),
        "tier": result.get("tier"),
        # the sum (with who decides it where the document says 视实际贡献), else the benefit's own words
        "amount": (amount_text(result, language) + discretion_text(result, language))
        if has_amount(result)
        else (result.get("benefit") or None),
        # how money is paid says nothing when there is no sum (as in the person's answer)
        "payout": result.get("payout") if result.get("max_amount") is not None else None,
        "duration": result.get("duration"),
        "conditions": condition_lines(result, language),
        "how_to_apply": result.get("how_to_apply"),
        "citation": {
            "document": source.get("title"),
            "number": source.get("doc_number"),
            "article": source.get("article"),
            "text": citation(source, language) if source else None,
        },
    }
