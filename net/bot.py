"""Bots and the headless participant of ``drill join``: act, and print what happens."""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections.abc import Callable
from typing import Any

from net.client import DrillClient
from net.errors import ClientError

__all__ = ["act_as_bot", "describe", "follow"]


async def act_as_bot(client: DrillClient, *, duration: float, pose_hz: float = 2.0,
                     seed: int = 0) -> int:
    """Walk an avatar around and now and then mark or report, for ``duration`` s.

    A participant with an avatar in the crowd steers it with ``move`` (a random walk);
    one without (an instructor) sends ``pose``.

    Returns the number of messages sent. Stops early if the connection closes.
    """
    rng = random.Random(seed)
    floors = client.welcome["scene"]["floors"]
    xs = [p[0] for p in floors[0]["walkable"]]
    ys = [p[1] for p in floors[0]["walkable"]]
    x, y = rng.uniform(min(xs), max(xs)), rng.uniform(min(ys), max(ys))
    heading = rng.uniform(-math.pi, math.pi)
    sent = 0
    end = time.monotonic() + duration
    next_mark = time.monotonic() + rng.uniform(5, 15)
    embodied = client.welcome.get("agent") is not None
    while time.monotonic() < end and not client.closed.is_set():
        heading += rng.gauss(0, 0.3)
        x = min(max(x + 0.6 * math.cos(heading), min(xs)), max(xs))
        y = min(max(y + 0.6 * math.sin(heading), min(ys)), max(ys))
        try:
            if embodied:  # an avatar in the crowd: ask to walk; the server decides
                if client.public.get("status") == "running":
                    await client.send("move", dir=[math.cos(heading), math.sin(heading)],
                                      speed=1.2)
            else:
                await client.send("pose", position=[x, y, floors[0]["elevation"]],
                                  heading=math.remainder(heading, math.tau))
            sent += 1
            if time.monotonic() > next_mark:
                if rng.random() < 0.5:
                    await client.send("mark", kind="injured", position=[x, y, 0.0])
                else:
                    await client.send("report", text=f"{client.name}: 已到达 ({x:.0f}, {y:.0f})",
                                      auto=True)  # a bot's message is not a person's report
                sent += 1
                next_mark = time.monotonic() + rng.uniform(10, 30)
        except ClientError:
            break
        await asyncio.sleep(1.0 / pose_hz)
    return sent


def describe(msg: dict[str, Any], client: DrillClient) -> list[str]:
    """One line per noteworthy thing in a server message (for the headless participant)."""
    out: list[str] = []
    kind = msg.get("type")
    t = f"[t={client.t:7.1f}s]"
    if kind == "delta":
        if "status" in msg:
            out.append(f"{t} drill {msg['status']} (speed x{client.public.get('speed')})")
        for e in msg.get("events", []):
            detail = ", ".join(f"{k}={v}" for k, v in e.items() if k not in ("t", "type"))
            out.append(f"{t} {e['type']}: {detail}")
        for r in msg.get("reports", []):
            out.append(f"{t} report from {r['name']}: {r['text']}")
        for m in msg.get("marks", []):
            out.append(f"{t} mark '{m['kind']}' by {m['name']} at {m['position']}")
        for entry in msg.get("log", []):
            if entry.get("type") not in ("report", "mark"):
                out.append(f"{t} {entry['name']} ({entry['role']}): {entry['type']}")
    elif kind == "error":
        out.append(f"{t} error {msg.get('code')}: {msg.get('message')}")
    elif kind == "snapshot":
        out.append(f"{t} snapshot: {len(client.agents.ids)} agents inside")
    return out


async def follow(client: DrillClient, *, duration: float | None,
                 write: Callable[[str], None], every: float = 5.0) -> None:
    """Print what happens in the drill until it ends, the connection closes or time is up."""
    w = client.welcome
    write(f"joined drill {w['drill']} as {w['role']} #{w['participant_id']} ({w['name']}); "
          f"scene '{w['scene']['name']}', {len(client.agents.ids)} agents, "
          f"status {client.public['status']}")
    start = last = time.monotonic()
    while duration is None or time.monotonic() - start < duration:
        try:
            msg = await client.next(timeout=max(1.0, every))
        except (ClientError, TimeoutError):
            if client.closed.is_set():
                write("connection closed")
                return
            continue
        for line in describe(msg, client):
            write(line)
        if time.monotonic() - last >= every:
            last = time.monotonic()
            write(f"[t={client.t:7.1f}s] {client.public.get('evacuated', 0)} out, "
                  f"{len(client.agents.ids)} inside, {len(client.avatars)} avatars")
        if client.public.get("status") == "ended":
            write("drill ended")
            return
