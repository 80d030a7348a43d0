"""Multi-floor evacuation over stairs: walked with the crowd model (the default), or the
fast queue link (``[model] stairs = "queue"``)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from sim.agents.crowd import State
from sim.drill import Drill
from sim.errors import ScenarioError
from sim.scenario import Scenario, load, parse
from sim.stairs import BOUNDARY_LAYER, STAIR_FLOW
from sim.verify.case import steady_flow
from sim.verify.crowds import stair_flow_doc
from sim.verify.engine import case_doc
from sim.verify.observe import StairLog

SFPE_K = 1.08
"""SFPE speed constant for stairs of 7 in risers / 11 in treads, m/s."""


def _mode(scenario: Scenario, stairs: str) -> Scenario:
    return dataclasses.replace(scenario, model=dataclasses.replace(scenario.model, stairs=stairs))


def _run(scenario: Scenario, on_step=None) -> tuple[Drill, StairLog, list]:  # noqa: ANN001
    """Run to the end; log boardings and landings, and everyone's z per step."""
    drill = Drill(scenario)
    log = StairLog()
    log(drill)
    zs = []
    while not drill.done():
        drill.step()
        log(drill)
        zs.append(drill.positions()[1][:, 2])
        if on_step is not None:
            on_step(drill)
    return drill, log, zs


def _stair_case(width: float, count: int = 100, length: float = 10.0) -> Scenario:
    """ISO 20414 test 12's room on 1F and one stair down of ``width`` m."""
    return parse(stair_flow_doc(width, count, length), source="<test>")


@pytest.mark.parametrize("stairs", ["walked", "queue"])
def test_upper_floor_agents_route_down_the_stair_to_ground_exits(stairs: str) -> None:
    drill, log, _ = _run(_mode(load("two_storey"), stairs))
    assert drill.remaining == 0
    assert set(log.ids) == set(range(60))  # group 'upstairs' first
    assert (drill.exit_used >= 0).all()
    # The fields span floors: every upper-floor cell reaches both ground exits.
    walk = drill.nav.grids[1].walkable.ravel()
    assert np.isfinite(drill.nav.distance[1][:, walk]).all()


@pytest.mark.parametrize("stairs", ["walked", "queue"])
def test_agents_on_the_stair_are_drawn_between_the_two_floors(stairs: str) -> None:
    _, _, zs = _run(_mode(load("two_storey"), stairs))
    z = np.concatenate(zs)
    assert ((z > 0.01) & (z < 3.49)).any()
    assert z.min() >= 0.0 and z.max() <= 3.5


@pytest.mark.parametrize("name,way", [("rimea_02_stair_up", "up"),
                                      ("rimea_03_stair_down", "down")])
def test_a_lone_walker_keeps_the_stair_speed_of_its_direction(name: str, way: str) -> None:
    scen = parse(case_doc(name), source=name)
    _, log, _ = _run(scen)
    st = scen.scene.stairs[0]
    factor = st.speed_up if way == "up" else st.speed_down
    expected = st.length / (scen.groups[0].speed_mean * factor)  # sd 0: everyone at the mean
    assert log.landed[0] - log.boarded[0] == pytest.approx(expected, rel=0.05)


def test_walked_stair_flow_matches_sfpe_and_grows_with_width() -> None:
    flows = []
    for w in (1.2, 1.8):
        _, log, _ = _run(_stair_case(w))
        flow = steady_flow(np.sort(log.landed[log.ids]))
        flows.append(flow)
        # SFPE: at most 0.94 k = 1.01 /(m·s) of effective width; within a third of it.
        assert 0.67 * 0.94 * SFPE_K <= flow / (w - 2 * BOUNDARY_LAYER) <= 1.33 * 0.94 * SFPE_K
    assert flows[1] > 1.25 * flows[0]


def test_a_queue_forms_at_the_stair_entry_and_speed_on_the_flight_falls_with_density() -> None:
    samples, queued = [], []

    def look(d: Drill) -> None:
        c = d.crowd
        if d.tick % 20:
            return
        on = (c.state == State.ON_STAIRS) & d.active()
        s = c.stair_pos[on, 0]
        mid = (s > 5.0) & (s < 10.0)
        if mid.sum() >= 3:
            samples.append((mid.sum() / (5.0 * 1.2), float(c.speed[on][mid].mean())))
        up = d.active() & (c.floor == 1) & (c.state == State.MOVING)
        near = up & (c.pos[:, 0] > 6.5) & (np.abs(c.pos[:, 1] - 5.0) < 2.0)
        queued.append(int(near.sum()))

    drill, _, _ = _run(_stair_case(1.2, count=150, length=15.0), look)
    assert drill.remaining == 0
    assert max(queued) >= 12  # people wait in front of the stair: its flow is the limit
    d, v = np.array(samples).T
    sfpe = SFPE_K * (1 - 0.266 * np.maximum(d, 0.54))
    assert np.median(np.abs(v / sfpe - 1)) <= 0.25  # SFPE's speed at the density on the flight


def test_people_on_a_flight_keep_apart_and_within_its_width() -> None:
    worst = [np.inf, 0.0]

    def look(d: Drill) -> None:
        c = d.crowd
        on = np.flatnonzero((c.state == State.ON_STAIRS) & d.active())
        if len(on) < 2:
            return
        p = c.stair_pos[on]
        dist = np.hypot(*(p[:, None, :] - p[None, :, :]).transpose(2, 0, 1))
        np.fill_diagonal(dist, np.inf)
        worst[0] = min(worst[0], float(dist.min()))
        worst[1] = max(worst[1], float((np.abs(p[:, 1]) + c.radius[on]).max()))

    _run(_stair_case(1.2, count=80), look)
    assert worst[0] >= 0.3  # two radii are 0.4 m: bodies barely touch in the queue
    assert worst[1] <= 0.6 + 1e-9


