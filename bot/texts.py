"""The gateway's own wording, kept in texts.yml (zh and en)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

TEXTS_FILE = Path(__file__).with_name("texts.yml")
LANGUAGES = ("zh", "en")


@lru_cache(maxsize=1)
def _load() -> dict[str, dict[str, str]]:
    data = yaml.safe_load(TEXTS_FILE.read_text(encoding="utf-8"))
    for key, variants in data.items():
        missing = [lang for lang in LANGUAGES if lang not in variants]
        if missing:
            raise ValueError(f"texts.yml: {key} lacks {missing}")
    return data


def text(key: str, language: str | None = "zh", **values: object) -> str:
    """The wording for ``key`` in ``language`` (zh when unknown), with ``values`` filled in."""
    variants = _load()[key]
    template = variants.get(language or "zh") or variants["zh"]
    return template.format(**values) if values else template


def normalise_language(code: str | None, default: str = "zh") -> str:
    """Map a channel's language code (zh-hans, en-US, ...) to zh|en."""
    if not code:
        return default
    code = code.lower()
    if code.startswith("zh"):
        return "zh"
    if code.startswith("en"):
        return "en"
    return default
