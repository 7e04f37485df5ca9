"""Run an ASGI app with uvicorn on 127.0.0.1 and a free port, inside the current event loop."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import uvicorn


@contextlib.asynccontextmanager
async def serve(app: Any, *, host: str = "127.0.0.1", port: int = 0) -> AsyncIterator[str]:
    """``async with serve(app) as base_url:`` -- the server stops when the block ends (``port``: a given
    one, e.g. where a dependency comes back; 0: a free one)."""
    config = uvicorn.Config(
        app, host=host, port=port, log_level="warning", ws="none", lifespan="on", access_log=False
    )
    server = uvicorn.Server(config)
    server.install_signal_handlers = lambda: None  # tests own the signals (older uvicorn API)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()  # raise the start-up error
            raise RuntimeError("server stopped while starting")
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        await task
