"""Readable answers: an evaluation printed the way a talent-policy officer would explain it.

Full detail (amount, payout, why, how to apply, whom to contact, the article) for what the person can get or must
ask about; one line each for what is undecided, superseded or ruled out; then the one question to ask next.
"""

from __future__ import annotations

from typing import Any

from .present import amount_text, bands_text, citation, messages
from .profile import profile_fields

GROUP_ORDER = ("eligible", "can_register", "review", "referral", "needs_info", "superseded", "ineligible")
DETAILED = ("eligible", "can_register", "review", "referral")
ZH_NUMERALS = "一二三四五"
ROMAN_NUMERALS = ("I", "II", "III", "IV", "V")


def _show_value(value: Any, language: str) -> str:
    if isinstance(value, bool):
        return ("是" if value else "否") if language == "zh" else ("yes" if value else "no")
    if isinstance(value, list):
        return ("、" if language == "zh" else ", ").join(value)
    return str(value)


def _show_fact(name: str, value: Any, language: str) -> str:
    shown = _show_value(value, language)
    if name.endswith("_wan"):  # amounts the person gives in 万元
        shown += "万元" if language == "zh" else " × 10,000 yuan"
    return shown


def _profile_line(profile: dict[str, Any], language: str) -> str:
    if not profile:
        return messages()[language]["explain"]["no_profile"]
    specs = profile_fields()
    colon, separator = ("：", "；") if language == "zh" else (": ", "; ")
    return separator.join(
        f"{specs[name].label[language]}{colon}{_show_fact(name, v, language)}" for name, v in profile.items()
    )


def _detailed(result: dict[str, Any], language: str, words: dict, colon: str) -> list[str]:
    lines = []
    if result["benefit"].rstrip("。.") not in result["summary"]:  # the summary already says it otherwise
        lines.append(f"   {words['benefit']}{colon}{result['benefit']}")
    if result["bands"]:
        lines.append(f"   {words['amount']}{colon}{bands_text(result, language)}")
    elif result["max_amount"] is not None:
        lines.append(f"   {words['amount']}{colon}{amount_text(result, language)}")
    if result["payout"] != messages()[language]["no_payout"]:
        lines.append(f"   {words['payout']}{colon}{result['payout']}")
    if result["duration"]:
        lines.append(f"   {words['duration']}{colon}{result['duration']}")
    lines.extend(f"   - {reason}" for reason in result["reasons"])
    lines.append(f"   {words['how_to_apply']}{colon}{result['how_to_apply']}")
    lines.append(f"   {words['contact']}{colon}{result['contact']}")
    lines.extend(f"   {words['notes']}{colon}{note}" for note in result["notes"])
    return lines


def explain(evaluation: dict[str, Any], language: str = "zh") -> str:
    """The evaluation as plain text, grouped by status, with citations and the next question to ask."""
    words = messages()[language]["explain"]
    colon = "：" if language == "zh" else ": "
    lines = [words["header"].format(profile=_profile_line(evaluation["profile"], language))]
    if not evaluation["results"]:
        lines += ["", words["none"]]
    shown = 0
    for status in GROUP_ORDER:
        group = [r for r in evaluation["results"] if r["status"] == status]
        if not group:
            continue
        number = f"{ZH_NUMERALS[shown]}、" if language == "zh" else f"{ROMAN_NUMERALS[shown]}. "
        shown += 1
        lines += ["", number + words["groups"][status]]
        for index, result in enumerate(group, start=1):
            lines.append(f"{index}. {result['summary']}")
            if status in DETAILED:
                lines.extend(_detailed(result, language, words, colon))
            lines.append(f"   {words['source']}{colon}{citation(result['source'], language)}")
    if evaluation["missing_facts"]:
        question = profile_fields()[evaluation["missing_facts"][0]].question[language]
        lines += ["", words["ask_next"].format(question=question)]
    return "\n".join(lines) + "\n"
