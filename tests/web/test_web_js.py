"""The browser client's JavaScript (net/web/), tested with node: ``node --test tests/web/js``.

The Python side encodes real drills (snapshot, then deltas, as the server frames them) and
writes, after every frame, the state ``net.state.AgentDecoder`` holds; the node tests feed
the same frames to ``net/web/protocol.js`` and must hold identical ids, positions and
states. Skipped, saying why, where node (18 or newer) is not installed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import struct
import subprocess
from pathlib import Path

import msgpack
import numpy as np
import pytest

from net.protocol import encode, message
from net.state import AgentDecoder, AgentEncoder, CrowdSample, View
from sim.drill import Drill
from sim.errors import SimError
from sim.scenario import load

ROOT = Path(__file__).resolve().parents[2]
JS_TESTS = Path(__file__).with_name("js")
CASES = {
    # scenario: (server ticks, simulation steps per tick, tick of a mid-stream snapshot)
    "office": (120, 4, 60),  # 180 people on one floor; most leave within 24 s
    "two_storey": (120, 4, 50),  # stairs: climbs in "dz", landings in "far"
    # A client subscribed to the ground floor (``subscribe {floors: [0]}``): people coming
    # down the stair arrive in "born" with ids among those it holds, and are merged.
    "two_storey@0": (160, 4, 80),
}
JOIN_AT = (10, 11, 40)
"""Ticks at which a participant's avatar joins the crowd (a ``born`` agent), then walks."""


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed (needed to test net/web/*.js; apt install nodejs)")
    out = subprocess.run([node, "--version"], capture_output=True, text=True, check=False)
    m = re.match(r"v(\d+)", out.stdout.strip())
    if not m or int(m.group(1)) < 18:
        pytest.skip(f"node {out.stdout.strip() or '?'} is too old for `node --test` (need 18+)")
    return node


def _expected(dec: AgentDecoder) -> dict:
    return {"ids": dec.ids.tolist(), "pos": dec.q.reshape(-1).tolist(),
            "state": dec.state.tolist()}


def _join(drill: Drill, n: int) -> None:
    """A participant's avatar joins (the server's ``_embody``) and walks east."""
    try:
        ev = drill.apply({"type": "person_join", "floor": 0, "name": f"p{n}"})
    except SimError:  # a simulation without avatars: the stream has no "born" agents
        return
    drill.apply({"type": "steer", "agent": ev[0]["agent"], "dir": [1.0, 0.2], "speed": 1.3})


def write_case(folder: Path, name: str, ticks: int, steps: int, snap_at: int) -> None:
    """Frames of a drill of scenario ``name`` (``name.frames``: u32 length + msgpack frame
    each) and the decoder state after each (``name.json``). ``scenario@0,1``: the stream of
    a client subscribed to floors 0 and 1 only."""
    scenario, _, floors = name.partition("@")
    drill = Drill(load(scenario))
    drill.apply({"type": "order_evacuation", "all": True})
    view = View(tuple(int(f) for f in floors.split(","))) if floors else View()
    enc, dec = AgentEncoder(view), AgentDecoder()
    enc.reset(drill)
    frames: list[bytes] = []
    expected: list[dict] = []
    merged = 0
    # A view's stream carries what the server adds to it: the people per floor, and the
    # total whenever it changed (agents born into the view are not new people).
    extra = (lambda: {"floor_counts": CrowdSample.of(drill).floor_counts(
        len(drill.scene.floors))}) if floors else dict
    last_total = drill.total

    def snapshot(seq: int) -> None:
        frame = encode(message("snapshot", seq=seq, tick=drill.tick, t=round(drill.time, 3),
                               ts=0.0, total=drill.total, status="running",
                               evacuated=drill.evacuated, agents=enc.snapshot(), **extra()))
        dec.apply_snapshot(msgpack.unpackb(frame, raw=False)["agents"])
        frames.append(frame)
        expected.append(_expected(dec))

    snapshot(0)
    for seq in range(1, ticks + 1):
        if seq in JOIN_AT:
            _join(drill, seq)
        for _ in range(steps):
            drill.step()
        held = dec.ids.max() if len(dec.ids) else -1
        fields, _ = enc.delta(drill)
        if "born" in fields:
            merged += int((np.frombuffer(fields["born"], "<u4") < held).sum())
        if floors and drill.total != last_total:
            fields["total"] = last_total = drill.total
        frame = encode(message("delta", seq=seq, tick=drill.tick, t=round(drill.time, 3),
                               ts=0.0, evacuated=drill.evacuated, **fields, **extra()))
        dec.apply_delta(msgpack.unpackb(frame, raw=False))
        frames.append(frame)
        expected.append(_expected(dec))
        if seq == snap_at:
            snapshot(seq)
    with open(folder / f"{name}.frames", "wb") as f:
        for frame in frames:
            f.write(struct.pack("<I", len(frame)) + frame)
    (folder / f"{name}.json").write_text(json.dumps({
        "scenario": name, "total": drill.total, "evacuated": drill.evacuated,
        "view": list(view.floors) if view.floors else None, "merged": merged,
        "states": expected}))


@pytest.fixture(scope="module")
def frames_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("web_frames")
    for name, (ticks, steps, snap_at) in CASES.items():
        write_case(folder, name, ticks, steps, snap_at)
    return folder


def test_the_cases_cover_departures_state_changes_far_moves_and_joins(frames_dir: Path) -> None:
    kinds: set[str] = set()
    for name in CASES:
        data = (frames_dir / f"{name}.frames").read_bytes()
        at = 0
        while at < len(data):
            (size,) = struct.unpack_from("<I", data, at)
            msg = msgpack.unpackb(data[at + 4:at + 4 + size], raw=False)
            kinds |= {k for k in ("gone", "st", "moved", "dz", "far", "born") if k in msg}
            at += 4 + size
    assert {"gone", "st", "moved", "dz", "far"} <= kinds
    assert "born" in kinds or not _has_avatars(), "avatars joined but no delta has 'born'"


def test_the_floor_view_case_has_agents_coming_into_view_among_those_held(
        frames_dir: Path) -> None:
    for name in (n for n in CASES if "@" in n):
        case = json.loads((frames_dir / f"{name}.json").read_text())
        assert case["view"] and case["merged"] > 0, (
            f"{name}: nobody came into view with an id below those held")


def _has_avatars() -> bool:
    try:
        Drill(load("office")).apply({"type": "person_join", "floor": 0})
    except SimError:
        return False
    return True


def test_node_tests_of_the_web_client_pass(frames_dir: Path) -> None:
    node = _node()
    files = sorted(str(p) for p in JS_TESTS.glob("*.test.mjs"))
    assert files, "no node tests in tests/web/js"
    env = dict(os.environ, EVACDRILL_FRAMES=str(frames_dir),
               EVACDRILL_CASES=",".join(CASES))
    out = subprocess.run([node, "--test", *files], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=300, check=False)
    report = out.stdout + out.stderr
    assert out.returncode == 0, f"node --test failed:\n{report[-8000:]}"
    assert re.search(r"^# fail 0$", report, re.M), report[-4000:]
    assert not re.search(r"^# skipped [1-9]", report, re.M), f"node skipped tests:\n{report}"
