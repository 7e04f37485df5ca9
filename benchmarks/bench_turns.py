"""Per-turn latency of the real assistant through Rasa's REST webhook, and (optionally) training time.

Starts the services (as `make run` does) unless --rasa-url points at running ones, then plays
--conversations conversations of the scripted turns below one after another (one conversation at a
time, the issue's target: p95 <= 150 ms on 2 cores) and prints p50/p95/max per turn. The first turn
after start-up (model warm-up) is reported on its own and left out of the percentiles.
With --train-time it also trains the model from scratch into a temporary directory and prints how long it took.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")

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


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def play(rasa_url: str, conversations: int) -> tuple[float, list[float]]:
    latencies: list[float] = []
    first = None
    with httpx.Client(timeout=30) as http:
        for _ in range(conversations):
            sender = f"bench:{uuid.uuid4().hex[:10]}"
            for text in TURNS:
                start = time.perf_counter()
                response = http.post(
                    f"{rasa_url}/webhooks/rest/webhook",
                    json={
                        "sender": sender,
                        "message": text,
                        "metadata": {"channel": "bench", "language": "zh"},
                    },
                )
                elapsed = (time.perf_counter() - start) * 1000
                response.raise_for_status()
                if first is None:
                    first = elapsed
                else:
                    latencies.append(elapsed)
    return first or 0.0, latencies


def train_time() -> float:
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        subprocess.run(
            [str(ROOT / ".venv/bin/rasa"), "train", "--force", "--out", out, "--fixed-model-name", "bench"],
            cwd=ROOT,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rasa-url", help="use running services instead of starting them")
    parser.add_argument("--conversations", type=int, default=25)
    parser.add_argument("--model", help="(informational) the model make bench trained")
    parser.add_argument("--train-time", action="store_true", help="also time a full training from scratch")
    args = parser.parse_args()

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    if args.rasa_url:
        first, latencies = play(args.rasa_url, args.conversations)
    else:
        with running_assistant("bench-token", ROOT / "var/log/bench") as assistant:
            first, latencies = play(assistant.rasa_url, args.conversations)
    print(
        f"per-turn latency over {len(latencies)} turns ({args.conversations} conversations, one at a time): "
        f"p50 {statistics.median(latencies):.0f} ms, p95 {percentile(latencies, 0.95):.0f} ms, "
        f"max {max(latencies):.0f} ms; first turn after start-up {first:.0f} ms"
    )
    if args.train_time:
        print(f"training from scratch (rasa train --force): {train_time():.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
