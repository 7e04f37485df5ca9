"""The scaled topology on one machine: HAProxy -> gateways -> Rasa nodes -> action servers, with one
PostgreSQL (transcripts, cases, Rasa's tracker store) and one Redis (Rasa's lock store, the console's
cross-gateway events, shared web chat limits).

One home for how each process starts: ``make run-cluster`` (``python -m scripts.cluster run``) and the
fault test (tests/cluster/) both use ``Cluster``. Every server listens on 127.0.0.1 only; PostgreSQL and
Redis keep throw-away data under the run directory (default var/cluster/) and need a password that is
generated per run and kept in files readable by their owner only, never on a command line.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import string
import subprocess
import time
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .datastores import PG_USER, redis_config, start_postgres, stop_postgres, wait_for_redis

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
DATABASES = ("gateway", "tracker")
CLUSTER_LEASE_SECONDS = "20"
# what the gateways inherit from the caller (channel credentials, stand-in URLs, limits, timeouts)
GATEWAY_ENV_PREFIXES = (
    "WECHAT_",
    "TELEGRAM_",
    "WEBCHAT_",
    "BOT_",
    "PUBLIC_BASE_URL",
    "CONSOLE_",
    "RASA_TIMEOUT",
)


def _reachable(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except OSError:
        return False


def _free_ports(count: int) -> list[int]:
    import socket

    sockets, ports = [], []
    for _ in range(count):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        sockets.append(s)
        ports.append(s.getsockname()[1])
    for s in sockets:
        s.close()
    return ports


@dataclass
class Ports:
    public: int
    actions_lb: int
    postgres: int
    redis: int
    gateways: list[int]
    rasa: list[int]
    actions: list[int]

    @classmethod
    def allocate(cls, public: int | None, gateways: int, rasa: int, actions: int) -> Ports:
        free = _free_ports(4 + gateways + rasa + actions)
        return cls(
            public=public or free[0],
            actions_lb=free[1],
            postgres=free[2],
            redis=free[3],
            gateways=free[4 : 4 + gateways],
            rasa=free[4 + gateways : 4 + gateways + rasa],
            actions=free[4 + gateways + rasa :],
        )


@dataclass
class Service:
    name: str
    command: list[str]
    env: dict[str, str]
    health: str | None  # URL answering 2xx when ready
    startup_seconds: float
    process: subprocess.Popen | None = None
    starts: int = 0


@dataclass
class Cluster:
    """``with Cluster(run_dir).running() as cluster: ...``; ``cluster.kill("gateway0")``, ``restart``."""

    run_dir: Path
    public_port: int | None = None
    gateways: int = 2
    rasa_nodes: int = 2
    action_servers: int = 2
    rasa: str = "model"  # "model": the trained assistant; "standin": bot/testing's Rasa stand-in
    model: Path = field(
        default_factory=lambda: ROOT / os.environ.get("MODELS_DIR", "models") / "assistant.tar.gz"
    )
    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    services: dict[str, Service] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.run_dir = Path(self.run_dir).resolve()
        self.ports = Ports.allocate(self.public_port, self.gateways, self.rasa_nodes, self.action_servers)
        self.log_dir = self.run_dir / "log"
        self.rasa_token = secrets.token_urlsafe(24)
        self.pg_password = secrets.token_urlsafe(24)
        self.redis_password = secrets.token_urlsafe(24)

    # -- addresses ---------------------------------------------------------------------------------
    @property
    def public_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.public}"

    def database_url(self, name: str) -> str:
        return f"postgresql+psycopg2://{PG_USER}:{self.pg_password}@127.0.0.1:{self.ports.postgres}/{name}"

    @property
    def redis_url(self) -> str:
        return f"redis://:{self.redis_password}@127.0.0.1:{self.ports.redis}/0"

    @property
    def rasa_urls(self) -> list[str]:
        return [f"http://127.0.0.1:{port}" for port in self.ports.rasa]

    def gateway_url(self, index: int) -> str:
        return f"http://127.0.0.1:{self.ports.gateways[index]}"

    # -- data services -----------------------------------------------------------------------------
    def _start_postgres(self) -> None:
        start_postgres(self.run_dir / "pg", self.ports.postgres, self.pg_password, DATABASES)

    def _stop_postgres(self) -> None:
        stop_postgres(self.run_dir / "pg")

    def _redis_service(self) -> Service:
        conf = redis_config(self.run_dir / "redis", self.ports.redis, self.redis_password)
        return Service("redis", ["redis-server", str(conf)], dict(self.env), None, 30)

    def _ensure_tracker_tables(self) -> None:
        """Create Rasa's tracker tables once, before the nodes start side by side and race to do it."""
        if self.rasa != "model":
            return
        code = (
            "import os; from rasa.core.tracker_store import SQLTrackerStore; from rasa.shared.core.domain "
            "import Domain; SQLTrackerStore(Domain.empty(), dialect='postgresql', host='127.0.0.1', "
            "port=int(os.environ['TRACKER_DB_PORT']), db='tracker', username=os.environ['TRACKER_DB_USER'], "
            "password=os.environ['TRACKER_DB_PASSWORD'])"
        )
        subprocess.run(
            [str(ROOT / ".venv/bin/python"), "-c", code], env=self._rasa_env(), check=True, timeout=300
        )

    # -- service definitions -----------------------------------------------------------------------
    def _base_env(self) -> dict[str, str]:
        return dict(self.env, RASA_TELEMETRY_ENABLED="false", TF_CPP_MIN_LOG_LEVEL="2", PYTHONUNBUFFERED="1")

    def _rasa_env(self) -> dict[str, str]:
        return dict(
            self._base_env(),
            RASA_TOKEN=self.rasa_token,
            ACTION_ENDPOINT_URL=f"http://127.0.0.1:{self.ports.actions_lb}/webhook",
            TRACKER_DB_HOST="127.0.0.1",
            TRACKER_DB_PORT=str(self.ports.postgres),
            TRACKER_DB_NAME="tracker",
            TRACKER_DB_USER=PG_USER,
            TRACKER_DB_PASSWORD=self.pg_password,
            REDIS_HOST="127.0.0.1",
            REDIS_PORT=str(self.ports.redis),
            REDIS_PASSWORD=self.redis_password,
        )

    def _gateway_env(self, index: int) -> dict[str, str]:
        env = {k: v for k, v in self._base_env().items() if not k.startswith(GATEWAY_ENV_PREFIXES)}
        env.update({k: v for k, v in self.env.items() if k.startswith(GATEWAY_ENV_PREFIXES)})
        env.update(
            BOT_HOST="127.0.0.1",
            BOT_PORT=str(self.ports.gateways[index]),
            BOT_DATABASE_URL=self.database_url("gateway"),
            BOT_REDIS_URL=self.redis_url,
            RASA_URLS=",".join(self.rasa_urls),
            RASA_TOKEN=self.rasa_token,
            # the load balancer is on this machine: client addresses come from its X-Forwarded-For
            FORWARDED_ALLOW_IPS="127.0.0.1",
        )
        # each gateway renews the leases of what it is answering (bot/replay.py), so a lease only has to
        # outlive a dead process: what a killed gateway held is answered by the other about 20 s later
        env.setdefault("BOT_REPLAY_LEASE_SECONDS", CLUSTER_LEASE_SECONDS)
        return env

    def _define_services(self) -> None:
        py = str(ROOT / ".venv/bin/python")
        services = [self._redis_service()]
        for i, port in enumerate(self.ports.actions):
            env = dict(self._base_env(), SANIC_HOST="127.0.0.1")
            command = [
                str(ROOT / ".venv/bin/rasa"),
                "run",
                "actions",
                "--actions",
                "actions",
                "--port",
                str(port),
            ]
            services.append(Service(f"actions{i}", command, env, f"http://127.0.0.1:{port}/health", 180))
        for i, port in enumerate(self.ports.rasa):
            if self.rasa == "model":
                command = [py, "scripts/rasa_server.py", "run", "--model", str(self.model), "--enable-api"]
                command += ["--interface", "127.0.0.1", "--port", str(port)]
                command += ["--endpoints", str(HERE / "endpoints.yml"), "--credentials", "credentials.yml"]
                health = f"http://127.0.0.1:{port}/status?token={self.rasa_token}"
            else:
                command = [
                    py,
                    "-m",
                    "scripts.cluster.rasa_standin_server",
                    "--port",
                    str(port),
                    "--name",
                    f"rasa{i}",
                ]
                health = f"http://127.0.0.1:{port}/"
            services.append(Service(f"rasa{i}", command, self._rasa_env(), health, 420))
        for i, port in enumerate(self.ports.gateways):
            health = f"http://127.0.0.1:{port}/healthz"
            services.append(Service(f"gateway{i}", [py, "-m", "bot"], self._gateway_env(i), health, 90))
        cfg = self._render_haproxy()
        services.append(Service("haproxy", ["haproxy", "-db", "-f", str(cfg)], self._base_env(), None, 30))
        self.services = {s.name: s for s in services}

    def _render_haproxy(self) -> Path:
        template = string.Template((HERE / "haproxy.cfg.template").read_text())
        servers = lambda prefix, ports: "\n".join(  # noqa: E731
            f"    server {prefix}{i} 127.0.0.1:{port} check" for i, port in enumerate(ports)
        )
        text = template.substitute(
            run_dir=self.run_dir,
            bind_host="127.0.0.1",
            public_port=self.ports.public,
            actions_port=self.ports.actions_lb,
            gateway_servers=servers("gateway", self.ports.gateways),
            action_servers=servers("actions", self.ports.actions),
        )
        path = self.run_dir / "haproxy.cfg"
        path.write_text(text)
        return path

    # -- lifecycle ---------------------------------------------------------------------------------
    def start(self) -> None:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self._define_services()
        self._start_postgres()
        # for `python -m bot staff add` against this cluster's database (owner-only, like the passwords)
        env_file = self.run_dir / "gateway.env"
        env_file.touch(mode=0o600)
        env_file.write_text(
            f"BOT_DATABASE_URL={self.database_url('gateway')}\nBOT_REDIS_URL={self.redis_url}\n"
        )
        self.start_service("redis")
        self._wait_redis()
        self._ensure_tracker_tables()
        order = [n for n in self.services if n.startswith(("actions", "rasa"))]
        order += [n for n in self.services if n.startswith("gateway")] + ["haproxy"]
        for name in order:
            self.start_service(name, wait=False)
        for name in order:
            self.wait_ready(name)
        self.wait_public()

    def start_service(self, name: str, wait: bool = True) -> None:
        service = self.services[name]
        log = open(self.log_dir / f"{name}.log", "ab")  # noqa: SIM115 -- the child keeps it open
        service.process = subprocess.Popen(
            service.command,
            cwd=ROOT,
            env=service.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: a kill reaches its children too
        )
        log.close()
        service.starts += 1
        if wait:
            self.wait_ready(name)

    def wait_ready(self, name: str) -> None:
        service = self.services[name]
        deadline = time.monotonic() + service.startup_seconds
        while service.health and not _reachable(service.health):
            if service.process is None or service.process.poll() is not None:
                raise RuntimeError(f"{name} exited during start-up; see {self.log_dir / (name + '.log')}")
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"{name} not ready in {service.startup_seconds:.0f} s; see {self.log_dir}/"
                )
            time.sleep(0.5)

    def _wait_redis(self) -> None:
        wait_for_redis(self.redis_url)

    def wait_public(self, seconds: float = 30) -> None:
        deadline = time.monotonic() + seconds
        while not _reachable(f"{self.public_url}/healthz"):
            if time.monotonic() > deadline:
                raise RuntimeError("the load balancer does not reach a gateway")
            time.sleep(0.25)

    def kill(self, name: str) -> None:
        """SIGKILL, no goodbye: what a crash or an out-of-memory kill does."""
        process = self.services[name].process
        if process is not None and process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)

    def restart(self, name: str) -> None:
        self.kill(name)
        self.start_service(name)

    def stop(self) -> None:
        for service in reversed(list(self.services.values())):
            process = service.process
            if process is not None and process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
        for service in self.services.values():
            if service.process is not None:
                try:
                    service.process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(service.process.pid, signal.SIGKILL)
        self._stop_postgres()

    @contextlib.contextmanager
    def running(self):
        try:
            self.start()
            yield self
        finally:
            self.stop()
