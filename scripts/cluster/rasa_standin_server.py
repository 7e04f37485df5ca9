"""bot/testing's Rasa stand-in as its own process, for developing and testing the topology without a
trained model (``python -m scripts.cluster run --rasa standin``). Its conversations live in memory: a
killed stand-in forgets them, unlike the real nodes and their shared PostgreSQL tracker store."""

from __future__ import annotations

import argparse
import os

import uvicorn

from bot.testing.rasa_standin import RasaStandIn


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--name", default="rasa")
    args = parser.parse_args()
    standin = RasaStandIn(args.name, token=os.environ.get("RASA_TOKEN"))
    uvicorn.run(standin.app, host="127.0.0.1", port=args.port, log_level="warning", ws="none")


if __name__ == "__main__":
    main()