def test_people_walk_a_stair_both_ways_at_once() -> None:
    doc = stair_flow_doc(1.2, count=40)
    doc["exits"].append({"id": "roof", "floor": "1F",
                         "polygon": [[0, 0], [0.3, 0], [0.3, 10], [0, 10]]})
    doc["groups"].append({"id": "up", "floor": "G", "count": 20, "exit": "roof",
                          "area": [[10, 1], [18, 1], [18, 9], [10, 9]],
                          "speed": {"mean": 1.34, "sd": 0.26, "min": 0.5, "max": 2.0}})
    drill, log, _ = _run(parse(doc, source="<test>"))
    assert drill.remaining == 0
    assert (drill.exit_used[40:] == 1).all()  # the 20 went up to the roof
    assert len(log.ids) == 60


def _three_storeys(middle: int) -> Scenario:
    """2F and 1F rooms over a ground floor; 2F's stair lands on 1F beside 1F's stair down,
    so 2F's stream merges with 1F's people on 1F's landing."""
    speed = {"mean": 1.34, "sd": 0.26, "min": 0.5, "max": 2.0}
    room = [[0, 0], [10, 0], [10, 10], [0, 10]]
    groups = [{"id": "2F", "floor": "2F", "count": 60, "speed": speed, "exit": "E",
               "area": [[0.5, 0.5], [7, 0.5], [7, 9.5], [0.5, 9.5]]}]
    if middle:
        groups.append({"id": "1F", "floor": "1F", "count": middle, "speed": speed, "exit": "E",
                       "area": [[0.5, 0.5], [6, 0.5], [6, 9.5], [0.5, 9.5]]})
    return parse({
        "name": "three-storeys", "simulation": {"dt": 0.05, "max_time": 600, "seed": 1},
        "floors": [{"id": "G", "elevation": 0.0, "walkable": [[0, 0], [20, 0], [20, 10],
                                                              [0, 10]]},
                   {"id": "1F", "elevation": 3.0, "walkable": room},
                   {"id": "2F", "elevation": 6.0, "walkable": room}],
        "exits": [{"id": "E", "floor": "G", "polygon": [[19.7, 0], [20, 0], [20, 10],
                                                        [19.7, 10]]}],
        "stairs": [
            {"id": "upper", "length": 8.0, "width": 1.2,
             "from": {"floor": "2F", "area": [[8.5, 6], [10, 6], [10, 7.2], [8.5, 7.2]]},
             "to": {"floor": "1F", "area": [[8.5, 6], [10, 6], [10, 7.2], [8.5, 7.2]]}},
            {"id": "lower", "length": 8.0, "width": 1.2,
             "from": {"floor": "1F", "area": [[8.5, 3.8], [10, 3.8], [10, 5], [8.5, 5]]},
             "to": {"floor": "G", "area": [[1, 3.5], [4, 3.5], [4, 6.5], [1, 6.5]]}}],
        "groups": groups,
    }, source="<test>")


def test_streams_merging_on_a_landing_hold_up_the_stair_above() -> None:
    alone, _, _ = _run(_three_storeys(0))
    merged, _, _ = _run(_three_storeys(60))
    assert alone.remaining == 0 and merged.remaining == 0
    # With 1F's people at the landing, 2F's stream waits on its stair: 2F's last person
    # steps off later (the stair down carries both streams).
    assert merged.floor_last_occupied[2] > alone.floor_last_occupied[2] + 3.0
    assert merged.floor_last_occupied[1] > alone.floor_last_occupied[1] + 20.0


def test_queue_link_caps_the_flow_by_width_and_queues_at_its_entry() -> None:
    drill, log, _ = _run(_mode(load("two_storey"), "queue"))
    stair = drill.scene.stairs[0]
    cap = STAIR_FLOW * (stair.width - 2 * BOUNDARY_LAYER)
    t0 = np.sort(log.boarded[log.ids])
    assert len(t0) == 60
    for a in t0:  # over any 20 s window no more than the capacity (+1 for the edge)
        assert np.count_nonzero((t0 >= a) & (t0 < a + 20.0)) <= cap * 20.0 + 1
    assert (len(t0) - 21) / (t0[-10] - t0[10]) > 0.8 * cap  # ran at capacity
    # Each walk takes at least the stair's length at the reduced speed.
    walk = log.landed[log.ids] - log.boarded[log.ids]
    assert (walk >= stair.length / (2.0 * stair.speed_down) - 0.05).all()  # v0 <= 2 m/s
    assert drill.floor_last_occupied[1] < drill.floor_last_occupied[0]


@pytest.mark.parametrize("stairs", ["walked", "queue"])
def test_a_wider_stair_empties_the_upper_floor_sooner(stairs: str) -> None:
    base = _mode(load("two_storey"), stairs)
    wide = dataclasses.replace(base, scene=dataclasses.replace(
        base.scene, stairs=(dataclasses.replace(base.scene.stairs[0], width=2.4),)))
    narrow_drill, _, _ = _run(base)
    wide_drill, _, _ = _run(wide)
    assert wide_drill.floor_last_occupied[1] < 0.8 * narrow_drill.floor_last_occupied[1]


def test_two_stair_ends_on_one_area_are_refused_by_name() -> None:
    base = load("two_storey")
    st = base.scene.stairs[0]
    twin = dataclasses.replace(st, id="twin", length=12.0)
    scen = dataclasses.replace(base, scene=dataclasses.replace(base.scene, stairs=(st, twin)))
    with pytest.raises(ScenarioError, match=f"stair 'twin': its end on floor '.*' lies on an "
                                            f"end of stair '{st.id}'"):
        Drill(scen)
