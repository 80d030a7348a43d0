"""A Python client of protocol v1: joins a drill, keeps its state, sends actions.

:class:`DrillClient` is what tests, bots and the ``drill join`` command use::

    async with DrillClient(url, drill=ID, token=T, name="张三") as c:
        await c.request("door", id="East", action="close")   # -> ack with the tick
        msg = await c.next("delta")

It applies snapshots and deltas to :attr:`DrillClient.agents` and asks for a snapshot
(``resync``) when it sees a gap in the delta sequence.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import ssl as _ssl
import time
from collections import deque
from typing import Any

import msgpack
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from net.errors import ClientError
from net.protocol import encode, message
from net.state import AgentDecoder

__all__ = ["DrillClient"]

REPLY_TYPES = ("ack", "error", "created", "drills", "frame", "pong")


_PUBLIC = ("status", "speed", "exits", "hazards", "evacuated", "total", "floor_counts",
           "exit_counts")
"""Drill-wide fields of snapshots and deltas kept in :attr:`DrillClient.public`."""


class DrillClient:
    """One connection to a drill server (async context manager)."""

    def __init__(self, url: str, *, drill: str, token: str | None = None,
                 resume: str | None = None, name: str = "", keep: bool = True,
                 timeout: float = 10.0, avatar: bool | None = None,
                 ssl: _ssl.SSLContext | None = None):
        self.url, self.drill, self.token, self.resume_token = url, drill, token, resume
        self.ssl = ssl
        """TLS context for a wss:// url (None: the system's trusted CAs)."""
        self.name = name
        self.avatar = avatar
        """For a participant: False joins without an avatar in the crowd (None: default)."""
        self.keep = keep
        """Queue every message for :meth:`next` (off for bots that only measure)."""
        self.timeout = timeout
        self.ws: ClientConnection | None = None
        self.welcome: dict[str, Any] = {}
        self.role = ""
        self.participant_id = 0
        self.agents = AgentDecoder()
        self.seq = 0
        self.tick = 0
        self.t = 0.0
        self.public: dict[str, Any] = {}
        """status, speed, exits, hazards, evacuated, total, floor_counts as last received."""
        self.snapshot: dict[str, Any] = {}
        """The last snapshot message received."""
        self.ended: dict[str, Any] | None = None
        """The ``ended`` message, once the drill has ended."""
        self.avatars: dict[str, Any] = {}
        self.marks: list[dict[str, Any]] = []
        self.reports: list[dict[str, Any]] = []
        self.latencies: deque[float] = deque(maxlen=100_000)
        """Tick-to-receipt time of the latest deltas, s (same-host clocks)."""
        self.bytes_received = 0
        self.deltas = 0
        self.snapshots = 0
        self.gaps = 0
        self.closed: asyncio.Event = asyncio.Event()
        self._refs = itertools.count(1)
        self._waiting: dict[Any, asyncio.Future[dict[str, Any]]] = {}
        self._queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._reader: asyncio.Task[None] | None = None
        self._resyncing = False

    async def __aenter__(self) -> DrillClient:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def connect(self) -> dict[str, Any]:
        """Open the connection and join; returns ``welcome``. Raises ClientError if refused."""
        try:
            tls = {"ssl": self.ssl} if self.ssl is not None else {}
            self.ws = await connect(self.url, compression=None, max_size=None,
                                    open_timeout=self.timeout, **tls)
        except (TimeoutError, OSError) as exc:
            raise ClientError(f"cannot connect to {self.url}: {exc}") from None
        join = message("join", drill=self.drill, name=self.name or "client")
        if self.avatar is not None:
            join["avatar"] = self.avatar
        if self.resume_token:
            join["resume"] = self.resume_token
        else:
            join["token"] = self.token or ""
        await self.ws.send(encode(join))
        try:
            async with asyncio.timeout(self.timeout):
                welcome = None
                while True:
                    msg = self._unpack(await self.ws.recv())
                    kind = msg.get("type")
                    if kind == "welcome":
                        welcome = msg
                        if "snapshot" in msg:  # servers before the welcome went small
                            self._snapshot(msg["snapshot"])
                            break
                    elif kind == "snapshot" and welcome is not None:
                        self._snapshot(msg)
                        break
                    elif kind == "error":
                        raise ClientError(f"join refused: {msg.get('code')}: "
                                          f"{msg.get('message')}")
                    elif kind == "ended":
                        self.ended = msg
                        raise ClientError(f"the drill has ended ({msg.get('reason')}); "
                                          f"recording: {msg.get('recording') or 'none'}")
        except (ConnectionClosed, TimeoutError) as exc:
            raise ClientError(f"join failed: {exc}") from None
        self.welcome = welcome
        self.role, self.participant_id = welcome["role"], welcome["participant_id"]
        self.resume_token = welcome["resume_token"]
        self._reader = asyncio.get_running_loop().create_task(self._read())
        return welcome

    async def subscribe(self, floors: list[int] | None = None,
                        box: tuple[float, float, float, float] | None = None) -> dict[str, Any]:
        """Receive the agents of ``floors`` (indices; None: all) inside ``box`` (x0, y0, x1,
        y1 m; None: whole floors) in full, and only counts for the rest; returns the ack.
        The agents of the new view come in the next snapshot."""
        fields: dict[str, Any] = {}
        if floors is not None:
            fields["floors"] = list(floors)
        if box is not None:
            fields["box"] = list(box)
        reply = await self.request("subscribe", **fields)
        if reply.get("type") == "error":
            raise ClientError(f"subscribe refused: {reply.get('code')}: {reply.get('message')}")
        return reply

    async def close(self) -> None:
        """Close the connection."""
        if self.ws is not None:
            await self.ws.close()
        if self._reader is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(self._reader, 2.0)

    async def drop(self) -> None:
        """Cut the connection abruptly (no close handshake), as a lost network would."""
        if self.ws is not None:
            self.ws.transport.abort()
        if self._reader is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(self._reader, 2.0)

    # ------------------------------------------------------------------ sending

    async def send(self, msg_type: str, **fields: Any) -> int:
        """Send a message with a fresh ``ref``; returns the ref."""
        ref = next(self._refs)
        await self.send_raw(encode(message(msg_type, ref=ref, **fields)))
        return ref

    async def send_raw(self, frame: bytes | str) -> None:
        """Send a frame as is (tests of bad input use this)."""
        if self.ws is None:
            raise ClientError("not connected")
        try:
            await self.ws.send(frame)
        except ConnectionClosed as exc:
            raise ClientError(f"connection closed: {exc}") from None

    async def request(self, msg_type: str, **fields: Any) -> dict[str, Any]:
        """Send a message and wait for its reply (ack, error, created, frame or pong)."""
        ref = next(self._refs)
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting[ref] = fut
        await self.send_raw(encode(message(msg_type, ref=ref, **fields)))
        try:
            async with asyncio.timeout(self.timeout):
                return await fut
        except TimeoutError:
            raise ClientError(f"no reply to {msg_type} within {self.timeout} s") from None
        finally:
            self._waiting.pop(ref, None)

    # ------------------------------------------------------------------ receiving

    async def next(self, *types: str, timeout: float | None = None) -> dict[str, Any]:
        """The next received message (of one of ``types`` if given)."""
        async with asyncio.timeout(timeout or self.timeout):
            while True:
                if self.closed.is_set() and self._queue.empty():
                    raise ClientError("connection closed")
                get = asyncio.ensure_future(self._queue.get())
                closed = asyncio.ensure_future(self.closed.wait())
                done, _ = await asyncio.wait({get, closed}, return_when=asyncio.FIRST_COMPLETED)
                closed.cancel()
                if get not in done:
                    get.cancel()
                    continue
                msg = get.result()
                if not types or msg.get("type") in types:
                    return msg

    async def until(self, predicate: Any, timeout: float | None = None) -> None:
        """Wait until ``predicate(self)`` holds after some received message."""
        async with asyncio.timeout(timeout or self.timeout):
            while not predicate(self):
                await self.next()

    @staticmethod
    def _unpack(frame: bytes | str) -> dict[str, Any]:
        msg = msgpack.unpackb(frame, raw=False, strict_map_key=False)
        if not isinstance(msg, dict):
            raise ClientError("server sent a frame that is not a map")
        return msg

    async def _read(self) -> None:
        assert self.ws is not None
        try:
            async for frame in self.ws:
                now = time.time()
                self.bytes_received += len(frame)
                msg = self._unpack(frame)
                kind = msg.get("type")
                if kind == "delta":
                    self.latencies.append(now - msg["ts"])
                    await self._delta(msg)
                elif kind == "snapshot":
                    self._snapshot(msg)
                elif kind == "ended":
                    self.ended = msg
                ref = msg.get("ref")
                if kind in REPLY_TYPES and ref in self._waiting:
                    fut = self._waiting.pop(ref)
                    if not fut.done():
                        fut.set_result(msg)
                if self.keep:
                    self._queue.put_nowait(msg)
        except ConnectionClosed:
            pass
        finally:
            self.closed.set()

    def _snapshot(self, snap: dict[str, Any]) -> None:
        self.snapshots += 1
        self.snapshot = snap
        self.agents.apply_snapshot(snap["agents"])
        self.seq, self.tick, self.t = snap["seq"], snap["tick"], snap["t"]
        self.public = {k: snap[k] for k in _PUBLIC if k in snap}
        self.avatars = dict(snap.get("avatars", {}))
        self.marks = list(snap.get("marks", []))
        self._resyncing = False

    async def _delta(self, d: dict[str, Any]) -> None:
        self.deltas += 1
        if self._resyncing or d["seq"] <= self.seq:
            return
        if d["seq"] != self.seq + 1:
            self.gaps += 1
            self._resyncing = True
            with contextlib.suppress(ClientError):
                await self.send("resync")
            return
        self.agents.apply_delta(d)
        self.seq, self.tick, self.t = d["seq"], d["tick"], d["t"]
        for k in _PUBLIC:
            if k in d:
                self.public[k] = d[k]
        self.avatars.update(d.get("avatars", {}))
        for pid in d.get("avatars_gone", []):
            self.avatars.pop(str(pid), None)
        self.marks.extend(d.get("marks", []))
        self.reports.extend(d.get("reports", []))
