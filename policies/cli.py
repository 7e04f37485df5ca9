"""python -m policies evaluate|explain|validate — bad input exits non-zero with one line, never a traceback."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from .engine import TOPICS, evaluate
from .errors import PolicyDataError, ProfileError
from .explain import explain
from .knowledge import load_knowledge_base


def _read_profile(source: str) -> Any:
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except OSError as error:
        raise ProfileError("--profile", f"cannot read {source}: {error.strerror}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise ProfileError(
            "--profile", f"malformed JSON at line {error.lineno} column {error.colno}: {error.msg}"
        ) from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m policies", description="Talent-policy eligibility engine"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    for name, helptext in (
        ("evaluate", "print the evaluation as JSON"),
        ("explain", "print a readable answer"),
    ):
        command = commands.add_parser(name, help=helptext)
        command.add_argument("--profile", required=True, help="JSON profile file, or - for standard input")
        command.add_argument("--topic", choices=TOPICS, help="only this topic")
        command.add_argument(
            "--district", help="only this district (default: the profile's; 'all' compares every district)"
        )
        command.add_argument(
            "--language", default="zh", choices=("zh", "en"), help="language of the texts (default zh)"
        )
    validate = commands.add_parser("validate", help="check every policy data file")
    validate.add_argument("--data", help=argparse.SUPPRESS)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "validate":
            base = load_knowledge_base(args.data) if args.data else load_knowledge_base()
            print(
                f"ok: {len(base.policies)} policies, {len(base.conditions)} conditions, {len(base.districts)} districts"
            )
            return 0
        profile = _read_profile(args.profile)
        result = evaluate(profile, topic=args.topic, district=args.district, language=args.language)
    except ProfileError as error:
        print(f"error: profile field {error.field!r}: {error.message}", file=sys.stderr)
        return 2
    except PolicyDataError as error:
        print(f"error: policy data {error.location}: {error.message}", file=sys.stderr)
        return 3
    if args.command == "evaluate":
        json.dump(result, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(explain(result, args.language))
    return 0
