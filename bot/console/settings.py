"""The console's configuration: wording and knobs from console.yml (read once), plus the gateway's Settings."""

from __future__ import annotations

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
    "routing",
    "service_targets",
    "going_wrong",
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
