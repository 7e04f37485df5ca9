"""The assistant's domain as the console reads it: intents, entities and response texts.

Rasa loads the directory ``domain/`` (``dialogue.yml`` links to ``domain.yml``; ``profile.yml`` is generated
from policies/profile.yml). The gateway never imports rasa, so the files are read as plain YAML and merged
here, once: the review queue offers the intents and entities, and the fallback's wording (``utter_default``)
tells both the review queue and the going-wrong list that the assistant did not understand.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from ..config import REPO_ROOT


def domain_files(root: Path = REPO_ROOT) -> list[Path]:
    """``domain/*.yml`` when the domain is a directory, else ``domain.yml`` (none: an empty list)."""
    directory = root / "domain"
    if directory.is_dir():
        return sorted(p for p in directory.rglob("*") if p.suffix in (".yml", ".yaml"))
    return [root / "domain.yml"] if (root / "domain.yml").exists() else []


def _names(entries: list[Any]) -> list[str]:
    """Domain list entries are names or one-key mappings (``- inform: {use_entities: …}``)."""
    return [next(iter(e)) if isinstance(e, dict) else str(e) for e in entries or []]


@lru_cache(maxsize=1)
def domain_lists() -> dict[str, Any]:
    """The intents, entities and response texts of the assistant's domain, merged across its files."""
    intents: list[str] = []
    entities: list[str] = []
    responses: dict[str, list[str]] = {}
    for path in domain_files():
        part = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        intents += [n for n in _names(part.get("intents")) if n not in intents]
        entities += [n for n in _names(part.get("entities")) if n not in entities]
        for name, variants in (part.get("responses") or {}).items():
            responses.setdefault(name, []).extend(
                str(v["text"]).strip() for v in variants or [] if isinstance(v, dict) and v.get("text")
            )
    return {"intents": intents, "entities": entities, "responses": responses}


def response_texts(name: str) -> list[str]:
    """Every variant of one response's text (none when the domain is not beside the gateway)."""
    return domain_lists()["responses"].get(name, [])
