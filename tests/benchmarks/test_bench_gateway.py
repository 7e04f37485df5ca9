"""benchmarks/bench_gateway.py stays runnable."""

from __future__ import annotations


def test_gateway_benchmark_runs_end_to_end_against_the_standin() -> None:
    """benchmarks/bench_gateway.py stays runnable: both phases, every turn answered in time."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, "benchmarks/bench_gateway.py", "--rasa-url", "standin", "--users", "3"]
        + ["--turns", "2", "--think-median", "0.5", "--standin-delay", "0.01"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    out = result.stdout
    assert "[realistic] 3 users x 2 turns; think time: log-normal, median 0.5 s" in out
    assert "[stress] 3 users x 2 turns; think time: none" in out
    assert out.count("(6 turns in") == 2 and out.count("HTTP errors                0") == 2
    assert out.count("past WeChat's 5 s         0") == 2 and "gateway " in out
