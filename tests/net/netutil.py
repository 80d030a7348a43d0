"""Helpers for the network tests: a real server on a loopback port, real clients.

Async tests run with :func:`run` (no pytest plugin needed). Waits are bounded by
``TIMEOUT`` (scaled by ``EVACDRILL_TIMEOUT_FACTOR`` on slow machines); no test asserts
how long anything took.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

from net.client import DrillClient
from net.room import Room
from net.server import DrillServer, ServerConfig

HALL = Path(__file__).with_name("drill_room.toml")
TIMEOUT = 10.0 * float(os.environ.get("EVACDRILL_TIMEOUT_FACTOR", "1"))


def run(coro_fn: Callable[[], Awaitable[Any]]) -> Any:
    """Run an async test body in a fresh event loop, bounded by a generous timeout."""
    async def bounded() -> Any:
        async with asyncio.timeout(6 * TIMEOUT):
            return await coro_fn()

    return asyncio.run(bounded())


@contextlib.asynccontextmanager
async def served(scenario: str | Path = HALL, **config: Any) -> AsyncIterator[
        tuple[DrillServer, Room]]:
    """A started server on a free port hosting one drill of ``scenario``."""
    server = DrillServer(ServerConfig(port=0, **config))
    await server.start()
    try:
        room = await server.add_drill(scenario)
        yield server, room
    finally:
        await server.close()


def client(server: DrillServer, room: Room, role: str, name: str = "",
           **kw: Any) -> DrillClient:
    """A client (not yet connected) for ``role`` in ``room``."""
    return DrillClient(server.url, drill=room.id, token=room.tokens[role],
                       name=name or role, timeout=TIMEOUT, **kw)
