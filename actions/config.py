"""The one place that reads the actions' configuration files (loaded once, on first use)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

ACTIONS_DIR = Path(__file__).resolve().parent

LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "zh"


def _read_yaml(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle) or {}


@lru_cache(maxsize=1)
def settings() -> dict[str, Any]:
    """Behaviour knobs (actions/config.yml)."""
    return _read_yaml(ACTIONS_DIR / "config.yml")


@lru_cache(maxsize=1)
def labels() -> dict[str, Any]:
    """Wording of the pieces assembled into response variables (actions/labels.yml)."""
    return _read_yaml(ACTIONS_DIR / "labels.yml")


@lru_cache(maxsize=1)
def profile_fields() -> dict[str, dict[str, Any]]:
    """Fields the engine evaluates, without conversation-only ones: type, values, label, question and how
    the answer is read (`answer`: entity | yes_no | text; `bare_number`), from policies.profile."""
    from policies.profile import field_facts

    return field_facts()


def label(section: str, language: str, key: str, default: str | None = None) -> str:
    """A label from labels.yml; falls back to Chinese, then to the key itself."""
    table = labels().get(section, {})
    for lang in (language, DEFAULT_LANGUAGE):
        value = table.get(lang, {}).get(key)
        if value is not None:
            return value
    return key if default is None else default
