"""Forecast copies of a running drill (sim/forecast.py): what a copy keeps and redraws,
one copy run ahead, and the copies summed up."""

from __future__ import annotations

import numpy as np
import pytest

from sim.agents.crowd import Choice, State
from sim.drill import Drill
from sim.forecast import SATURATION, _saturation, fork, run_ahead, summarise
from sim.scenario import load

T0 = 5.0
"""When the copies fork, s: some people of ``two_storey`` are still waiting then."""


@pytest.fixture(scope="module")
def at_t0():
    """``two_storey`` at ``T0``, its snapshot, and how long the drill itself then still
    takes, s."""
    d = Drill(load("two_storey"))
    while d.time < T0 - 1e-9:
        d.step()
    snap = d.snapshot()
    waiting = int(np.count_nonzero(d.active() & (d.crowd.state == State.WAITING)))
    while not d.done():
        d.step()
    return snap, waiting, float(np.nanmax(d.exit_time)) - T0


def test_a_copy_keeps_what_is_seen_and_redraws_what_is_not(at_t0):
    snap, waiting, _ = at_t0
    d, a, b = Drill.restore(snap), fork(snap, 1), fork(snap, 2)
    assert waiting > 0
    for copy in (a, b):
        assert copy.time == d.time
        np.testing.assert_array_equal(copy.crowd.pos, d.crowd.pos)
        np.testing.assert_array_equal(copy.crowd.state, d.crowd.state)
        np.testing.assert_array_equal(copy.exit_used, d.exit_used)
    assert not np.array_equal(a.crowd.v0, b.crowd.v0)
    wait = d.active() & (d.crowd.state == State.WAITING)
    assert not np.array_equal(a.crowd.premovement[wait], b.crowd.premovement[wait])
    # Nobody who has not started by now is drawn to have started already.
    assert (a.crowd.premovement[wait] >= d.time).all()
    g = d.scenario.groups[0]
    assert ((a.crowd.v0 >= g.speed_min) & (a.crowd.v0 <= g.speed_max)).all()


def test_the_same_seed_gives_the_same_copy(at_t0):
    snap = at_t0[0]
    r1, r2 = run_ahead(snap, 5), run_ahead(snap, 5)
    assert r1["ok"] and r1["remaining_s"] == r2["remaining_s"]
    assert r1["exits"] == r2["exits"]


def test_the_drill_itself_ends_within_the_spread_of_its_forecast(at_t0):
    snap, _, truth = at_t0
    runs = [run_ahead(snap, k) for k in range(8)]
    f = summarise(runs, t0=T0)
    assert f["finished"] == 8 and not f["failed"]
    r = f["remaining_s"]
    assert r["min"] <= r["p50"] <= r["p95"] <= r["max"]
    assert r["min"] * 0.95 <= truth <= r["max"] * 1.05
    # The floor above empties before the ground floor its people walk through.
    assert [x["id"] for x in f["floors"]] == ["G", "1F"]
    assert sum(e["people_p50"] for e in f["exits"]) > 0


def test_a_horizon_stops_the_copies_and_says_who_is_left(at_t0):
    f = summarise([run_ahead(at_t0[0], k, horizon=10.0) for k in range(2)], t0=T0)
    assert f["finished"] == 0 and f["not_out"] == 2 and f["remaining_s"] is None


def test_scripted_commands_ahead_are_applied_in_the_copies(at_t0):
    snap = at_t0[0]
    free = run_ahead(snap, 3)
    shut = run_ahead(snap, 3, commands=[(T0 + 5.0, {"type": "door", "exit": "East",
                                                "open": False})])
    assert shut["exits"]["East"]["people"] < free["exits"]["East"]["people"]
    assert shut["exits"]["West"]["people"] > free["exits"]["West"]["people"]


def test_a_copy_that_fails_is_reported_with_its_seed():
    f = summarise([run_ahead(b"not a snapshot", 9)], t0=0.0)
    assert f["failed"][0]["seed"] == 9 and "not a drill snapshot" in f["failed"][0]["error"]
    assert f["remaining_s"] is None


def test_avatars_are_walked_out_by_the_simulation():
    d = Drill(load("two_storey"))
    d.apply({"type": "person_join", "floor": 0, "near": [5.0, 5.0], "name": "张三"})
    d.step()
    copy = fork(d.snapshot(), 1)
    assert len(copy.steering) == 0
    assert not (copy.crowd.choice == Choice.STEERED).any()


def test_an_exit_saturates_when_it_runs_near_capacity_for_ten_seconds():
    cap = 2.0  # people per second
    busy = np.sort(np.concatenate([np.linspace(5, 25, 40), np.linspace(40, 45, 2)]))
    s = _saturation(busy, cap, 0.0)
    assert s["saturated_from_s"] == pytest.approx(5.0, abs=1.0)
    assert 15.0 <= s["saturated_s"] <= 21.0
    calm = np.linspace(0, 60, int(60 * cap * SATURATION * 0.8))
    assert _saturation(calm, cap, 0.0)["saturated_from_s"] is None
