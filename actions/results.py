"""Engine results as the conversation uses them: which to lead with, which to keep for follow-ups.

Pure helpers shared by the answer, the follow-ups and the handoff (no action imports: this module is
what lets answer.py and handoff.py use the same choices without importing each other).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# the overview topic ("我能享受哪些政策") answers across topics
OVERVIEW_TOPIC = "eligibility"
# what the person can get first; a status this table does not know (the knowledge base may add some,
# e.g. `review`, `can_register`) ranks with the case-by-case ones
STATUS_RANK = {"eligible": 0, "referral": 1, "needs_info": 2, "superseded": 3, "ineligible": 4}
UNKNOWN_STATUS_RANK = 1
# statuses that mean the person may really get something
NOT_FOUND = {"needs_info", "superseded", "ineligible"}
# what "怎么申请"/"依据是什么"/"更多" later need of each result
REMEMBERED_KEYS = ("policy_id", "title", "district", "status", "how_to_apply", "contact", "source", "topic")


def status_rank(result: Mapping[str, Any]) -> int:
    return STATUS_RANK.get(str(result.get("status")), UNKNOWN_STATUS_RANK)


def is_found(result: Mapping[str, Any]) -> bool:
    """Eligible, case by case, or any status the dialogue does not know yet (never silently dropped)."""
    return result.get("status") not in NOT_FOUND


def ordered(results: list[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Best first: status, then the largest amount."""
    return sorted(results, key=lambda r: (status_rank(r), -(r.get("max_amount") or 0)))


def best_of(remembered: list[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Follow-ups are about what the person can get; only when there is nothing, about all of it."""
    for wanted in (is_found, lambda r: r.get("status") == "needs_info"):
        chosen = [r for r in remembered if wanted(r)]
        if chosen:
            return chosen
    return list(remembered)


def remember(results: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [{key: result.get(key) for key in REMEMBERED_KEYS} for result in results]
