"""How many questions until an answer is settled: every profile case × every topic, replayed as a person
who knows their facts (a fact the case does not give is answered "不知道", which also counts).

The questions are chosen by the form's own `actions.forms.next_missing_fact` on a real rasa_sdk Tracker,
so the same script measures any version of the dialogue:

    .venv/bin/python benchmarks/bench_questions.py            # mean, max, per topic
    .venv/bin/python benchmarks/bench_questions.py --worst 5  # also the longest conversations

"Common" profiles are those without a rare fact (profile.yml `commonness: rare`) set to a real value.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rasa_sdk import Tracker  # noqa: E402

from actions.forms import next_missing_fact  # noqa: E402
from policies import TOPICS, normalise_profile  # noqa: E402
from scripts.figures import printed_into  # noqa: E402

CASES_DIR = ROOT / "tests" / "policies" / "cases"
MAX_TURNS = 30
EMPTY = (None, "", [], "无", False)


def cases() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for path in sorted(CASES_DIR.glob("*.yml")):
        with path.open(encoding="utf-8") as handle:
            for case in yaml.safe_load(handle) or []:
                profile = normalise_profile(case.get("profile") or {})
                if profile.get("district"):
                    found.append((case["name"], profile))
    return found


def tracker(slots: dict[str, Any]) -> Tracker:
    return Tracker("bench", slots, {"intent": {"name": "inform"}, "entities": []}, [], False, None, {}, "")


def questions_until_settled(profile: dict[str, Any], topic: str) -> tuple[int, list[str], bool]:
    """The person states their district and topic; every question is answered from the profile.
    Also says whether the form's question cap (not the answer being settled) ended the questions."""
    slots: dict[str, Any] = {"district": profile["district"], "topic": topic, "answer_mode": "personal"}
    asked: list[str] = []
    for _ in range(MAX_TURNS):
        slots["questions_asked"] = len(asked)
        fact = next_missing_fact(tracker(slots))
        if fact is None:
            break
        asked.append(fact)
        if profile.get(fact) is not None:
            slots[fact] = profile[fact]
        else:
            slots["skipped_facts"] = [*(slots.get("skipped_facts") or []), fact]
    slots["questions_asked"] = 0
    cut = bool(asked) and next_missing_fact(tracker(slots)) is not None
    return len(asked), asked, cut


def rare_facts(profile_file: Path) -> set[str]:
    """The facts profile.yml marks `commonness: rare` (read once: parsing profile.yml for every case
    took nine tenths of the benchmark's time)."""
    with profile_file.open(encoding="utf-8") as handle:
        fields = yaml.safe_load(handle)["fields"]
    return {name for name, spec in fields.items() if spec.get("commonness") == "rare"}


def is_common(profile: dict[str, Any], rare: set[str]) -> bool:
    return not any(profile.get(name) not in EMPTY and profile.get(name) != ["无"] for name in rare)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worst", type=int, default=0, help="print the N longest conversations")
    parser.add_argument(
        "--profile-file",
        type=Path,
        default=ROOT / "policies" / "profile.yml",
        help="profile.yml whose `commonness` says which profiles are common (to compare older versions)",
    )
    args = parser.parse_args()
    with printed_into(
        "bench-questions", "Questions until the answer is settled (every profile case × topic)", "make bench"
    ):
        runs = []
        rare = rare_facts(args.profile_file)
        for name, profile in cases():
            common = is_common(profile, rare)
            for topic in TOPICS:
                count, asked, cut = questions_until_settled(profile, topic)
                runs.append((count, topic, name, common, asked, cut))
        counts = [r[0] for r in runs]
        common_counts = [r[0] for r in runs if r[3]]
        print(
            f"profile cases × topics: {len(runs)} conversations ({len(common_counts)} with a common profile)"
        )
        print(f"questions until settled: mean {statistics.mean(counts):.2f}, max {max(counts)}")
        print(f"common profiles:         mean {statistics.mean(common_counts):.2f}, max {max(common_counts)}")
        print(f"ended by the question cap rather than settled: {sum(1 for r in runs if r[5])} conversations")
        for topic in TOPICS:
            per_topic = [r[0] for r in runs if r[1] == topic]
            common_topic = [r[0] for r in runs if r[1] == topic and r[3]] or [0]
            print(
                f"  {topic:22s} mean {statistics.mean(per_topic):5.2f}  max {max(per_topic):2d}"
                f"  common max {max(common_topic):2d}"
            )
        for count, topic, name, common, asked, _ in sorted(runs, reverse=True)[: args.worst]:
            print(f"{count:2d} {topic} | {name} | {'common' if common else 'rare'} | {', '.join(asked)}")


if __name__ == "__main__":
    main()
