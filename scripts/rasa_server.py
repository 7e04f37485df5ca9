"""Run Rasa as we deploy it: the HTTP API token from $RASA_TOKEN, and the latency fixes installed.

`rasa run --auth-token <token>` would put the token in the process list, where anyone on the machine can
read it (`ps`); this wrapper adds the option inside the process instead:

    .venv/bin/python scripts/rasa_server.py run --enable-api --port 5005 ...
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

# run as a script, Python puts scripts/ on the path, not the repo root that `scripts.` lives in
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.rasa_latency import install_latency_fixes  # noqa: E402


def main() -> None:
    token = os.environ.get("RASA_TOKEN")
    if not token:
        sys.exit("RASA_TOKEN is not set: Rasa's HTTP API must not run without a token")
    sys.argv = ["rasa", *sys.argv[1:], "--auth-token", token]
    from rasa.__main__ import main as rasa_main

    install_latency_fixes()  # per-turn latency: see scripts/rasa_latency.py
    rasa_main()


if __name__ == "__main__":
    main()
