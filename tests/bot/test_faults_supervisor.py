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
from pathlib import Path

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


def supervised_by(pid: int) -> bool:
    """Whether ``pid``'s parent is scripts/supervise.py (so this test never kills someone else's Rasa)."""
    parent = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1]
    return "supervise.py" in Path(f"/proc/{parent}/cmdline").read_text().replace("\0", " ")


@pytest.mark.e2e
def test_kill_rasa_under_run_services_the_gateway_keeps_serving(assistant_services: dict) -> None:
    """The whole assistant (scripts/run_services.sh with the trained model, the e2e session's): kill -9 the
    Rasa server. The gateway and the action server keep running; a web chat message sent meanwhile is
    stored and told the answer follows; Rasa comes back and the answer arrives by the poll."""
    import json

    rasa_port = int(assistant_services["rasa_url"].rsplit(":", 1)[1])
    rasa_pid = pid_listening_on(rasa_port)
    if rasa_pid is None or not supervised_by(rasa_pid):
        pytest.skip("this Rasa was not started by scripts/run_services.sh in this session")
    environ = Path(f"/proc/{rasa_pid}/environ").read_bytes().split(b"\0")
    tracker = next(Path(e.split(b"=", 1)[1].decode()) for e in environ if e.startswith(b"RASA_TRACKER_DB="))
    if not tracker.is_absolute():
        tracker = ROOT / tracker
    assert tracker.stat().st_mode & 0o077 == 0, "Rasa's tracker must be owner-only (umask 077)"
    os.kill(rasa_pid, signal.SIGKILL)
    gateway = assistant_services["gateway_url"]

    def post(path: str, body: dict) -> dict:
        request = urllib.request.Request(
            gateway + path, json.dumps(body).encode(), {"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=120) as response:
            return json.loads(response.read())

    down = post("/api/chat", {"text": "浦东租房补贴怎么申请", "language": "zh"})
    assert "已保存" in down["messages"][0]["text"]
    assert answers(f"{gateway}/healthz")
    deadline = time.monotonic() + 600
    token = assistant_services["rasa_token"]
    while not answers(f"{assistant_services['rasa_url']}/status?token={token}"):
        assert time.monotonic() < deadline, "Rasa did not come back"
        time.sleep(2)
    after = down["messages"][-1]["id"]
    answered: list[str] = []
    while not answered and time.monotonic() < deadline:
        url = f"{gateway}/api/chat/poll?session={down['session']}&after={after}"
        with urllib.request.urlopen(url, timeout=60) as response:
            answered = [m["text"] for m in json.loads(response.read())["messages"]]
    assert answered and "已保存" not in answered[0]
