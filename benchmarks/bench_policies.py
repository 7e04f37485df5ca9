"""Benchmark: time to evaluate one profile against every policy of every district (not a test; prints figures).

    .venv/bin/python benchmarks/bench_policies.py [--iterations N]

The knowledge base is loaded once beforehand (as in the action server); each timed call is the full public
evaluate(): normalisation, judging every policy, 就高不重复, sorting, rendering in one language, with the
evaluation memo (policies/memo.py) emptied before each call so that nothing is remembered; then the same
call answered from the memo.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from policies import default_knowledge_base, evaluate  # noqa: E402
from policies.engine import MEMO  # noqa: E402
from scripts.figures import printed_into  # noqa: E402

PROFILES = {
    "qingpu scientist (zh)": (
        {
            "district": "青浦区",
            "age": 33,
            "education": "PhD",
            "full_time": True,
            "title": "副高",
            "honors": ["无"],
            "employer_registered_in_district": True,
            "tax_and_social_insurance_in_district": True,
        },
        "zh",
    ),
    "empty profile, all districts (en)": ({}, "en"),
}


def measure(profile: dict, language: str, iterations: int, remembered: bool = False) -> list[float]:
    timings = []
    for _ in range(iterations):
        if not remembered:
            MEMO.clear()
        start = time.perf_counter()
        evaluate(profile, district=None if profile else "all", language=language)
        timings.append((time.perf_counter() - start) * 1000)
    return timings


def report(name: str, timings: list[float]) -> None:
    timings = sorted(timings)
    p95 = timings[int(len(timings) * 0.95) - 1]
    print(f"{name}: median {statistics.median(timings):.3f} ms, p95 {p95:.3f} ms over {len(timings)} runs")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=2000)
    args = parser.parse_args()
    with printed_into("bench-policies", "Policy engine: one profile against every policy", "make bench"):
        start = time.perf_counter()
        base = default_knowledge_base()
        load_ms = (time.perf_counter() - start) * 1000
        print(
            f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} cores; {len(base.policies)} policies"
        )
        print(f"knowledge base load (once per process): {load_ms:.0f} ms")
        for name, (profile, language) in PROFILES.items():
            measure(profile, language, 50)  # warm up
            report(name, measure(profile, language, args.iterations))
            report("  the same, remembered", measure(profile, language, args.iterations, remembered=True))


if __name__ == "__main__":
    main()
