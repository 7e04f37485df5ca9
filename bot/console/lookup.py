"""The policy look-up beside the reply box (issue 13, item 1): find policies of the knowledge base by words of
their title, topic or district, and the text an officer inserts into a reply — the policy's amount, its
cited conditions (judged on the case's profile when there is one) and how to apply — composed from
policies/present.py's formatters and its wording table, never a formatter of our own.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from policies import default_knowledge_base, evaluate
from policies.present import amount_text, bands_text, citation, condition_lines, words
from policies.topics import topic_label

LANGUAGE = "zh"  # the console's language; the officer edits before sending
MAX_QUERY_CHARS = 40
MAX_MATCHES = 20


def policies_in_force(on: dt.date | None = None) -> list[Any]:
    today = (on or dt.date.today()).isoformat()
    return [p for p in default_knowledge_base().policies if p.in_force(today)]


def searchable_text(policy: Any) -> str:
    """What a query matches: both titles, the district, the topic id and name (and topics it also covers)."""
    topics = [policy.topic, *policy.also_topics]
    names = [topic_label(t, LANGUAGE, "") for t in topics]
    return " ".join([policy.title["zh"], policy.title["en"], policy.district, *topics, *names]).lower()


def search(query: str, on: dt.date | None = None) -> list[dict[str, Any]]:
    """Policies matching every word of ``query`` (split on spaces), by district then title."""
    terms = [t for t in query.lower().split() if t]
    if not terms:
        return []
    found = [p for p in policies_in_force(on) if all(t in searchable_text(p) for t in terms)]
    found.sort(key=lambda p: (p.district, p.title["zh"]))
    return [
        {
            "policy_id": p.id,
            "title": p.title["zh"],
            "district": p.district,
            "topic": p.topic,
            "topic_label": topic_label(p.topic, LANGUAGE),
        }
        for p in found[:MAX_MATCHES]
    ]


def engine_result(policy_id: str, profile: Mapping[str, Any]) -> dict[str, Any] | None:
    """The engine's result for one policy on ``profile`` (without the person's facts when the policy is
    left out for them, so its conditions can still be quoted); None for an unknown policy."""
    try:
        policy = default_knowledge_base().by_id(policy_id)
    except KeyError:
        return None
    for facts in (profile, {}):
        outcome = evaluate(facts, district=policy.district, language=LANGUAGE)
        for result in outcome["results"]:
            if result["policy_id"] == policy_id:
                return result
    return None


def reply_text(result: Mapping[str, Any]) -> str:
    """The policy as a reply draft: title, amount, conditions, how to apply, whom to ask, the citation."""
    table = words(LANGUAGE)
    labels, colon = table["explain"], table["colon"]
    amount = bands_text(result, LANGUAGE) if result.get("bands") else amount_text(result, LANGUAGE)
    lines = [
        f"【{result['title']}】",
        f"{labels['benefit']}{colon}{result.get('benefit') or ''}".rstrip(colon),
    ]
    lines.append(f"{labels['amount']}{colon}{amount}")
    conditions = condition_lines(result, LANGUAGE)
    if conditions:
        lines.append(f"{labels['reasons']}{colon}")
        lines.extend(f"- {line}" for line in conditions)
    lines.append(f"{labels['how_to_apply']}{colon}{result.get('how_to_apply') or ''}")
    if result.get("contact"):
        lines.append(f"{labels['contact']}{colon}{result['contact']}")
    lines.append(f"{labels['source']}{colon}{citation(result.get('source'), LANGUAGE)}")
    return "\n".join(lines)
