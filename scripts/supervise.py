"""Keep one service running: start it, and when it dies restart it with back-off; stop it on SIGTERM/INT.

    python scripts/supervise.py --name rasa --log var/log/rasa.log -- .venv/bin/python scripts/rasa_server.py ...

scripts/run_services.sh runs one supervisor per service, so a dead Rasa or action server comes back while
the gateway keeps serving (it answers "the answer follows" and replays the messages, bot/replay.py).
Back-off doubles from 1 s to 30 s and starts again at 1 s after a run longer than a minute. In
production, systemd does this job (unit files in bot/README.md).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time

FIRST_DELAY, MAX_DELAY, STABLE_SECONDS = 1.0, 30.0, 60.0


def say(name: str, text: str) -> None:
    print(f"supervise {name}: {text}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--name", required=True)
    parser.add_argument("--log", required=True, help="the service's output is appended here")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command given")
    stopping = False
    child: subprocess.Popen | None = None

    def stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True
        if child is not None and child.poll() is None:
            child.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    delay = FIRST_DELAY
    with open(args.log, "ab", buffering=0) as log:
        os.chmod(args.log, 0o600)
        while not stopping:
            started = time.monotonic()
            child = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
            say(args.name, f"started (pid {child.pid})")
            code = child.wait()
            if stopping:
                break
            ran = time.monotonic() - started
            delay = FIRST_DELAY if ran > STABLE_SECONDS else delay
            say(args.name, f"exited with code {code} after {ran:.0f}s; restarting in {delay:.0f}s")
            deadline = time.monotonic() + delay
            while not stopping and time.monotonic() < deadline:
                time.sleep(0.1)
            delay = min(MAX_DELAY, delay * 2)
        if child is not None and child.poll() is None:
            try:
                child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                child.kill()
    say(args.name, "stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
