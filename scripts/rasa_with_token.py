"""Run a `rasa` command with the HTTP API token taken from $RASA_TOKEN.

`rasa run --auth-token <token>` would put the token in the process list, where anyone on the machine can
read it (`ps`); this wrapper adds the option inside the process instead:

    .venv/bin/python scripts/rasa_with_token.py run --enable-api --port 5005 ...
"""

from __future__ import annotations

import os
import sys


def main() -> None:
    token = os.environ.get("RASA_TOKEN")
    if not token:
        sys.exit("RASA_TOKEN is not set: Rasa's HTTP API must not run without a token")
    sys.argv = ["rasa", *sys.argv[1:], "--auth-token", token]
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
