"""``make export-reviewed``: the review queue's reviewed messages (bot/console/review.py) become training
examples, so the next ``make train`` learns from them (issue 13, item 7).

Every ``held_out_every``-th reviewed example (by its queue id: deterministic, stable between runs) goes to
the held-out split ``tests/nlu_eval/reviewed_<date>.yml`` instead of ``data/nlu/reviewed_<date>.yml``, so
the evaluation keeps measuring words the model has not seen. Both are Rasa 3.1 NLU YAML with entity spans
``[text](entity)``; a run on a day whose files exist adds to them. An example already in the training data
(any intent) is not written twice. Exported items are marked and never exported again.

    python scripts/export_reviewed.py [--database sqlite:///var/gateway.db] [--root .] [--date 2026-12-01]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.config import DEFAULT_DATABASE_URL  # noqa: E402
from bot.console import review  # noqa: E402
from bot.console.workcalendar import work_calendar  # noqa: E402
from bot.store import Store  # noqa: E402
from scripts.nlu_eval import comparable, training_texts  # noqa: E402  (one rule for "the same example")

HEADER = "# Written by `make export-reviewed` (scripts/export_reviewed.py) from the console's review queue.\n"
_SPACE = re.compile(r"\s+")


def annotated(text: str, entities: list[dict[str, str]]) -> str:
    """The text with each entity's first free occurrence written ``[span](entity)``."""
    text = _SPACE.sub(" ", text).strip()
    spans: list[tuple[int, int, str]] = []
    for item in entities:
        start = text.find(item["text"])
        while start >= 0 and any(s < start + len(item["text"]) and start < e for s, e, _ in spans):
            start = text.find(item["text"], start + 1)
        if start >= 0:
            spans.append((start, start + len(item["text"]), item["entity"]))
    for start, end, entity in sorted(spans, reverse=True):
        text = f"{text[:start]}[{text[start:end]}]({entity}){text[end:]}"
    return text


def plain(example: str) -> str:
    """An annotated example without its annotations (what the person wrote)."""
    return re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", example)


def read_examples(path: Path) -> dict[str, list[str]]:
    """intent -> examples of an NLU YAML file written by this script (empty when there is none)."""
    if not path.exists():
        return {}
    found: dict[str, list[str]] = {}
    for block in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu") or []:
        lines = [
            line[2:].strip() for line in str(block.get("examples", "")).splitlines() if line.startswith("- ")
        ]
        found.setdefault(block["intent"], []).extend(lines)
    return found


def write_examples(path: Path, examples: dict[str, list[str]], note: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [HEADER + f"# {note}\n", 'version: "3.1"\n', "nlu:\n"]
    for intent in sorted(examples):
        lines.append(f"- intent: {intent}\n  examples: |\n")
        lines.extend(f"    - {example}\n" for example in examples[intent])
    path.write_text("".join(lines), encoding="utf-8")


def export(store: Store, root: Path, day: dt.date) -> dict[str, Any]:
    """Write the reviewed, not yet exported examples; returns what went where."""
    every = int(review.settings()["held_out_every"])
    training_file = root / "data/nlu" / f"reviewed_{day.isoformat()}.yml"
    held_out_file = root / "tests/nlu_eval" / f"reviewed_{day.isoformat()}.yml"
    training, held_out = read_examples(training_file), read_examples(held_out_file)
    # never twice, and never an example of the held-out splits (tests/nlu_eval/) in the training data
    seen = (
        training_texts(root / "data/nlu")
        | training_texts(root / "tests/nlu_eval")
        | {comparable(plain(e)) for examples in held_out.values() for e in examples}
    )
    counts = {"training": 0, "held_out": 0, "already_known": 0}
    items = review.to_export(store)
    for item in items:
        example = annotated(item["text"], item["reviewed_entities"] or [])
        if comparable(plain(example)) in seen:
            counts["already_known"] += 1
            continue
        seen.add(comparable(plain(example)))
        split = "held_out" if item["id"] % every == 0 else "training"
        (held_out if split == "held_out" else training).setdefault(item["reviewed_intent"], []).append(
            example
        )
        counts[split] += 1
    if counts["training"] or training_file.exists():
        write_examples(training_file, training, "Reviewed messages people sent; trained on.")
    if counts["held_out"] or held_out_file.exists():
        write_examples(
            held_out_file,
            held_out,
            f"Held out: every {every}th reviewed message; never trained on (README.md).",
        )
    review.mark_exported(store, [item["id"] for item in items])
    return {**counts, "training_file": str(training_file), "held_out_file": str(held_out_file)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", default=None, help="the gateway database (default: BOT_DATABASE_URL)")
    parser.add_argument("--root", type=Path, default=ROOT, help="the project whose data/nlu/ is written")
    parser.add_argument("--date", type=dt.date.fromisoformat, default=None, help="the files' date (local)")
    args = parser.parse_args(argv)

    url = args.database or os.environ.get("BOT_DATABASE_URL") or DEFAULT_DATABASE_URL
    store = Store(url)
    store.migrate()
    day = args.date or work_calendar().local(dt.datetime.now(dt.timezone.utc)).date()
    result = export(store, args.root, day)
    store.dispose()
    print(
        f"exported {result['training']} training examples to {result['training_file']}, "
        f"{result['held_out']} held-out to {result['held_out_file']}; "
        f"{result['already_known']} already known"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
