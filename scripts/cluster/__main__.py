"""``python -m scripts.cluster run``: the whole topology (topology.py) in the foreground until Ctrl-C."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from pathlib import Path

from .topology import ROOT, Cluster


def main(argv: list[str]) -> int:
    """Start everything, print where it listens, stop everything on Ctrl-C or when a process exits."""
    parser = argparse.ArgumentParser(prog="python -m scripts.cluster")
    parser.add_argument("command", choices=["run"])
    parser.add_argument("--port", type=int, default=int(os.environ.get("BOT_PORT", "8080")))
    parser.add_argument("--run-dir", default=str(ROOT / "var/cluster"))
    parser.add_argument("--rasa", choices=["model", "standin"], default="model")
    args = parser.parse_args(argv)
    cluster = Cluster(Path(args.run_dir), public_port=args.port, rasa=args.rasa)
    stop = {"now": False}
    signal.signal(signal.SIGTERM, lambda *_: stop.update(now=True))
    try:
        cluster.start()
        p = cluster.ports
        print(f"load balancer  {cluster.public_url}/  (web chat; staff console at /console)")
        print(
            f"gateways       {', '.join(str(x) for x in p.gateways)}   Rasa nodes {', '.join(str(x) for x in p.rasa)}"
        )
        print(f"action servers {', '.join(str(x) for x in p.actions)} behind 127.0.0.1:{p.actions_lb}")
        print(f"PostgreSQL     127.0.0.1:{p.postgres}   Redis 127.0.0.1:{p.redis}   logs {cluster.log_dir}/")
        print(
            f"staff accounts: env $(cat {cluster.run_dir}/gateway.env) .venv/bin/python -m bot staff add <login> --role admin"
        )
        print("all services up. Ctrl-C stops everything.", flush=True)
        while not stop["now"]:
            for service in cluster.services.values():
                if service.process is not None and service.process.poll() is not None:
                    print(
                        f"{service.name} exited (code {service.process.returncode}); stopping",
                        file=sys.stderr,
                    )
                    return 1
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        print("stopping ...", flush=True)
        cluster.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
