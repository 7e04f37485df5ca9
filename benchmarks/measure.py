"""What every benchmark prints beside its figures: percentiles, the machine, its load."""

from __future__ import annotations

import os
import platform
from pathlib import Path


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile (share 0.95 = p95) of a non-empty list."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def machine() -> str:
    """CPU model, cores and Python: figures move with all three."""
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        platform.processor(),
    )
    return f"{platform.machine()} {cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"


def load_average() -> str:
    """The 1/5/15-minute load average: other work on the machine moves every figure."""
    return "/".join(f"{x:.2f}" for x in os.getloadavg())
