"""The gateway benchmarks' parts (benchmarks/wechat_users.py, gateway_under_test.py) work on their own."""

from __future__ import annotations

import random
from pathlib import Path

from benchmarks.wechat_users import NO_THINK, ThinkTime, openids_per_node
from bot.rasa_client import HashRing

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def test_think_time_is_seeded_and_clipped_to_its_bounds() -> None:
    think = ThinkTime(median=10.0, sigma=3.0)
    draws = [think.draw(random.Random(f"1:{i}")) for i in range(200)]
    assert draws == [think.draw(random.Random(f"1:{i}")) for i in range(200)]
    assert min(draws) == think.low and max(draws) == think.high  # sigma 3 reaches both clips
    assert NO_THINK.draw(random.Random(1)) == 0.0 and NO_THINK.describe().startswith("none")


def test_warm_up_users_cover_every_rasa_node() -> None:
    nodes = ["http://127.0.0.1:5005", "http://127.0.0.1:5006", "http://127.0.0.1:5007"]
    openids = openids_per_node(nodes, "oWarm", 2)
    ring = HashRing(nodes)
    placed = [ring.node_for(f"wechat:{openid}") for openid in openids]
    assert sorted(placed) == sorted(nodes * 2) and all(len(o) == 28 for o in openids)


def test_the_gateway_benchmark_modules_stay_small() -> None:
    """STYLE.md: modules under ~400 lines; bench_gateway.py is the CLI and report, nothing more."""
    for name in ("bench_gateway.py", "wechat_users.py", "gateway_under_test.py", "bench_cluster.py"):
        assert len((BENCHMARKS / name).read_text().splitlines()) <= 400, name
