"""bot/__main__.py: `python -m bot` starts with nothing configured."""

from __future__ import annotations


def test_python_m_bot_starts_with_nothing_configured(tmp_path) -> None:
    """`python -m bot` with no credentials: web chat up, one line per disabled channel."""
    import os
    import subprocess
    import urllib.request

    from bot.testing.process import free_port, start_gateway, wait_until_reachable

    port = free_port()
    keep = {"PATH", "HOME", "LANG", "SYSTEMROOT"}
    env = {k: v for k, v in os.environ.items() if k in keep}
    env.update(BOT_PORT=str(port), BOT_DATABASE_URL=f"sqlite:///{tmp_path / 'g.db'}", PYTHONUNBUFFERED="1")
    process = start_gateway(env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        lines = [process.stdout.readline() for _ in range(3)]
        assert lines[0].startswith("wechat: disabled") and lines[1].startswith("telegram: disabled")
        assert lines[2].strip() == f"web chat: http://127.0.0.1:{port}/"
        wait_until_reachable(f"http://127.0.0.1:{port}/healthz", process, seconds=30)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as page:
            assert "人才直达车" in page.read().decode()
    finally:
        process.terminate()
        process.wait(timeout=20)
