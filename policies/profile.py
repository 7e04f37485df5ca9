"""The profile vocabulary (profile.yml + vocabulary.yml) and the normaliser that turns raw input into canonical facts."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from .errors import PolicyDataError, ProfileError
from .strict_yaml import load_yaml

PACKAGE_DIR = Path(__file__).resolve().parent
PROFILE_FILE = PACKAGE_DIR / "profile.yml"
VOCABULARY_FILE = PACKAGE_DIR / "vocabulary.yml"

FIELD_TYPES = ("int", "number", "bool", "enum", "list")
# Words people use for "none" where a field accepts the extra value 无.
NONE_WORDS = ("无", "没有", "都没有", "没", "none", "no", "nothing", "n/a")
TRUE_WORDS = ("true", "yes", "y", "是", "是的", "对", "有", "1")
FALSE_WORDS = ("false", "no", "n", "否", "不是", "不", "没有", "无", "0")


ANSWER_SOURCES = ("entity", "yes_no", "text")
# Every question a person may not know the answer to can be skipped: a field whose "no" skips it gets
# this quick reply unless it names another (issue 15: an unanswerable question must never trap anyone).
DEFAULT_SKIP_BUTTON = "unsure"
ANSWER_KEYS = {"from", "entities", "denied", "buttons", "skip_button", "bare_number"}
BUTTON_KEYS = {"value", "zh", "en", "entity"}
BARE_NUMBER_KINDS = ("number", "salary")


@dataclass(frozen=True)
class AnswerSpec:
    """How the dialogue reads the reply to a field's question (profile.yml `answer:`)."""

    source: str  # entity | yes_no | text
    entities: tuple[str, ...] = ()  # NLU entities that fill the field (source entity)
    denied: Any = None  # the value a "no"/skip quick reply sets while asked; None: a "no" answers nothing
    buttons: tuple[Mapping[str, str], ...] = ()  # {value, zh, en, entity}, defaults filled in
    skip_button: str | None = None  # a key of dialogue.skip_buttons
    bare_number: str | None = None  # number | salary: a bare number typed as the answer is read by the form


@dataclass(frozen=True)
class FieldSpec:
    """One profile field as declared in profile.yml."""

    name: str
    type: str
    values: tuple[str, ...] = ()
    aliases: Mapping[str, str] = field(default_factory=dict)  # lower-cased alias -> canonical value
    ordered: bool = False
    minimum: float | None = None
    maximum: float | None = None
    role: str = "profile"
    label: Mapping[str, str] = field(default_factory=dict)
    question: Mapping[str, str] = field(default_factory=dict)
    description: Mapping[str, str] = field(default_factory=dict)
    fixed: bool = False
    answer: AnswerSpec | None = None  # None for conversation-only fields (language)

    def rank(self, value: str) -> int:
        """Position from the top for ordered enums (0 = highest)."""
        return self.values.index(value)


def _vocabulary_aliases(vocabulary: Mapping, sections: list[str], field_name: str) -> tuple[list[str], dict]:
    values: list[str] = []
    aliases: dict[str, str] = {}
    for section in sections:
        if section not in vocabulary:
            raise PolicyDataError(
                str(PROFILE_FILE), f"{field_name}: vocabulary section {section!r} does not exist"
            )
        for canonical, words in vocabulary[section]["values"].items():
            canonical = str(canonical)
            values.append(canonical)
            aliases[canonical.lower()] = canonical
            for word in words or []:
                aliases[str(word).strip().lower()] = canonical
    return values, aliases


