"""Drill snapshots: a restored copy continues bit for bit as the drill it was taken from,
in this process or another, with hazards, closed exits, stair walkers and people."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sim.drill import Drill
from sim.errors import SimulationError
from sim.scenario import load

ROOT = Path(__file__).resolve().parents[2]


def _state(d: Drill) -> tuple:
    rows, xyz = d.positions()
    return (d.tick, d.crowd.id[rows].tobytes(), xyz.tobytes(), d.exit_time.tobytes(),
            d.exit_used.tobytes(), d.exit_open.tobytes())


def _busy_drill() -> Drill:
    """Two storeys 40 s in: people on the stair, smoke on the upper floor, an exit closed,
    a participant's avatar steering."""
    d = Drill(load("two_storey"))
    d.apply({"type": "inject", "event": {"kind": "smoke", "floor": 1, "x": 8.0, "y": 5.0,
                                         "radius": 4.0}})
    agent = d.apply({"type": "person_join", "floor": 0, "near": [6.0, 5.0], "name": "张三"}
                    )[0]["agent"]
    d.apply({"type": "steer", "agent": agent, "dir": [1.0, 0.0], "speed": 1.0})
    for _ in range(400):
        d.step()
    d.apply({"type": "door", "exit": d.scene.exits[0].id, "open": False})
    for _ in range(400):
        d.step()
    return d


def test_a_restored_drill_continues_bit_for_bit() -> None:
    d = _busy_drill()
    assert (d.crowd.state == 3).any()  # someone is on the stair
    copy = Drill.restore(d.snapshot())
    assert _state(copy) == _state(d)
    for _ in range(600):
        events, copied = d.step(), copy.step()
        assert events == copied
        assert _state(copy) == _state(d)
    while not d.done():
        d.step()
        copy.step()
    assert _state(copy) == _state(d) and copy.done()


def test_a_snapshot_restores_in_another_process(tmp_path: Path) -> None:
    d = _busy_drill()
    (tmp_path / "drill.snap").write_bytes(d.snapshot())
    while not d.done():
        d.step()
    code = ("import sys, hashlib; from sim.drill import Drill\n"
            "d = Drill.restore(open(sys.argv[1], 'rb').read())\n"
            "while not d.done(): d.step()\n"
            "print(hashlib.sha256(d.exit_time.tobytes()).hexdigest(), d.tick)")
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path / "drill.snap")],
                         capture_output=True, text=True, check=True, cwd=ROOT)
    import hashlib

    assert out.stdout.split() == [hashlib.sha256(d.exit_time.tobytes()).hexdigest(),
                                  str(d.tick)]


def test_forks_of_one_snapshot_are_independent() -> None:
    d = _busy_drill()
    snap = d.snapshot()
    a, b = Drill.restore(snap), Drill.restore(snap)
    b.apply({"type": "door", "exit": b.scene.exits[0].id, "open": True})  # reopen in b only
    for _ in range(200):
        a.step()
        b.step()
    assert not a.exit_open[0] and b.exit_open[0]
    assert np.isnan(d.exit_time).sum() >= np.isnan(a.exit_time).sum() - d.total  # d untouched
    assert d.tick == 800


def test_damaged_snapshot_bytes_are_refused() -> None:
    snap = _busy_drill().snapshot()
    with pytest.raises(SimulationError, match="not a drill snapshot"):
        Drill.restore(snap[: len(snap) // 2])
