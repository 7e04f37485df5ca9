"""bot/testing/process.py: the helpers that start servers and measure them by their port."""

from __future__ import annotations


def test_process_helpers_find_a_listener_and_its_costs() -> None:
    """The benchmark measures servers it did not start by their port: the lookup must find the owner."""
    import os
    import socket

    from bot.testing.process import cpu_seconds, free_port_block, pid_listening_on, rss_mib

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        assert pid_listening_on(port) == os.getpid()
    assert pid_listening_on(port) is None
    assert cpu_seconds(os.getpid()) > 0 and rss_mib(os.getpid()) > 10
    base = free_port_block(3)
    for candidate in range(base, base + 3):
        with socket.socket() as s:
            s.bind(("127.0.0.1", candidate))  # all three really free
