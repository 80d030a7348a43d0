"""A participant walks their avatar with the keys in the browser: it moves, a wall stops
it, it leaves by an exit, and the walk is in the recording, which re-simulates exactly.

The corridor (``walk_room.toml``): 12 m x 4 m, the exit ``East`` fills the east end, a
wall at y = 2 m from x = 1 to 9 m lies north of the spawn point (4, 1).
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from webutil import (
    HERE,
    TIMEOUT,
    LiveServer,
    close_page,
    open_page,
    screenshot,
    state,
    wait_state,
)

WALK = HERE / "walk_room.toml"
WALL_Y = 1.9
"""South face of the wall, m."""
RADIUS = 0.2
"""An avatar's body radius (sim.steering.PERSON_RADIUS), m."""
KEYS = {"east": "ArrowRight", "west": "ArrowLeft", "north": "ArrowUp", "south": "ArrowDown"}
"""The keys that walk east, west, north, south in the plan view (x east, y north)."""


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    with LiveServer(WALK, record_dir=str(tmp_path_factory.mktemp("rec"))) as live:
        yield live


@pytest.fixture(scope="module")
def walker(chromium, live):
    """A participant's page in the plan view, the drill started by a Python instructor."""
    page = open_page(chromium, live.link("participant", name="李四"))
    ins = live.client("instructor")
    try:
        s = wait_state(page, "s.myAgent !== null && s.myPos !== null")
        assert live.request(ins, "start")["type"] == "ack"
        wait_state(page, "s.status === 'running'")
        page.evaluate("() => window.evacdrill.setCamera('plan')")
        page.walker_agent = s["myAgent"]  # type: ignore[attr-defined]
        yield page
    finally:
        live.call(ins.close)
        close_page(page)


def _hold(page, key: str, seconds: float) -> None:
    page.keyboard.down(key)
    time.sleep(seconds)
    page.keyboard.up(key)


def _settled(page) -> list[float]:
    """myPos once the avatar has stopped (two reads 0.3 s apart agree to 1 cm)."""
    deadline = time.monotonic() + TIMEOUT
    last = state(page)["myPos"]
    while time.monotonic() < deadline:
        time.sleep(0.3)
        pos = state(page)["myPos"]
        if pos is not None and last is not None and np.allclose(pos, last, atol=0.011):
            return pos
        last = pos
    raise AssertionError(f"the avatar did not stop: {last}")


def _server_pos(live: LiveServer, agent: int) -> np.ndarray:
    def read():
        d = live.room.drill
        with live.room.state_lock:
            row = np.flatnonzero(d.crowd.id == agent)
            return d.crowd.pos[row[0]].copy() if len(row) else None

    return live.do(read)


def test_the_avatar_walks_with_the_keys(walker, live):
    agent = walker.walker_agent
    start = _settled(walker)
    _hold(walker, KEYS["east"], 1.2)
    end = _settled(walker)
    assert end[0] - start[0] > 0.8, (start, end)
    assert abs(end[1] - start[1]) < 0.3
    assert np.allclose(end[:2], _server_pos(live, agent), atol=0.02), \
        "the page shows the avatar where the server has it"
    assert state(walker)["inside"] is True


def test_a_wall_stops_the_avatar(walker, live, tmp_path):
    start = _settled(walker)
    assert start[1] < WALL_Y and 1.5 < start[0] < 8.5, "not south of the wall"
    _hold(walker, KEYS["north"], 2.5)  # 3 m and more if nothing stood in the way
    end = _settled(walker)
    assert end[1] - start[1] > 0.3, "it did not walk north"
    assert end[1] < WALL_Y - RADIUS + 0.1, f"through the wall: y = {end[1]:.2f}"
    assert _server_pos(live, walker.walker_agent)[1] < WALL_Y
    screenshot(walker, tmp_path, "walk-wall", doc=True)


def test_the_avatar_leaves_by_the_exit(walker, live):
    walker.keyboard.down(KEYS["east"])
    try:
        s = wait_state(walker, "s.inside === false", timeout=3 * TIMEOUT)
    finally:
        walker.keyboard.up(KEYS["east"])
    agent = walker.walker_agent
    d = live.room.drill
    assert d.exit_used[agent] == d.scene.exit_index("East")
    pose = next(p for p in live.room.avatars.values() if p.get("agent") == agent)
    assert pose["inside"] is False and pose["exit"] == "East"
    assert s["evacuated"] >= 1
    reply = walker.evaluate("() => window.evacdrill.send('move', {dir: [1, 0]})")
    assert reply["type"] == "error" and reply["code"] == "refused"


def test_the_walk_is_recorded_and_re_simulates(walker, live):
    from sim.recording import Recording, verify

    agent = walker.walker_agent

    def close():
        with live.room.state_lock:
            path = live.room.recorder.path
            live.room.close_recording()
            return path

    path = live.do(close)
    with Recording(path) as rec:
        cmds = [c for _, c in rec.commands()]
        assert any(c.get("type") == "person_join" and c.get("agent") == agent for c in cmds)
        steers = [c for c in cmds if c.get("type") == "steer" and c.get("agent") == agent]
        assert len(steers) >= 4  # key down and up, three walks
        res = verify(rec)
        assert res.ok, (res.first_mismatch_t, res.max_deviation_m)
