"""The named conditions of the knowledge base (policies/data/<district>/conditions.yml): read, checked and
compiled into checks at load time. A name is declared once, in the district whose documents define it;
a condition may refer to others by name, never to itself."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import PolicyDataError
from .logic import Check, Thresholds, compile_condition
from .strict_yaml import load_yaml
from .validation import validate_against

Text = Mapping[str, str]


@dataclass(frozen=True)
class Condition:
    """A named, cited condition. `review` (optional) is when an unmet condition goes to the office instead of
    failing (the document says 一般/可适当放宽/视实际贡献); `check` is None for a condition only the office can
    check (no profile fact says it), which is always reported as not checked."""

    name: str
    label: Text
    document: str
    article: Text
    check: Check | None
    review: Check | None = None


def load_conditions(path: Path, raw_by_name: dict[str, tuple[dict, str]]) -> None:
    data = load_yaml(path)
    validate_against("conditions_file", data, str(path))
    for name, entry in data["conditions"].items():
        if name in raw_by_name:
            raise PolicyDataError(
                str(path), f"condition {name!r} is already declared in {raw_by_name[name][1]}"
            )
        raw_by_name[name] = (entry, str(path))


def _always_true(facts: Mapping[str, Any]) -> tuple[bool | None, tuple[str, ...]]:
    return (True, ())


def _office_only(name: str, where: str) -> Check:
    """An office-only condition has no fact to test: referring to it from another condition is an error."""

    def check(facts: Mapping[str, Any]) -> tuple[bool | None, tuple[str, ...]]:
        raise PolicyDataError(where, f"condition {name!r} has no `when`; list it under office_checks")

    return check


def compile_conditions(
    raw_by_name: dict[str, tuple[dict, str]], documents: Mapping[str, Any], thresholds: Thresholds
) -> dict[str, Condition]:
    compiled: dict[str, Condition] = {}
    in_progress: list[str] = []

    def resolve(name: str) -> Check:
        if name in compiled:
            return compiled[name].check
        if name not in raw_by_name:
            referrer = in_progress[-1] if in_progress else "?"
            location = f"{raw_by_name[referrer][1]} at conditions/{referrer}" if in_progress else "conditions"
            raise PolicyDataError(location, f"unknown condition {name!r}")
        if name in in_progress:
            raise PolicyDataError(
                raw_by_name[name][1], f"condition {name!r} refers to itself ({' -> '.join(in_progress)})"
            )
        entry, where = raw_by_name[name]
        if entry["source"]["document"] not in documents:
            raise PolicyDataError(
                f"{where} at conditions/{name}", f"unknown document {entry['source']['document']!r}"
            )
        in_progress.append(name)
        at = f"{where} at conditions/{name}"
        check = compile_condition(entry["when"], at, resolve, thresholds) if "when" in entry else None
        review = entry.get("review_when")
        if review is not None and check is None:
            raise PolicyDataError(at, "review_when needs a `when` (an office-only condition is never unmet)")
        review_check = None
        if review is True:
            review_check = _always_true
        elif review is not None:
            review_check = compile_condition(review, f"{at}/review_when", resolve, thresholds)
        in_progress.pop()
        compiled[name] = Condition(
            name,
            entry["label"],
            entry["source"]["document"],
            entry["source"]["article"],
            check,
            review_check,
        )
        if check is None:
            return _office_only(name, at)
        return check

    for name in raw_by_name:
        resolve(name)
    return compiled
