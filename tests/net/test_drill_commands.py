"""Drill commands the network layer applies: injects, orders, doors, alarm; determinism."""

from __future__ import annotations

import numpy as np
import pytest
from netutil import HALL

from net.script import load_drill
from sim.agents.crowd import State
from sim.drill import Drill
from sim.errors import SimulationError


def _drill(**kw) -> Drill:
    return Drill(load_drill(HALL)[0], **kw)


def test_fire_closes_the_exits_within_its_radius_and_clearing_reopens_them():
    d = _drill()
    events = d.apply({"type": "inject", "event": {"kind": "fire", "x": 1.0, "y": 5.0,
                                                  "radius": 2.0}})
    assert [e["exit"] for e in events if e["type"] == "exit_closed"] == ["West"]
    assert not d.exit_open[0] and d.exit_open[1]
    hid = d.hazards[0].id
    d.apply({"type": "inject", "event": {"kind": "clear", "id": hid}})
    assert d.exit_open.all() and not d.hazards


def test_smoke_slows_walking_inside_its_disc_only():
    d = _drill()
    d.apply({"type": "inject", "event": {"kind": "smoke", "x": 5.0, "y": 5.0, "radius": 2.0,
                                         "factor": 0.5}})
    grid = d.nav.grids[0]
    inside, outside = grid.cells(np.array([[5.0, 5.0], [15.0, 5.0]]))
    assert d.nav.speed_factor[0][inside] == pytest.approx(0.5)
    assert d.nav.speed_factor[0][outside] == pytest.approx(1.0)


def test_smoke_does_not_change_the_cached_navigation_of_other_drills():
    a = _drill()
    a.apply({"type": "inject", "event": {"kind": "smoke", "x": 5.0, "y": 5.0, "radius": 3.0}})
    b = _drill()
    assert (b.nav.speed_factor[0] == 1.0).all()


def test_block_and_unblock_exit():
    d = _drill()
    d.apply({"type": "inject", "event": {"kind": "block_exit", "exit": "East"}})
    assert not d.exit_open[1]
    d.apply({"type": "inject", "event": {"kind": "unblock_exit", "exit": "East"}})
    assert d.exit_open[1]


def test_order_evacuation_starts_only_the_waiting_agents_of_that_zone():
    d = _drill()
    d.apply({"type": "order_evacuation", "zone": "left"})
    d.step()
    left = d.crowd.group == 0
    assert (d.crowd.state[left] == State.MOVING).all()
    assert (d.crowd.state[~left] == State.WAITING).all()


def test_alarm_starts_held_premovement_counting_from_the_alarm():
    d = _drill()
    delays = d.crowd.premovement.copy()
    d.apply({"type": "hold_premovement"})
    for _ in range(100):
        d.step()
    assert (d.crowd.state == State.WAITING).all()
    d.apply({"type": "inject", "event": {"kind": "alarm"}})
    assert np.allclose(d.crowd.premovement, d.time + delays)


def test_unknown_exit_zone_or_hazard_is_refused_and_changes_nothing():
    d = _drill()
    for cmd in ({"type": "door", "exit": "North", "open": False},
                {"type": "order_evacuation", "zone": "nowhere"},
                {"type": "inject", "event": {"kind": "clear", "id": "H9"}},
                {"type": "inject", "event": {"kind": "fire", "floor": 3}}):
        with pytest.raises(SimulationError):
            d.apply(cmd)
    assert d.exit_open.all() and not d.hazards and not d.commands


def test_same_commands_at_same_ticks_give_the_same_trajectories():
    def play() -> np.ndarray:
        d = _drill()
        for k in range(300):
            if k == 10:
                d.apply({"type": "order_evacuation", "zone": "right"})
            if k == 50:
                d.apply({"type": "inject", "event": {"kind": "smoke", "x": 15.0, "y": 5.0,
                                                     "radius": 3.0}})
            if k == 80:
                d.apply({"type": "door", "exit": "East", "open": False})
            d.step()
        return d.positions()[1]

    assert np.array_equal(play(), play())


def test_commands_are_logged_with_the_tick_they_took_effect_at():
    d = _drill()
    for _ in range(7):
        d.step()
    d.apply({"type": "inject", "event": {"kind": "smoke", "x": 1.0, "y": 1.0}})
    assert d.commands == [(7, {"type": "inject", "event": {"kind": "smoke", "x": 1.0,
                                                             "y": 1.0, "id": "H1"}})]


def test_drill_script_with_alarm_on_inject_holds_everyone_until_the_alarm(tmp_path):
    from net.room import Room

    text = HALL.read_text().replace("blind = true", 'blind = true\nalarm = "inject"')
    path = tmp_path / "held.toml"
    path.write_text(text)
    scenario, script = load_drill(path)
    assert script.alarm == "inject" and script.blind and script.injects[0][0] == 1.0
    room = Room("r1", scenario, script)
    assert np.isinf(room.drill.crowd.premovement).all()
    room.drill.apply({"type": "inject", "event": {"kind": "alarm"}})
    assert np.isfinite(room.drill.crowd.premovement).all()


@pytest.mark.parametrize("extra, field", [
    ("[[injects]]\nkind = \"smoke\"\n", "injects[1].time"),
    ("[[injects]]\ntime = 2\nkind = \"meteor\"\n", "injects[1]"),
])
def test_a_wrong_inject_timeline_names_the_field(tmp_path, extra, field):
    from sim.errors import ScenarioError

    path = tmp_path / "bad.toml"
    path.write_text(HALL.read_text() + "\n" + extra)
    with pytest.raises(ScenarioError) as info:
        load_drill(path)
    assert info.value.field == field


def test_a_hazard_id_in_use_is_refused():
    d = _drill()
    d.apply({"type": "inject", "event": {"kind": "smoke", "id": "S"}})
    with pytest.raises(SimulationError, match="already in force"):
        d.apply({"type": "inject", "event": {"kind": "fire", "id": "S"}})
    assert [h.id for h in d.hazards] == ["S"]