def _answer_spec(name: str, entry: Mapping, skip_buttons: Mapping) -> AnswerSpec | None:
    """The `answer:` block, checked strictly: an unknown key or value is a silent wrong domain otherwise."""
    answer = entry.get("answer")
    if answer is None:
        if entry.get("role", "profile") == "profile":
            raise PolicyDataError(str(PROFILE_FILE), f"{name}: a profile field needs an `answer:` block")
        return None

    def fail(problem: str) -> PolicyDataError:
        return PolicyDataError(str(PROFILE_FILE), f"{name}.answer: {problem}")

    if set(answer) - ANSWER_KEYS:
        raise fail(f"unknown keys {sorted(set(answer) - ANSWER_KEYS)}")
    source = answer.get("from")
    if source not in ANSWER_SOURCES:
        raise fail(f"`from` must be one of {ANSWER_SOURCES}, got {source!r}")
    if source == "yes_no" and entry["type"] != "bool":
        raise fail("only a bool field is answered yes/no")
    if entry["type"] == "bool" and "denied" in answer:
        raise fail("a bool field's 'no' is always false: no `denied`")
    entities = tuple(answer.get("entities") or ([name] if source == "entity" else []))
    buttons = []
    for button in answer.get("buttons") or []:
        if set(button) - BUTTON_KEYS or "value" not in button or "en" not in button:
            raise fail(f"a button needs value and en (and may have zh, entity): {button}")
        entity = button.get("entity", entities[0] if entities else None)
        if source == "entity" and entity not in entities:
            raise fail(f"button entity {entity!r} is not one of {entities}")
        buttons.append({"zh": str(button["value"]), **button, "entity": entity})
    if answer.get("skip_button") is not None and answer["skip_button"] not in skip_buttons:
        raise fail(f"skip_button {answer['skip_button']!r} is not one of {sorted(skip_buttons)}")
    if answer.get("bare_number") not in (None, *BARE_NUMBER_KINDS):
        raise fail(f"bare_number must be one of {BARE_NUMBER_KINDS}")
    return AnswerSpec(
        source=source,
        entities=entities,
        denied=answer.get("denied"),
        buttons=tuple(buttons),
        skip_button=answer.get(
            "skip_button", DEFAULT_SKIP_BUTTON if answer.get("denied") == "skip" else None
        ),
        bare_number=answer.get("bare_number"),
    )


@lru_cache(maxsize=1)
def dialogue_settings() -> dict[str, Any]:
    """What every profile question shares (profile.yml `dialogue:`): the form, yes/no and skip buttons."""
    return load_yaml(PROFILE_FILE)["dialogue"]


@lru_cache(maxsize=1)
def profile_fields() -> dict[str, FieldSpec]:
    """Every profile field, in declaration order (the dialogue asks in this order when all else is equal)."""
    declared = load_yaml(PROFILE_FILE)["fields"]
    skip_buttons = dialogue_settings()["skip_buttons"]
    vocabulary = load_yaml(VOCABULARY_FILE)
    specs: dict[str, FieldSpec] = {}
    for name, entry in declared.items():
        if entry["type"] not in FIELD_TYPES:
            raise PolicyDataError(str(PROFILE_FILE), f"{name}: unknown type {entry['type']!r}")
        values = [str(v) for v in entry.get("values", [])]
        aliases: dict[str, str] = {v.lower(): v for v in values}
        if entry.get("vocabulary"):
            vocab_values, aliases = _vocabulary_aliases(vocabulary, entry["vocabulary"], name)
            if sorted(vocab_values) != sorted(values):
                raise PolicyDataError(
                    str(PROFILE_FILE), f"{name}: values differ from vocabulary {entry['vocabulary']}"
                )
        for extra in entry.get("extra_values", []):
            values.append(str(extra))
            aliases[str(extra).lower()] = str(extra)
            if extra == "无":
                aliases.update({word: "无" for word in NONE_WORDS})
        specs[name] = FieldSpec(
            name=name,
            type=entry["type"],
            values=tuple(values),
            aliases=aliases,
            ordered=bool(entry.get("ordered", False)),
            minimum=entry.get("minimum"),
            maximum=entry.get("maximum"),
            role=entry.get("role", "profile"),
            label=entry["label"],
            question=entry["question"],
            description=entry["description"],
            fixed=bool(entry.get("fixed", False)),
            answer=_answer_spec(name, entry, skip_buttons),
        )
    return specs


