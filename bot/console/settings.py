"""The console's configuration: wording and knobs from console.yml (read once), plus the gateway's Settings."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

CONFIG_FILE = Path(__file__).with_name("console.yml")
REQUIRED_SECTIONS = (
    "office_hours",
    "person_texts",
    "reason_labels",
    "outcomes",
    "channel_labels",
    "author_labels",
    "sessions",
    "lockout",
    "privacy",
    "replies",
    "events",
    "held_explanations",
    "errors",
)


@lru_cache(maxsize=1)
def config() -> dict[str, Any]:
    data = yaml.safe_load(CONFIG_FILE.read_text(encoding="utf-8")) or {}
    missing = [section for section in REQUIRED_SECTIONS if section not in data]
    if missing:
        raise ValueError(f"console.yml lacks {missing}")
    for key, variants in data["person_texts"].items():
        if not {"zh", "en"} <= set(variants):
            raise ValueError(f"console.yml: person_texts.{key} needs zh and en")
    return data


def error_text(code: str, **values: Any) -> str:
    template = config()["errors"].get(code, code)
    return template.format(**values) if values else template


def person_text(key: str, language: str | None, **values: Any) -> str:
    variants = config()["person_texts"][key]
    template = variants.get(language or "zh") or variants["zh"]
    return template.format(**values) if values else template


def outcome_tags() -> dict[str, str]:
    return {item["tag"]: item["label"] for item in config()["outcomes"]}


def reason_label(reason: str | None) -> str:
    return config()["reason_labels"].get(reason or "", reason or "—")


def held_explanation(detail: str | None) -> str:
    explanations = config()["held_explanations"]
    return explanations.get(detail or "", explanations["default"])


@dataclass(frozen=True)
class OfficeHours:
    utc_offset_hours: int
    weekdays: tuple[int, ...]
    start: dt.time
    end: dt.time
    typical_wait_minutes: int

    @classmethod
    def from_config(cls) -> OfficeHours:
        hours = config()["office_hours"]
        return cls(
            utc_offset_hours=int(hours["utc_offset_hours"]),
            weekdays=tuple(int(d) for d in hours["weekdays"]),
            start=dt.time.fromisoformat(hours["start"]),
            end=dt.time.fromisoformat(hours["end"]),
            typical_wait_minutes=int(hours["typical_wait_minutes"]),
        )

    def local(self, now: dt.datetime) -> dt.datetime:
        """``now`` (aware, or naive UTC) in the office's time zone."""
        if now.tzinfo is None:
            now = now.replace(tzinfo=dt.timezone.utc)
        return now.astimezone(dt.timezone(dt.timedelta(hours=self.utc_offset_hours)))

    def is_open(self, now: dt.datetime) -> bool:
        local = self.local(now)
        return local.isoweekday() in self.weekdays and self.start <= local.time() < self.end

    def next_opening(self, now: dt.datetime) -> dt.datetime:
        """The next moment the office opens (local time), strictly after ``now`` when closed."""
        local = self.local(now)
        day = local.date()
        for _ in range(8):
            opening = dt.datetime.combine(day, self.start, tzinfo=local.tzinfo)
            if day.isoweekday() in self.weekdays and opening > local:
                return opening
            day += dt.timedelta(days=1)
        raise ValueError("office_hours.weekdays is empty")


def expected_answer_text(now: dt.datetime, language: str) -> str:
    """What a person is told when their case opens: roughly when a human will answer."""
    hours = OfficeHours.from_config()
    office = person_text("hours", language)
    if hours.is_open(now):
        return person_text("case_opened_in_hours", language, minutes=hours.typical_wait_minutes, hours=office)
    opening = hours.next_opening(now)
    names = config()["person_texts"]["weekday_names"]
    weekday = (names.get(language) or names["zh"])[opening.isoweekday()]
    when = person_text("next_opening", language, weekday=weekday, time=opening.strftime("%H:%M"))
    return person_text("case_opened_after_hours", language, when=when, hours=office)
