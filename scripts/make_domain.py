"""Write the profile part of the Rasa domain (domain/profile.yml) from policies/profile.yml.

One slot, one `utter_ask_<field>` response and one place in the policy form per profile field: the
vocabulary is declared once (policies/profile.yml) and the domain follows it. The hand-written rest of the
domain (intents, entities, dialogue slots, other responses, actions) stays in domain.yml; Rasa loads the
directory domain/, which links to it (domain/dialogue.yml -> ../domain.yml).

    python scripts/make_domain.py          # rewrite domain/profile.yml (`make domain`)
    python scripts/make_domain.py --check  # exit 1 when domain/profile.yml is stale
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from policies.profile import AnswerSpec, FieldSpec, dialogue_settings, profile_fields  # noqa: E402

OUTPUT = ROOT / "domain" / "profile.yml"
ENGLISH = [{"type": "slot", "name": "language", "value": "en"}]
SLOT_TYPES = {"int": "float", "number": "float", "bool": "bool", "enum": "text", "list": "list"}

HEADER = """\
# GENERATED from policies/profile.yml by `make domain` (scripts/make_domain.py). Do not edit: edit
# policies/profile.yml and run `make domain`; tests/scripts/test_make_domain.py fails when this file is stale.
#
# The profile part of the Rasa domain: one slot, one utter_ask_<field> (Chinese default, English variation)
# and one place in the policy form per profile field. The rest of the domain is domain.yml (linked here as
# domain/dialogue.yml); Rasa loads the directory domain/ and merges both files.
"""

FORM_COMMENT = """\
  # Dynamic: validate_policy_form asks policies/ which facts are still missing for the topic and
  # requests only the next, most decisive one. Every profile fact (and the topic) is listed so that a
  # fact volunteered out of turn, or a new topic mid-form, counts as an answer and does not reject
  # the form; the validation action decides what is actually asked.
"""

RESPONSES_COMMENT = """\
  # Quick-reply payloads double their braces: Rasa interpolates payloads like texts ({slot}), and
  # /inform{{...}} comes out as /inform{...} without an interpolation error.
"""


def asked_fields() -> list[FieldSpec]:
    """The fields the dialogue asks about, in declaration order (conversation-only fields excluded)."""
    return [spec for spec in profile_fields().values() if spec.role == "profile" and spec.answer]


def while_asked(field: str, form: str) -> list[dict[str, str]]:
    """The condition of a mapping that reads an answer only while this field's question is open."""
    return [{"active_loop": form, "requested_slot": field}]


def slot_mappings(spec: FieldSpec, settings: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Entities first, then the yes/no (or "no"/skip) quick replies, then the whole text of the reply."""
    answer: AnswerSpec = spec.answer
    form = settings["form"]
    mappings: list[dict[str, Any]] = [{"type": "from_entity", "entity": entity} for entity in answer.entities]
    if spec.type == "bool":
        for intent, value in (("affirm", True), ("deny", False)):
            mappings.append(
                {
                    "type": "from_intent",
                    "intent": intent,
                    "value": value,
                    "conditions": while_asked(spec.name, form),
                }
            )
    elif answer.denied is not None:
        mappings.append(
            {
                "type": "from_intent",
                "intent": "deny",
                "value": answer.denied,
                "conditions": while_asked(spec.name, form),
            }
        )
    if answer.source == "text":
        mappings.append(
            {
                "type": "from_text",
                "not_intent": list(settings["not_an_answer"]),
                "conditions": while_asked(spec.name, form),
            }
        )
    return mappings


def slot(spec: FieldSpec, settings: Mapping[str, Any]) -> dict[str, Any]:
    """The Rasa slot of one field: it never steers the dialogue policy (the form and actions read it)."""
    return {
        "type": SLOT_TYPES[spec.type],
        "influence_conversation": False,
        "mappings": slot_mappings(spec, settings),
    }


def choice_payload(spec: FieldSpec, button: Mapping[str, str]) -> str:
    """/inform{{"entity":"value"}} for an entity answer (braces doubled for Rasa's interpolation); the
    value itself for a text answer, which the form reads as the whole reply."""
    if spec.answer.source != "entity":
        return str(button["value"])
    entities = json.dumps({button["entity"]: button["value"]}, ensure_ascii=False, separators=(",", ":"))
    return "/inform{" + entities + "}"


def buttons(spec: FieldSpec, settings: Mapping[str, Any], language: str) -> list[dict[str, str]]:
    """The quick replies of the question in one language: yes/no for a bool, else the choices and the skip."""
    if spec.type == "bool":
        return [{"title": b[language], "payload": b["payload"]} for b in settings["yes_no_buttons"]]
    result = [{"title": b[language], "payload": choice_payload(spec, b)} for b in spec.answer.buttons]
    if spec.answer.skip_button:
        result.append(
            {"title": settings["skip_buttons"][spec.answer.skip_button][language], "payload": "/deny"}
        )
    return result


def ask_response(spec: FieldSpec, settings: Mapping[str, Any]) -> list[dict[str, Any]]:
    """utter_ask_<field>: the English variation (on the language slot) first, then the Chinese default."""
    english: dict[str, Any] = {"condition": ENGLISH, "text": spec.question["en"]}
    chinese: dict[str, Any] = {"text": spec.question["zh"]}
    if buttons(spec, settings, "zh"):
        english["buttons"] = buttons(spec, settings, "en")
        chinese["buttons"] = buttons(spec, settings, "zh")
    return [english, chinese]


def _yaml(data: Any, indent: int) -> str:
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=4096, default_flow_style=None)
    return "".join(" " * indent + line if line.strip() else line for line in text.splitlines(keepends=True))


def _one_line(text: str) -> str:
    return " ".join(text.split())


def render_domain() -> str:
    """The text of domain/profile.yml."""
    settings = dialogue_settings()
    fields = asked_fields()
    parts = [HEADER, 'version: "3.1"\n\nslots:\n']
    for spec in fields:
        parts.append(f"  {spec.name}:\n    # {_one_line(spec.description['en'])}\n")
        parts.append(_yaml(slot(spec, settings), 4))
    required = [*settings["form_leading_slots"], *(spec.name for spec in fields)]
    parts.append(f"\nforms:\n  {settings['form']}:\n{FORM_COMMENT}")
    parts.append(_yaml({"required_slots": required}, 4))
    parts.append(f"\nresponses:\n{RESPONSES_COMMENT}")
    for spec in fields:
        parts.append(_yaml({f"utter_ask_{spec.name}": ask_response(spec, settings)}, 2))
    return "".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when the file is stale; write nothing")
    parser.add_argument("--out", type=Path, default=OUTPUT, help="the generated domain file")
    args = parser.parse_args(argv)
    text = render_domain()
    if args.check:
        current = args.out.read_text(encoding="utf-8") if args.out.exists() else ""
        if current != text:
            print(f"{args.out} is stale: run `make domain`", file=sys.stderr)
            return 1
        return 0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
