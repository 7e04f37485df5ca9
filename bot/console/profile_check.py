"""The assistant's view of a person on the case card, and the officer's correction of it (issue 13, item 1).

- ``profile_from_slots``: the profile fields among a Rasa tracker's slots (a takeover case has no handoff
  payload; the gateway reads the tracker, ``RasaClient.tracker``).
- ``correct``: one fact changed by the officer, checked by the engine's own normaliser.
- ``rerun``: the engine (``policies.evaluate``) on a profile, in the console's result shape, the policies
  the person was last answered about first.
- ``field_choices``: what the correction form offers per field (the profile vocabulary).

The policies package is pure Python (no Rasa), so the gateway calls the engine in-process.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from policies import ProfileError, evaluate, normalise_profile, profile_fields
from policies.present import console_result

from .render import profile_labels

CONSOLE_LANGUAGE = "zh"  # the console is Chinese whatever the person speaks
CORRECTABLE_TYPES = ("enum", "bool", "int", "number")
FOUND = ("eligible", "can_register")  # results the person can act on, shown before the rest


def correctable_fields() -> dict[str, Any]:
    """Profile fields an officer may correct (one value each; lists like honours are left to the person)."""
    return {
        name: spec
        for name, spec in profile_fields().items()
        if spec.role == "profile" and spec.type in CORRECTABLE_TYPES
    }


def field_choices() -> list[dict[str, Any]]:
    """The correction form: each field's label, type and, for enums and yes/no, its values."""
    labels = profile_labels()
    choices = []
    for name, spec in correctable_fields().items():
        item: dict[str, Any] = {"field": name, "label": labels.get(name, name), "type": spec.type}
        if spec.type == "enum":
            item["values"] = [{"value": v, "label": v} for v in spec.values]
        elif spec.type == "bool":
            item["values"] = [{"value": True, "label": "是"}, {"value": False, "label": "否"}]
        else:
            item.update(minimum=spec.minimum, maximum=spec.maximum)
        choices.append(item)
    return choices


def profile_from_slots(slots: Mapping[str, Any] | None) -> dict[str, Any]:
    """Every filled profile slot the engine accepts; a value it rejects is left out (as the assistant does)."""
    profile: dict[str, Any] = {}
    specs = profile_fields()
    for name, value in (slots or {}).items():
        if value is None or name not in specs or specs[name].role != "profile":
            continue
        try:
            profile.update(normalise_profile({name: value}))
        except ProfileError:
            continue
    return profile


def correct(profile: Mapping[str, Any], field: Any, value: Any) -> dict[str, Any]:
    """``profile`` with ``field`` set to ``value`` as the engine reads it. Raises ProfileError (naming the
    field) for a field that cannot be corrected here or a value outside the vocabulary."""
    if not isinstance(field, str) or field not in correctable_fields():
        raise ProfileError(str(field), "不是可更正的资料项")
    if value is None or value == "":
        raise ProfileError(field, "请给出新的值")
    fixed = normalise_profile({field: value})
    if field not in fixed:
        raise ProfileError(field, "无法识别这个值")
    return {**profile, **fixed}


def rerun(
    profile: Mapping[str, Any], *, topic: str | None, policy_ids: list[str] | None = None, limit: int = 3
) -> list[dict[str, Any]]:
    """The engine's results for ``profile`` on ``topic`` (all topics when None): the policies named in
    ``policy_ids`` (what the person was answered about) when the engine still returns them, else the
    best few, results the person can act on first."""
    district = profile.get("district")
    outcome = evaluate(profile, topic=topic, district=district, language=CONSOLE_LANGUAGE)
    results = [r for r in outcome["results"] if r.get("status") != "superseded"]
    if policy_ids:
        named = [r for r in results if r.get("policy_id") in policy_ids]
        results = named or results
    results.sort(key=lambda r: r.get("status") not in FOUND)
    return [console_result(r, CONSOLE_LANGUAGE) for r in results[:limit]]


def last_result(slots: Mapping[str, Any] | None, profile: Mapping[str, Any]) -> dict[str, Any] | None:
    """The last personalised answer the assistant gave (slots ``last_result`` and ``topic``), recomputed from
    the profile; None when nothing was answered or nothing is known about the person."""
    slots = slots or {}
    remembered = [r for r in slots.get("last_result") or [] if isinstance(r, dict)]
    topic = slots.get("topic")
    if not remembered or not profile:
        return None
    topic = topic if isinstance(topic, str) and topic != "eligibility" else None
    wanted = [str(r["policy_id"]) for r in remembered if r.get("policy_id")]
    try:
        results = rerun(profile, topic=topic, policy_ids=wanted)
    except ProfileError:
        return None
    return {"topic": topic, "title": None, "personalised": True, "results": results} if results else None
