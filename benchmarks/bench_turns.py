"""Per-turn latency of the real assistant through Rasa's REST webhook, where the time goes, and training time.

Starts the services (as `make run` does) unless --rasa-url points at running ones, then plays
--conversations conversations of the scripted turns below one after another (one conversation at a
time, the issue's target: p95 <= 150 ms on 2 cores) and prints p50/p95/max per turn. The first turn
(right after start-up, unless --rasa-url) is reported on its own and left out of the percentiles. Every figure is
printed with the machine and its load average, because other work on the 2 cores moves them a lot.

With --against URL it also measures another Rasa already running (another tree's services, on other
ports), conversation by conversation in turn with the first (A B, then B A, …), so that both meet the
same load on the machine: an A/B of two trees in one run. With --distinct-people each conversation is
another person (own age, degree and title), so nothing the assistant remembered from an earlier
conversation answers it; without it every conversation says the same.

With --breakdown it also loads the same model in this process (with the fixes of scripts/rasa_latency.py,
as the server runs), plays the conversations again against the same action server and prints the
median milliseconds per turn of each step: NLU, policy predictions, custom action calls (Rasa's side +
HTTP + the action server), tracker store reads and writes, and the rest.
With --train-time it also trains the model from scratch into a temporary directory and prints how long it took.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import dataclasses
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")

from benchmarks.measure import load_average, machine, percentile  # noqa: E402
from scripts.figures import printed_into  # noqa: E402
from scripts.services import running_assistant  # noqa: E402

TURNS = [
    "你好",
    "青浦的租房补贴怎么申请？",
    "我34岁",
    "全日制本科",
    "副高职称",
    "那松江呢？",
    "依据是什么",
    "谢谢",
]
METADATA = {"channel": "bench", "language": "zh"}
# --distinct-people: the facts each person states instead of TURNS' 34岁, 全日制本科, 副高职称
DEGREES = ("全日制本科", "全日制硕士", "全日制博士", "非全日制硕士")
TITLES = ("副高职称", "中级职称", "正高职称", "初级职称")


def script(person: int | None) -> list[str]:
    """One conversation's messages: TURNS, or person number `person`'s own age (23-55, a different one for
    each of 33 people in a row), degree and title in TURNS' places."""
    if person is None:
        return TURNS
    age = 23 + (person * 7) % 33
    return [*TURNS[:2], f"我{age}岁", DEGREES[person % 4], TITLES[(person // 4) % 4], *TURNS[5:]]


@dataclasses.dataclass
class Measured:
    """The turns of one Rasa: the very first on its own (it may pay for start-up), the rest."""

    first: float | None = None
    latencies: list[float] = dataclasses.field(default_factory=list)

    def add(self, elapsed: float) -> None:
        if self.first is None:
            self.first = elapsed
        else:
            self.latencies.append(elapsed)


def converse(http: httpx.Client, rasa_url: str, messages: list[str], measured: Measured) -> None:
    sender = f"bench:{uuid.uuid4().hex[:10]}"
    for text in messages:
        start = time.perf_counter()
        response = http.post(
            f"{rasa_url}/webhooks/rest/webhook",
            json={"sender": sender, "message": text, "metadata": METADATA},
        )
        elapsed = (time.perf_counter() - start) * 1000
        response.raise_for_status()
        measured.add(elapsed)


def play(rasa_urls: list[str], conversations: int, distinct_people: bool = False) -> list[Measured]:
    """`conversations` conversations with each Rasa, one at a time; with several, they take turns
    conversation by conversation, in alternating order (A B, B A, …)."""
    measured = [Measured() for _ in rasa_urls]
    order = list(range(len(rasa_urls)))
    with httpx.Client(timeout=30) as http:
        for conversation in range(conversations):
            messages = script(conversation if distinct_people else None)
            for index in order if conversation % 2 == 0 else order[::-1]:
                converse(http, rasa_urls[index], messages, measured[index])
    return measured


# --- where the time goes: the same turns, in this process, with timers around Rasa's steps -------------
STEPS = {
    # label: (class, method, is coroutine) — Rasa 3.6's MessageProcessor, RemoteAction, SQLTrackerStore
    "NLU (parse message)": ("rasa.core.processor.MessageProcessor", "parse_message", True),
    "policy predictions": ("rasa.core.processor.MessageProcessor", "_predict_next_with_tracker", False),
    "custom action calls": ("rasa.core.actions.action.RemoteAction", "run", True),
    "tracker store read": ("rasa.core.tracker_store.SQLTrackerStore", "retrieve", True),
    "tracker store write": ("rasa.core.tracker_store.SQLTrackerStore", "save", True),
}


@contextlib.contextmanager
def timed_steps(spent: dict[str, float]) -> Iterator[None]:
    """Add each step's wall time to spent[label] while inside; restore Rasa's methods afterwards."""
    import importlib

    originals = []
    for label, (class_path, method, is_coroutine) in STEPS.items():
        module, _, class_name = class_path.rpartition(".")
        cls = getattr(importlib.import_module(module), class_name)
        original = cls.__dict__[method]
        originals.append((cls, method, original))
        setattr(cls, method, _timed(original, label, is_coroutine, spent))
    try:
        yield
    finally:
        for cls, method, original in originals:
            setattr(cls, method, original)


def _timed(function, label: str, is_coroutine: bool, spent: dict[str, float]):
    if is_coroutine:

        async def timed_coroutine(*args, **kwargs):
            start = time.perf_counter()
            try:
                return await function(*args, **kwargs)
            finally:
                spent[label] += time.perf_counter() - start

        return timed_coroutine

    def timed(*args, **kwargs):
        start = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            spent[label] += time.perf_counter() - start

    return timed


async def breakdown(
    model: Path, action_url: str, conversations: int, fixes: bool = True, distinct_people: bool = False
) -> dict[str, float]:
    """Median ms per turn of each step (and the whole turn), the first conversation left out as warm-up."""
    import logging

    from rasa.core.agent import load_agent
    from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
    from rasa.core.utils import AvailableEndpoints
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    from scripts.rasa_latency import install_latency_fixes

    # the server logs at INFO; Rasa's debug logging (its default in process) would cost time of its own
    configure_logging_and_warnings(logging.WARNING)
    configure_structlog(logging.WARNING)
    if fixes:
        install_latency_fixes()
    per_turn: dict[str, list[float]] = collections.defaultdict(list)
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["ACTION_ENDPOINT_URL"] = action_url
        os.environ["RASA_TRACKER_DB"] = str(Path(tmp) / "tracker.db")
        agent = await load_agent(
            model_path=str(model), endpoints=AvailableEndpoints.read_endpoints(str(ROOT / "endpoints.yml"))
        )
        spent: dict[str, float] = collections.defaultdict(float)
        with timed_steps(spent):
            for conversation in range(conversations + 1):
                sender = f"bench:{uuid.uuid4().hex[:10]}"
                for text in script(conversation if distinct_people else None):
                    spent.clear()
                    start = time.perf_counter()
                    await agent.handle_message(
                        UserMessage(text, CollectingOutputChannel(), sender, metadata=METADATA)
                    )
                    total = time.perf_counter() - start
                    if conversation == 0:
                        continue
                    per_turn["whole turn (in process)"].append(total * 1000)
                    for label in STEPS:
                        per_turn[label].append(spent[label] * 1000)
                    per_turn["rest (events, slots, forms, replies)"].append(
                        (total - sum(spent.values())) * 1000
                    )
    return {label: statistics.median(values) for label, values in per_turn.items()}


def train_time() -> float:
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        subprocess.run(
            # the directory domain/ (domain.yml + the generated domain/profile.yml), as make train does
            [str(ROOT / ".venv/bin/rasa"), "train", "--force", "--domain", "domain", "--out", out]
            + ["--fixed-model-name", "bench"],
            cwd=ROOT,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        return time.perf_counter() - start


def report_latency(measured: Measured, conversations: int, label: str = "") -> None:
    latencies = measured.latencies
    print(
        f"{label}per-turn latency over {len(latencies)} turns ({conversations} conversations, one at a time): "
        f"p50 {statistics.median(latencies):.0f} ms, p95 {percentile(latencies, 0.95):.0f} ms, "
        f"max {max(latencies):.0f} ms; first turn {measured.first or 0:.0f} ms  [load average {load_average()}]"
    )


def report_all(rasa_urls: list[str], measured: list[Measured], conversations: int) -> None:
    if len(measured) == 1:
        report_latency(measured[0], conversations)
        return
    for name, url, one in zip("AB", rasa_urls, measured, strict=True):
        report_latency(one, conversations, f"{name} {url}: ")


def report_breakdown(medians: dict[str, float], fixes: bool) -> None:
    how = "with" if fixes else "WITHOUT"
    print(
        f"where the time goes (median ms per turn, in process, {how} scripts/rasa_latency.py)  [load average {load_average()}]"
    )
    for label, value in medians.items():
        print(f"  {label:38s} {value:6.1f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rasa-url", help="use running services instead of starting them")
    parser.add_argument(
        "--action-url", help="with --rasa-url and --breakdown: the running action server's webhook"
    )
    parser.add_argument("--conversations", type=int, default=25)
    parser.add_argument(
        "--model", default=str(ROOT / "models/assistant.tar.gz"), help="the model (for --breakdown)"
    )
    parser.add_argument("--breakdown", action="store_true", help="also time each step of a turn in process")
    parser.add_argument(
        "--without-fixes",
        action="store_true",
        help="--breakdown without scripts/rasa_latency.py (for comparison)",
    )
    parser.add_argument("--train-time", action="store_true", help="also time a full training from scratch")
    parser.add_argument(
        "--against",
        metavar="URL",
        help="also measure this running Rasa (another tree's), taking turns with the first: an A/B",
    )
    parser.add_argument(
        "--distinct-people",
        action="store_true",
        help="each conversation states another age, degree and title (nothing remembered from an earlier one)",
    )
    args = parser.parse_args()
    if args.breakdown and args.rasa_url and not args.action_url:
        parser.error("--breakdown with --rasa-url needs --action-url")
    # an A/B goes to a section of its own: the plain figure stays the tree's own
    section = ("bench-turns-ab", "Per-turn latency through the REST webhook, two trees in turn")
    if not args.against:
        section = ("bench-turns", "Per-turn latency through the REST webhook")

    with printed_into(*section, "make bench"):
        print(f"machine: {machine()}; load average {load_average()}")
        with contextlib.ExitStack() as stack:
            rasa_url, action_url = args.rasa_url, args.action_url
            if not rasa_url:
                assistant = stack.enter_context(running_assistant("bench-token", ROOT / "var/log/bench"))
                rasa_url = assistant.rasa_url
                action_url = f"http://127.0.0.1:{os.environ.get('ACTION_PORT', '5055')}/webhook"
            urls = [rasa_url, *([args.against] if args.against else [])]
            if args.distinct_people:
                print("each conversation another person (own age, degree and title)")
            report_all(urls, play(urls, args.conversations, args.distinct_people), args.conversations)
            if args.breakdown:
                medians = breakdown(
                    Path(args.model),
                    action_url,
                    args.conversations,
                    not args.without_fixes,
                    args.distinct_people,
                )
                report_breakdown(asyncio.run(medians), not args.without_fixes)
        if args.train_time:
            print(f"training from scratch (rasa train --force): {train_time():.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
