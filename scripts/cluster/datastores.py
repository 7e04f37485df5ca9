"""PostgreSQL 15 and Redis for the cluster on this machine: throw-away data under the run directory,
127.0.0.1 only, a password generated per run that never appears on a command line."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
PG_USER = "rczd"


def _as_postgres(args: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: as root, run its tools as the postgres account."""
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


def _run(command: list[str], timeout: float) -> None:
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:6])} ... failed: {result.stderr.strip()[-500:]}")


def start_postgres(pg_dir: Path, port: int, password: str, databases: Sequence[str]) -> None:
    """initdb into ``pg_dir`` (owner-only), start on 127.0.0.1:``port``, create ``databases``."""
    run_dir = pg_dir.parent
    shutil.rmtree(pg_dir, ignore_errors=True)
    if os.geteuid() == 0:  # the postgres account must be able to reach its folder (search only)
        run_dir.chmod(run_dir.stat().st_mode | 0o011)
        closed = [p for p in run_dir.parents if not p.stat().st_mode & 0o001]
        if closed:
            raise RuntimeError(f"the postgres account cannot reach {run_dir}: {closed[0]} is closed")
    pg_dir.mkdir(parents=True, mode=0o700)
    password_file = pg_dir / "pwfile"
    password_file.write_text(password)
    password_file.chmod(0o600)
    if os.geteuid() == 0:
        for path in (pg_dir, password_file):
            shutil.chown(path, "postgres")
    data = pg_dir / "data"
    _run(
        _as_postgres(
            [str(PG_BIN / "initdb"), "-D", str(data), "-U", PG_USER, "-E", "UTF8", "--locale=C.UTF-8"]
            + ["--auth=scram-sha-256", f"--pwfile={password_file}"]
        ),
        timeout=180,
    )
    password_file.unlink()
    # loopback only; the socket directory is the owner-only data folder
    options = f"-p {port} -k {pg_dir} -c listen_addresses=127.0.0.1 -c max_connections=200"
    _run(
        _as_postgres(
            [str(PG_BIN / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(pg_dir / "postgres.log")]
            + ["-w", "-t", "120", "start"]
        ),
        timeout=180,
    )
    import psycopg2

    with contextlib.closing(
        psycopg2.connect(host="127.0.0.1", port=port, user=PG_USER, password=password, dbname="postgres")
    ) as conn:
        conn.autocommit = True
        with conn.cursor() as cursor:
            for name in databases:
                cursor.execute(f"CREATE DATABASE {name}")


def stop_postgres(pg_dir: Path) -> None:
    data = pg_dir / "data"
    if data.exists():
        subprocess.run(
            _as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]),
            capture_output=True,
            timeout=60,
        )


def redis_config(redis_dir: Path, port: int, password: str) -> Path:
    """An owner-only redis.conf (the password stays out of the process list)."""
    redis_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    conf = redis_dir / "redis.conf"
    conf.write_text(
        f"bind 127.0.0.1\nport {port}\nrequirepass {password}\n"
        f'dir {redis_dir}\nsave ""\nappendonly no\nprotected-mode yes\n'
    )
    conf.chmod(0o600)
    return conf


def wait_for_redis(url: str, seconds: float = 15) -> None:
    import redis

    client = redis.Redis.from_url(url)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(redis.exceptions.ConnectionError):
            if client.ping():
                return
        time.sleep(0.25)
    raise RuntimeError("redis did not start")
