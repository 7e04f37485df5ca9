"""Database rows -> the JSON shapes of docs/console-api.md. Personal numbers are masked here unless the
viewer may see them (the case's assignee or an admin, on the case page)."""

from __future__ import annotations

import datetime as dt
import time
from functools import lru_cache
from typing import Any

import yaml

from ..config import REPO_ROOT
from ..logsafe import mask_personal_numbers
from . import summary
from .settings import config, outcome_tags, reason_label
from .targets import service_targets
from .workcalendar import work_calendar

PROFILE_FILE = REPO_ROOT / "policies" / "profile.yml"
PREVIEW_CHARS = 60
WECHAT_QUOTA_LIMIT = 5  # a person's message opens 5 customer-service messages (bot/wechat.py)


def iso(value: dt.datetime | float | None) -> str | None:
    """Naive-UTC datetimes (as stored) and epoch seconds -> '2026-11-23T09:30:00Z'."""
    if value is None:
        return None
    if isinstance(value, int | float):
        value = dt.datetime.fromtimestamp(value, dt.timezone.utc).replace(tzinfo=None)
    return value.replace(microsecond=0).isoformat() + "Z"


def age_seconds(since: dt.datetime | None) -> int:
    if since is None:
        return 0
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    return max(0, int((now - since).total_seconds()))


def preview(text: str | None) -> str:
    text = mask_personal_numbers(" ".join((text or "").split()))
    return text if len(text) <= PREVIEW_CHARS else text[: PREVIEW_CHARS - 1] + "…"


def person_label(conversation_id: str) -> str:
    """A label that tells people apart in the queue without showing their channel id in full."""
    channel, _, user_id = conversation_id.partition(":")
    tail = user_id[-4:] if len(user_id) > 4 else user_id
    return f"{config()['channel_labels'].get(channel, channel)}用户 …{tail}"


def author_label(author: str, names: dict[str, str]) -> str:
    if author.startswith("staff:"):
        login = author.split(":", 1)[1]
        return names.get(login, login)
    return config()["author_labels"].get(author, author)


@lru_cache(maxsize=1)
def profile_labels() -> dict[str, str]:
    """Chinese labels of the profile fields (policies/profile.yml when deployed beside it)."""
    labels = dict(config().get("profile_labels") or {})
    if PROFILE_FILE.exists():
        fields = (yaml.safe_load(PROFILE_FILE.read_text(encoding="utf-8")) or {}).get("fields") or {}
        for name, spec in fields.items():
            label = (spec or {}).get("label")
            if isinstance(label, dict) and label.get("zh"):
                labels[name] = label["zh"]
    return labels


def profile_value(value: Any) -> str:
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list | tuple):
        return "、".join(profile_value(v) for v in value) or "无"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return mask_personal_numbers(str(value))


def profile_items(profile: Any) -> list[dict[str, str]]:
    if not isinstance(profile, dict):
        return []
    labels = profile_labels()
    return [
        {"field": str(name), "label": labels.get(name, str(name)), "value": profile_value(value)}
        for name, value in profile.items()
        if value is not None
    ]


def _compact_engine_result(result: dict[str, Any]) -> dict[str, Any]:
    """A raw policies.evaluate result (older payloads) in the console's shape."""
    source = result.get("source") or {}
    return {
        "policy": result.get("title") or result.get("policy_id"),
        "status": result.get("status"),
        "tier": result.get("tier"),
        "amount": result.get("benefit"),
        "payout": result.get("payout"),
        "duration": result.get("duration"),
        "conditions": [str(r) for r in result.get("reasons") or []],
        "how_to_apply": result.get("how_to_apply"),
        "citation": {
            "document": source.get("title"),
            "number": source.get("doc_number"),
            "article": source.get("article"),
        },
    }


def case_result(result: Any) -> dict[str, Any] | None:
    """The payload's result: already {topic, title, results} from action_handoff, or one engine result."""
    if not isinstance(result, dict):
        return None
    if isinstance(result.get("results"), list):
        return {
            "topic": result.get("topic"),
            "title": result.get("title"),
            "personalised": bool(result.get("personalised")),
            "results": result["results"],
        }
    if "policy_id" in result:
        return {
            "topic": result.get("topic"),
            "title": result.get("title"),
            "personalised": bool(result.get("personalised")),
            "results": [_compact_engine_result(result)],
        }
    return None


def quota(raw: dict[str, Any] | None) -> dict[str, Any] | None:
    if raw is None:
        return None
    expires = raw.get("expires_at")
    open_window = expires is not None and expires > time.time()
    return {
        "remaining": int(raw.get("remaining") or 0) if open_window else 0,
        "limit": WECHAT_QUOTA_LIMIT,
        "expires_at": iso(expires) if open_window else None,
        "window_open": open_window,
    }


