"""Readable answers: an evaluation printed the way a talent-policy officer would explain it."""

from __future__ import annotations

from typing import Any

from .engine import messages
from .profile import profile_fields
from .render import format_amount


def _profile_line(profile: dict[str, Any], language: str) -> str:
    specs = profile_fields()
    words = messages()[language]
    if not profile:
        return words["explain"]["no_profile"]
    parts = []
    for name, value in profile.items():
        shown = "、".join(value) if isinstance(value, list) and language == "zh" else value
        if isinstance(value, list) and language == "en":
            shown = ", ".join(value)
        if isinstance(value, bool):
            shown = ("是" if value else "否") if language == "zh" else ("yes" if value else "no")
        separator = "：" if language == "zh" else ": "
        parts.append(f"{specs[name].label[language]}{separator}{shown}")
    return words["fact_separator"].join(parts) if language == "zh" else "; ".join(parts)


def explain(evaluation: dict[str, Any], language: str = "zh") -> str:
    """The evaluation as plain text, grouped by status, each result with amount, reasons, route and citation."""
    words = messages()[language]["explain"]
    colon = "：" if language == "zh" else ": "
    lines = [words["header"].format(profile=_profile_line(evaluation["profile"], language)), ""]
    if not evaluation["results"]:
        lines.append(words["none"])
    for index, result in enumerate(evaluation["results"], start=1):
        status = words["status"][result["status"]]
        status = f"【{status}】" if language == "zh" else f"[{status}] "
        lines.append(f"{index}. {status}{result['summary']}")
        lines.append(f"   {words['benefit']}{colon}{result['benefit']}")
        if result["status"] in ("eligible", "referral") and result["max_amount"] is not None:
            amount = format_amount(result["max_amount"], result["min_amount"], result["unit"], language)
            lines.append(f"   {words['amount']}{colon}{amount}")
        if result["payout"] and result["status"] == "eligible":
            lines.append(f"   {words['payout']}{colon}{result['payout']}")
        if result["duration"] and result["status"] == "eligible":
            lines.append(f"   {words['duration']}{colon}{result['duration']}")
        for reason in result["reasons"]:
            lines.append(f"   - {reason}")
        if result["status"] in ("eligible", "needs_info", "referral"):
            lines.append(f"   {words['how_to_apply']}{colon}{result['how_to_apply']}")
            lines.append(f"   {words['contact']}{colon}{result['contact']}")
            for note in result["notes"]:
                lines.append(f"   {words['notes']}{colon}{note}")
        source = result["source"]
        title = source["title"] if language == "zh" else f"{source['title']} ({source['title_en']})"
        number = f" {source['doc_number']}" if source["doc_number"] else ""
        comma = "，" if language == "zh" else ", "
        lines.append(
            f"   {words['source']}{colon}《{title}》{number}{comma}{source['date']}{comma}{source['article']}"
        )
        lines.append("")
    if evaluation["missing_facts"]:
        question = profile_fields()[evaluation["missing_facts"][0]].question[language]
        lines.append(words["ask_next"].format(question=question))
    return "\n".join(lines).rstrip() + "\n"