def field_facts() -> dict[str, dict[str, Any]]:
    """The facts the dialogue's actions need about each evaluated field, as plain data: type, values
    (with extra values such as 无), label, question, how the answer is read (`answer`: entity | yes_no |
    text) and `bare_number` (number | salary | None). Conversation-only fields (language) are left out."""
    return {
        name: {
            "type": spec.type,
            "values": list(spec.values),
            "label": dict(spec.label),
            "question": dict(spec.question),
            "answer": spec.answer.source,
            "bare_number": spec.answer.bare_number,
        }
        for name, spec in profile_fields().items()
        if spec.role == "profile" and spec.answer is not None
    }


def _is_unknown(value: Any) -> bool:
    return (
        value is None
        or (isinstance(value, str) and not value.strip())
        or (isinstance(value, list | tuple) and not value)
    )


def _to_bool(spec: FieldSpec, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        word = value.strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
    raise ProfileError(spec.name, f"expected true or false, got {value!r}")


def _to_number(spec: FieldSpec, value: Any) -> float | int:
    if isinstance(value, bool):
        raise ProfileError(spec.name, f"expected a number, got {value!r}")
    if isinstance(value, str):
        text = value.strip().replace(",", "")
        try:
            value = float(text)
        except ValueError:
            raise ProfileError(spec.name, f"expected a number, got {value!r}") from None
    if not isinstance(value, int | float) or (isinstance(value, float) and not math.isfinite(value)):
        raise ProfileError(spec.name, f"expected a number, got {value!r}")
    if spec.type == "int":
        if float(value) != int(value):
            raise ProfileError(spec.name, f"expected a whole number, got {value!r}")
        value = int(value)
    elif isinstance(value, float) and value.is_integer():
        value = int(value)
    if spec.minimum is not None and value < spec.minimum:
        raise ProfileError(spec.name, f"{value} is below the minimum {spec.minimum}")
    if spec.maximum is not None and value > spec.maximum:
        raise ProfileError(spec.name, f"{value} is above the maximum {spec.maximum}")
    return value


def _to_enum(spec: FieldSpec, value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ProfileError(spec.name, f"expected one of {', '.join(spec.values)}, got {value!r}")
    canonical = spec.aliases.get(str(value).strip().lower())
    if canonical is None:
        raise ProfileError(spec.name, f"unknown value {value!r}; expected one of {', '.join(spec.values)}")
    return canonical


def _to_list(spec: FieldSpec, value: Any) -> list[str]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list | tuple):
        raise ProfileError(spec.name, f"expected a list, got {value!r}")
    canonical = [_to_enum(spec, item) for item in items if not _is_unknown(item)]
    real = [item for item in canonical if item != "无"]
    return real if real else (["无"] if canonical else [])


_CONVERTERS = {"bool": _to_bool, "int": _to_number, "number": _to_number, "enum": _to_enum, "list": _to_list}


def normalise_profile(profile: Mapping[str, Any]) -> dict[str, Any]:
    """Canonical facts from raw input: aliases resolved, types checked, unknown (empty) values dropped.

    Raises ProfileError naming the field for an unknown field, a wrong type or a value outside the vocabulary.
    """
    if not isinstance(profile, Mapping):
        raise ProfileError("profile", f"expected a JSON object, got {type(profile).__name__}")
    specs = profile_fields()
    for name in profile:
        if name not in specs:
            raise ProfileError(str(name), "unknown profile field")
    normalised: dict[str, Any] = {}
    # only the fields given, in declaration order (the order of the result and of the first error)
    order = _declaration_order()
    for name in sorted(profile, key=order.__getitem__):
        raw = profile[name]
        if _is_unknown(raw):
            continue
        spec = specs[name]
        value = _CONVERTERS[spec.type](spec, raw)
        if not _is_unknown(value):
            normalised[name] = value
    return normalised


@lru_cache(maxsize=1)
def _declaration_order() -> dict[str, int]:
    return {name: index for index, name in enumerate(profile_fields())}
