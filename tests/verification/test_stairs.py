"""Multi-floor evacuation over stairs: reduced speed, a flow capped by the width, a queue."""

from __future__ import annotations

import numpy as np

from sim.agents.crowd import State
from sim.drill import Drill
from sim.scenario import load
from sim.stairs import BOUNDARY_LAYER, STAIR_FLOW


def _run(scenario) -> tuple[Drill, dict[str, list]]:  # noqa: ANN001
    """Run to the end; note each boarding (id, t0, t1, v0) and everyone's z per step."""
    drill = Drill(scenario)
    seen: dict[str, list] = {"board": [], "z": []}
    boarded: set[int] = set()
    while not drill.done():
        drill.step()
        c = drill.crowd
        for row in np.flatnonzero(c.state == State.ON_STAIRS):  # test-only loop
            if int(c.id[row]) not in boarded:
                boarded.add(int(c.id[row]))
                t0, t1 = c.stair_times[row]
                seen["board"].append((int(c.id[row]), float(t0), float(t1), float(c.v0[row])))
        seen["z"].append(drill.positions()[1][:, 2])
    return drill, seen


def test_upper_floor_agents_route_down_the_stair_to_ground_exits() -> None:
    scenario = load("two_storey")
    drill, seen = _run(scenario)
    assert drill.remaining == 0
    boarded = {b[0] for b in seen["board"]}
    upstairs = set(np.flatnonzero(np.arange(drill.total) < 60))  # group 'upstairs' first
    assert boarded == upstairs
    assert (drill.exit_used >= 0).all()
    # The fields span floors: every upper-floor cell reaches both ground exits.
    grid = drill.nav.grids[1]
    walk = grid.walkable.ravel()
    assert np.isfinite(drill.nav.distance[1][:, walk]).all()


def test_stairs_are_walked_at_reduced_speed() -> None:
    drill, seen = _run(load("two_storey"))
    stair = drill.scene.stairs[0]
    for _, t0, t1, v0 in seen["board"]:
        # Down a stair at 0.75 of flat speed (or later, queued behind slower people).
        assert t1 - t0 >= stair.length / (v0 * stair.speed_down) - 1e-6


def test_stair_width_caps_the_flow_and_people_queue_at_its_entry() -> None:
    drill, seen = _run(load("two_storey"))
    stair = drill.scene.stairs[0]
    cap = STAIR_FLOW * (stair.width - 2 * BOUNDARY_LAYER)
    t0 = np.sort([b[1] for b in seen["board"]])
    assert len(t0) == 60
    # Over any 20 s window no more than the capacity (+1 for the window edge) boards.
    for a in t0:
        assert np.count_nonzero((t0 >= a) & (t0 < a + 20.0)) <= cap * 20.0 + 1
    # ... and the stair ran at capacity: a queue formed instead of a trickle.
    span = t0[-10] - t0[10]
    assert (len(t0) - 21) / span > 0.8 * cap
    clear = drill.floor_last_occupied
    assert clear[1] < clear[0]  # the upper floor empties first


def test_agents_on_the_stair_are_drawn_between_the_two_floors() -> None:
    _, seen = _run(load("two_storey"))
    z = np.concatenate(seen["z"])
    between = (z > 0.01) & (z < 3.49)
    assert between.any()
    assert z.min() >= 0.0 and z.max() <= 3.5


def test_a_wider_stair_empties_the_upper_floor_sooner() -> None:
    import dataclasses

    base = load("two_storey")
    wide = dataclasses.replace(base, scene=dataclasses.replace(
        base.scene, stairs=(dataclasses.replace(base.scene.stairs[0], width=2.4),)))
    narrow_drill, _ = _run(base)
    wide_drill, _ = _run(wide)
    assert wide_drill.floor_last_occupied[1] < 0.8 * narrow_drill.floor_last_occupied[1]
