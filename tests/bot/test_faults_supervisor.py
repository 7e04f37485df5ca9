"""Issue 10, finding 3: `kill -9` of Rasa made scripts/run_services.sh stop everything. Each service now
runs under its own supervisor (scripts/supervise.py, which run_services.sh uses): killed, it comes back;
told to stop, it stops. The Rasa stand-in plays the service here (a real process, killed with signals)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request

import pytest

from bot.testing.process import ROOT, free_port, pid_listening_on, wait_until_reachable


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1):
            return True
    except OSError:
        return False


def test_a_killed_service_is_restarted_and_a_stop_stops_it(tmp_path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    log = tmp_path / "rasa.log"
    supervisor = subprocess.Popen(
        [
            sys.executable,
            "scripts/supervise.py",
            "--name",
            "rasa",
            "--log",
            str(log),
            "--",
            sys.executable,
            "-m",
            "bot.testing.rasa_standin",
            "--port",
            str(port),
        ],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_until_reachable(url, supervisor, seconds=30)
        first = pid_listening_on(port)
        os.kill(first, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while not answers(url):
            assert time.monotonic() < deadline, "the service did not come back"
            assert supervisor.poll() is None, "the supervisor gave up"
            time.sleep(0.1)
        assert pid_listening_on(port) not in (None, first)
        assert oct(log.stat().st_mode & 0o777) == "0o600"
        supervisor.send_signal(signal.SIGTERM)
        assert supervisor.wait(timeout=30) == 0
        assert not answers(url)
        output = supervisor.stderr.read()
        assert "exited with code -9" in output and "restarting in 1s" in output and "stopped" in output
    finally:
        if supervisor.poll() is None:
            supervisor.kill()


def test_run_services_supervises_each_service_and_creates_owner_only_files() -> None:
    """The script itself: every service started through the supervisor, under umask 077 (Rasa's SQLite
    tracker and the logs are created owner-only). Its end-to-end run needs the trained model (e2e below)."""
    script = (ROOT / "scripts/run_services.sh").read_text()
    assert "umask 077" in script
    starts = [line.strip() for line in script.splitlines() if line.strip().startswith("supervise ")]
    assert [line.split()[1] for line in starts] == ["actions", '"rasa$i"', "gateway"]
    assert "&\n" not in script.split("supervise() {", 1)[1].split("}", 1)[1].split('wait_for "action', 1)[0]


@pytest.mark.e2e
def test_kill_rasa_under_run_services_the_gateway_keeps_serving(tmp_path) -> None:
    """The whole assistant (scripts/run_services.sh with the trained model): kill -9 the Rasa server;
    the gateway and the action server keep running and Rasa comes back."""
    from scripts.services import running_assistant

    ports = {name: str(free_port()) for name in ("ACTION_PORT", "RASA_PORT", "BOT_PORT")}
    env = dict(os.environ, **ports)
    with running_assistant("e2e-token", tmp_path, env=env) as assistant:
        rasa_pid = pid_listening_on(int(ports["RASA_PORT"]))
        os.kill(rasa_pid, signal.SIGKILL)
        time.sleep(2)
        assert answers(f"{assistant.gateway_url}/healthz")
        assert answers(f"http://127.0.0.1:{ports['ACTION_PORT']}/health")
        deadline = time.monotonic() + 300
        while not answers(f"{assistant.rasa_url}/status?token=e2e-token"):
            assert time.monotonic() < deadline, "Rasa did not come back"
            time.sleep(2)
        tracker = tmp_path / "tracker.db"
        assert not tracker.exists() or tracker.stat().st_mode & 0o077 == 0
