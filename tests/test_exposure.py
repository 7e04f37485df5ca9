"""What the README promises about exposure, checked on the running assistant (Linux /proc).

The Rasa server (whose HTTP API can rewrite any conversation) and the action server listen on the
loopback interface only, the HTTP API refuses requests without the token, and every process runs with
Rasa's telemetry switched off.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlparse

import httpx
import pytest

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="needs Linux /proc"),
]

LISTEN = "0A"
LOOPBACK_V4 = "0100007F"


def listening_addresses(port: int) -> set[str]:
    """Hex local addresses of the sockets listening on this TCP port (IPv4 and IPv6)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            address, port_hex = fields[1].rsplit(":", 1)
            if int(port_hex, 16) == port and fields[3] == LISTEN:
                found.add(address)
    return found


def processes_with(*words: str) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        text = [part.decode(errors="replace") for part in argv]
        if all(any(word in part for part in text) for word in words):
            pids.append(int(entry.name))
    return pids


def environment(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(item.decode(errors="replace").split("=", 1) for item in raw if b"=" in item)


def test_rasa_and_action_server_listen_on_loopback_only(assistant_services) -> None:
    rasa_port = urlparse(assistant_services["rasa_url"]).port
    action_port = int(os.environ.get("ACTION_PORT", 5055))
    for port in (rasa_port, action_port):
        addresses = listening_addresses(port)
        assert addresses, f"nothing listens on port {port}"
        assert addresses == {LOOPBACK_V4}, f"port {port} listens on {addresses}, not only 127.0.0.1"


def test_rasa_http_api_needs_the_token(assistant_services) -> None:
    url = assistant_services["rasa_url"]
    tracker = f"{url}/conversations/exposure-check/tracker"
    assert httpx.get(tracker, timeout=10).status_code == 401
    assert httpx.get(tracker, params={"token": "wrong"}, timeout=10).status_code == 401
    answer = httpx.get(tracker, params={"token": assistant_services["rasa_token"]}, timeout=10)
    assert answer.status_code == 200


def test_the_token_is_not_in_the_process_list(assistant_services) -> None:
    """`ps` shows every user's command lines: the Rasa token must not be among them."""
    token = assistant_services["rasa_token"].encode()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                assert token not in (entry / "cmdline").read_bytes(), f"process {entry.name}"
            except OSError:
                continue


def test_every_rasa_process_runs_with_telemetry_off(assistant_services) -> None:
    rasa_port = str(urlparse(assistant_services["rasa_url"]).port)
    action_port = os.environ.get("ACTION_PORT", "5055")
    pids = processes_with("rasa", "run", "--port", rasa_port) + processes_with("rasa", "actions", action_port)
    if not pids:
        pytest.skip("the assistant under test was started elsewhere (RASA_E2E_URL)")
    for pid in pids:
        assert environment(pid).get("RASA_TELEMETRY_ENABLED") == "false", f"process {pid}"
