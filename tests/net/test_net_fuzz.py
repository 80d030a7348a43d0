"""Fuzz a live server with thousands of random and mutated messages, then use it normally."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import msgpack
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from netutil import HALL, TIMEOUT
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from net.client import DrillClient
from net.protocol import CLIENT_TYPES
from net.server import DrillServer, ServerConfig

VALID = [
    {"type": "pose", "v": 1, "position": [1.0, 2.0, 0.0], "heading": 0.5},
    {"type": "door", "v": 1, "id": "East", "action": "close"},
    {"type": "order_evacuation", "v": 1, "zone": "left"},
    {"type": "report", "v": 1, "text": "报告"},
    {"type": "mark", "v": 1, "kind": "fire", "position": [3.0, 3.0, 0.0]},
    {"type": "inject", "v": 1, "event": {"kind": "smoke", "x": 5.0, "y": 5.0, "radius": 2.0}},
    {"type": "inject", "v": 1, "event": {"kind": "block_exit", "exit": "West"}},
    {"type": "speed", "v": 1, "factor": 2.0},
    {"type": "start", "v": 1}, {"type": "pause", "v": 1}, {"type": "resume", "v": 1},
    {"type": "ping", "v": 1, "ref": 1}, {"type": "resync", "v": 1},
]

scalars = (st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1)
           | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=30)
           | st.binary(max_size=30))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(st.text(max_size=10), inner, max_size=4), max_leaves=10)


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    msg = dict(draw(st.sampled_from(VALID)))
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.sampled_from(["set", "drop", "type", "nest"]))
        key = draw(st.sampled_from([*msg, "v", "ref", "extra", "event", "position"]))
        if op == "set":
            msg[key] = draw(values)
        elif op == "drop":
            msg.pop(key, None)
        elif op == "type":
            msg["type"] = draw(st.sampled_from([*CLIENT_TYPES, "end", "zz", ""]))
        elif isinstance(msg.get("event"), dict):
            msg["event"] = {**msg["event"], draw(st.text(max_size=8)): draw(values)}
    return msgpack.packb(msg, use_bin_type=True)


frames = st.one_of(
    mutated(),
    st.binary(max_size=300),
    values.map(lambda v: msgpack.packb(v, use_bin_type=True)),
    st.binary(min_size=1, max_size=40).map(lambda b: msgpack.packb(VALID[1])[:-2] + b),
    st.text(max_size=50),
)


@pytest.fixture(scope="module")
def live() -> Iterator[tuple[DrillServer, dict]]:
    """A server in a background thread with limits high enough that every frame is parsed."""
    loop = asyncio.new_event_loop()
    server = DrillServer(ServerConfig(port=0, rate=1e6, burst=1e6, abuse_burst=1e6))
    ready = threading.Event()
    holder: dict = {}

    async def main() -> None:
        await server.start()
        holder["room"] = await server.add_drill(HALL)
        ready.set()

    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(main(), loop).result(30)
    ready.wait(30)
    holder["loop"] = loop
    yield server, holder
    asyncio.run_coroutine_threadsafe(server.close(), loop).result(30)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)


STATS = {"sent": 0, "errors": 0, "closed": 0, "ended": 0}
"""What the fuzzing did, checked by the last test of the module."""


def _live_room(server: DrillServer, holder: dict):
    """The fuzzed drill, or a fresh one when a fuzzed ``end`` has ended it."""
    if holder["room"].id in server.ended:
        holder["room"] = asyncio.run_coroutine_threadsafe(
            server.add_drill(HALL), holder["loop"]).result(30)
        STATS["ended"] += 1
    return holder["room"]


def _drain(ws: ClientConnection) -> None:
    while True:
        try:
            frame = ws.recv(timeout=0)
        except TimeoutError:
            return
        msg = msgpack.unpackb(frame, raw=False, strict_map_key=False)
        STATS["errors"] += msg.get("type") == "error"


@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
@given(role=st.sampled_from(["instructor", "participant", "observer", None]),
       batch=st.lists(frames, min_size=40, max_size=100))
def test_random_and_mutated_messages_never_break_the_server(live, role, batch):
    server, holder = live
    room = _live_room(server, holder)
    with connect(server.url, compression=None, max_queue=None, open_timeout=TIMEOUT) as ws:
        try:
            if role:
                ws.send(msgpack.packb({"type": "join", "v": 1, "drill": room.id,
                                       "token": room.tokens[role]}))
            for frame in batch:
                ws.send(frame)
                STATS["sent"] += 1
                _drain(ws)
            ws.send(msgpack.packb({"type": "ping", "v": 1, "ref": "last"}))
            while True:  # every frame was answered or applied before the ping's reply
                msg = msgpack.unpackb(ws.recv(timeout=TIMEOUT), raw=False,
                                      strict_map_key=False)
                STATS["errors"] += msg.get("type") == "error"
                if msg.get("ref") == "last":
                    break
        except ConnectionClosed:
            STATS["closed"] += 1  # closing an abusive connection is allowed


def test_after_the_fuzzing_a_normal_client_still_works(live):
    server, holder = live
    room = _live_room(server, holder)

    async def body() -> None:
        async with DrillClient(server.url, drill=room.id, token=room.tokens["instructor"],
                               timeout=TIMEOUT) as c:
            assert c.welcome["role"] == "instructor"
            assert (await c.request("ping"))["type"] == "pong"
            seq = c.seq
            await c.until(lambda cl: cl.seq > seq + 3)
            assert c.gaps == 0
            assert len(c.agents.ids) > 0
    assert STATS["sent"] >= 3000 and STATS["errors"] >= STATS["sent"] // 2

    asyncio.run(body())
