"""Start the whole assistant (scripts/run_services.sh, as `make run` does) for tests and benchmarks."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class RunningAssistant:
    rasa_url: str
    rasa_token: str
    gateway_url: str


def reachable(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except OSError:
        return False


@contextlib.contextmanager
def running_assistant(
    token: str, log_dir: Path, startup_seconds: float = 300, env: Mapping[str, str] | None = None
) -> Iterator[RunningAssistant]:
    """Start action server, Rasa server(s) and gateway; stop them all on exit.

    ``env`` (default: this process's environment) is what scripts/run_services.sh reads: ports, RASA_NODES,
    databases. Start-up waits for every Rasa node ($RASA_PORT, $RASA_PORT+1, ...)."""
    env = dict(os.environ if env is None else env, RASA_TOKEN=token, LOG_DIR=str(log_dir))
    env.setdefault("BOT_DATABASE_URL", f"sqlite:///{log_dir / 'gateway.db'}")
    env.setdefault("RASA_TRACKER_DB", str(log_dir / "tracker.db"))
    log_dir.mkdir(parents=True, exist_ok=True)
    assistant = RunningAssistant(
        rasa_url=f"http://127.0.0.1:{env.get('RASA_PORT', '5005')}",
        rasa_token=token,
        gateway_url=f"http://127.0.0.1:{env.get('BOT_PORT', '8080')}",
    )
    action_health = f"http://127.0.0.1:{env.get('ACTION_PORT', '5055')}/health"
    first_rasa_port = int(env.get("RASA_PORT", "5005"))
    rasa_ports = range(first_rasa_port, first_rasa_port + int(env.get("RASA_NODES") or 1))
    process = subprocess.Popen(
        ["bash", str(ROOT / "scripts/run_services.sh")],
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + startup_seconds
        ready = [f"http://127.0.0.1:{port}/status?token={token}" for port in rasa_ports] + [action_health]
        if (ROOT / "bot/__main__.py").exists():
            ready.append(f"{assistant.gateway_url}/healthz")
        while not all(reachable(url) for url in ready):
            if process.poll() is not None:
                raise RuntimeError(f"the assistant exited during start-up; see {log_dir}/")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the assistant did not start in {startup_seconds:.0f} s; see {log_dir}/")
            time.sleep(1)
        yield assistant
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