def targets_json(case: dict[str, Any]) -> dict[str, Any] | None:
    found = service_targets(case)
    if found is None:
        return None
    return {
        name: {**item, "due_at": iso(item["due_at"]), "done_at": iso(item["done_at"])}
        for name, item in found.items()
    }


def topic_label(case: dict[str, Any]) -> str | None:
    result = (case.get("payload") or {}).get("result")
    title = result.get("title") if isinstance(result, dict) else None
    return title or case.get("topic")


def case_summary(case: dict[str, Any], activity: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    assignee = case.get("assignee")
    district = case.get("district")
    return {
        "id": case["id"],
        "conversation_id": case["conversation_id"],
        "channel": case["channel"],
        "person": person_label(case["conversation_id"]),
        "language": case["language"],
        "reason": case["reason"],
        "reason_label": reason_label(case["reason"]),
        "status": case["status"],
        "assignee": assignee,
        "assignee_name": names.get(assignee, assignee) if assignee else None,
        "opened_at": iso(case["opened_at"]),
        "age_seconds": age_seconds(case["opened_at"]),
        "last_message_at": iso(activity.get("last_message_at")),
        "last_message_preview": preview(activity.get("person_last_text")),
        "unread": activity.get("unread", 0),
        "district": district,
        "district_label": district or config()["routing_labels"]["shared"],
        "topic": case.get("topic"),
        "topic_label": topic_label(case),
        "first_response_at": iso(case.get("first_response_at")),
        "targets": targets_json(case),
    }


def case_detail(
    case: dict[str, Any],
    activity: dict[str, Any],
    names: dict[str, str],
    *,
    raw_quota: dict[str, Any] | None,
) -> dict[str, Any]:
    payload = case.get("payload") or {}
    outcome = case.get("outcome")
    return {
        **case_summary(case, activity, names),
        "summary": mask_personal_numbers(case.get("summary") or ""),
        "profile": profile_items(payload.get("profile")),
        "result": case_result(payload.get("result")),
        "quota": quota(raw_quota) if case["channel"] == "wechat" else None,
        "outcome": outcome,
        "outcome_label": outcome_tags().get(outcome) if outcome else None,
        "closed_at": iso(case.get("closed_at")),
        "closed_by": case.get("closed_by"),
        "transcript_url": f"/console/api/cases/{case['id']}/export",
    }


def message(row: dict[str, Any], names: dict[str, str], *, unmasked: bool) -> dict[str, Any]:
    data = row.get("data") or {}
    text = row.get("text") or ""
    return {
        "id": row["id"],
        "direction": row["direction"],
        "author": row["author"],
        "author_label": author_label(row["author"], names),
        "text": text if unmasked else mask_personal_numbers(text),
        "buttons": [b.get("title") for b in data.get("buttons", []) if isinstance(b, dict)]
        if row["direction"] == "out"
        else [],
        "status": row["status"],
        "created_at": iso(row["created_at"]),
    }


def note(row: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    author = row["author"]
    login = author.split(":", 1)[1] if author.startswith("staff:") else author
    return {
        "id": row["id"],
        "author": login,
        "author_name": names.get(login, login),
        "text": row["text"],
        "created_at": iso(row["created_at"]),
    }


def audit_entry(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "at": iso(row["at"]),
        "actor": row["actor"],
        "action": row["action"],
        "case_id": row["case_id"],
        "detail": row.get("detail") or {},
    }


def canned(row: dict[str, Any]) -> dict[str, Any]:
    return {"id": row["id"], "title": row["title"], "text": row["text"], "language": row["language"]}


def local_text(stored: dt.datetime | None) -> str:
    """A stored (naive UTC) time as the office's local 'YYYY-MM-DD HH:MM:SS'."""
    return work_calendar().local(stored).strftime("%Y-%m-%d %H:%M:%S") if stored else "—"


def transcript_text(case: dict[str, Any], rows: list[dict[str, Any]], names: dict[str, str]) -> str:
    """The export: a plain-text transcript with the case's header (admins only, unmasked), in the
    office's local time."""
    header = [
        f"案件 #{case['id']}  {person_label(case['conversation_id'])}  ({case['conversation_id']})",
        f"原因：{reason_label(case['reason'])}  状态：{case['status']}  语言：{case['language']}",
        f"开启：{local_text(case['opened_at'])}  处理人：{case.get('assignee') or '—'}"
        f"  结办：{local_text(case.get('closed_at'))} {case.get('outcome') or ''}".rstrip(),
        f"摘要：{summary.build(case, rows)['line']}",
        f"（时间均为 UTC{int(config()['office_hours']['utc_offset_hours']):+d} 本地时间）",
        "",
    ]
    lines = [
        f"[{local_text(r['created_at'])}] {author_label(r['author'], names)}"
        f"{'' if r['status'] in ('sent', 'sent_passive', 'received', 'forwarded') else ' (' + r['status'] + ')'}"
        f"：{r.get('text') or ''}"
        for r in rows
    ]
    return "\n".join(header + lines) + "\n"
