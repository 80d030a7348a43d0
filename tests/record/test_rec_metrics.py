"""Metrics of a recording against the run's own summary and an independent count."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import shapely
from rec_util import hall_doc, recorded_run, write_scenario

from sim.drill import Drill
from sim.metrics import KERNEL_M, compute
from sim.recording import Recorder, Recording, scenario_of
from sim.scenario import parse


@pytest.fixture(scope="module")
def hall(tmp_path_factory) -> tuple[Path, dict]:
    rec = recorded_run(tmp_path_factory.mktemp("metrics"), hall_doc())
    summary = json.loads((rec.parent / "summary.json").read_text())
    with Recording(rec) as r:
        m = compute(r)
    return rec, summary, m


def test_curve_exits_and_floor_agree_with_the_run_summary(hall):
    _, summary, m = hall
    assert m.complete and m.evacuated == 60
    assert np.all(np.diff(m.curve_out) >= 0) and m.curve_out[-1] == 60
    assert {e["id"]: e["count"] for e in m.exits} == summary["exits"]
    assert sum(e["share"] for e in m.exits) == pytest.approx(1.0)
    assert m.timeline["last_out"] == pytest.approx(summary["evacuation_time_s"])
    assert m.timeline["alarm"] == 0.0 and m.timeline["evacuation_order"] is None
    # clear at the first frame after the last occupant (frames 0.1 s apart)
    assert 0 <= m.floors_clear["G"] - summary["floors_clear_s"]["G"] <= 0.1 + 1e-6
    for e in m.exits:  # flow bins integrate to the count
        assert np.sum(e["flow"]) * 5.0 == pytest.approx(e["count"])


def test_premovement_and_travel_times(hall):
    _, _, m = hall
    assert np.isfinite(m.premovement).all() and np.isfinite(m.travel).all()
    # the scenario draws pre-movement in [0.5, 4] s; frames are 0.1 s apart
    assert m.premovement.min() >= 0.5 - 1e-9 and m.premovement.max() <= 4.0 + 0.1 + 1e-9
    assert (m.travel > 0).all()
    np.testing.assert_allclose(m.premovement + m.travel, m.exit_time)


def test_zone_clear_times_match_the_trajectory_file(hall):
    rec, _, m = hall
    traj = np.loadtxt(rec.parent / "trajectories.txt", comments="#")
    t = traj[:, 1] * 0.1
    doc = hall_doc()
    for g in doc["groups"]:
        poly = shapely.Polygon(g["area"])
        inside = shapely.contains_xy(poly, traj[:, 2], traj[:, 3])
        last = t[inside].max()
        # sampled every 0.5 s: clear at the first sample after the last occupant
        assert last < m.zones_clear[g["id"]] <= last + 0.5 + 0.1 + 1e-6


def test_plan_steps_are_marked_met_or_missed(hall):
    _, _, m = hall
    p1, p2 = m.plan
    assert (p1["id"], p1["met"], p1["reason"]) == ("P1", True, "in time")
    assert p1["achieved_s"] == pytest.approx(m.timeline["first_out"], abs=0.01)
    assert (p2["id"], p2["met"], p2["reason"]) == ("P2", False, "late")
    assert p2["deadline_s"] == 3.0 and p2["achieved_s"] == pytest.approx(
        m.timeline["last_out"], abs=0.01)


def _room(n: int, door: float, tmp: Path, name: str) -> Path:
    doc = {
        "name": name, "simulation": {"dt": 0.05, "max_time": 200, "seed": 2},
        "floors": [{"id": "G", "walkable": [[0, 0], [10, 0], [10, 10], [0, 10]]}],
        "exits": [{"id": "Door", "floor": "G", "polygon": [
            [10 - 0.2, 5 - door / 2], [10, 5 - door / 2], [10, 5 + door / 2],
            [10 - 0.2, 5 + door / 2]]}],
        "groups": [{"id": "all", "floor": "G", "area": [[0.5, 0.5], [7, 0.5], [7, 9.5],
                                                        [0.5, 9.5]], "count": n}],
    }
    return recorded_run(tmp, doc, name)


def test_a_queue_at_a_narrow_door_is_a_bottleneck_and_a_sparse_room_has_none(tmp_path):
    with Recording(_room(300, 0.6, tmp_path, "crowded")) as r:
        m = compute(r)
    assert m.bottlenecks, "a 300-person queue at a 0.6 m door must congest"
    b = m.bottlenecks[0]
    assert b["nearest_exit"] == "Door" and b["exit_distance_m"] < 3.0
    assert b["longest_s"] > 10.0 and b["peak_density"] > 4.0
    assert b["x"] > 6.0 and abs(b["y"] - 5.0) < 3.0
    assert m.density[0].time_above["F"].max() > 10.0
    with Recording(_room(4, 2.0, tmp_path, "sparse")) as r:
        sparse = compute(r)
    assert sparse.bottlenecks == []


def test_one_person_has_the_kernel_peak_density(tmp_path):
    doc = hall_doc(groups=[{"id": "solo", "floor": "G", "area": [[2, 4], [3, 4], [3, 5],
                                                                   [2, 5]], "count": 1}],
                   plan=[])
    with Recording(recorded_run(tmp_path, doc, "solo")) as r:
        m = compute(r)
    d = m.density[0]
    # one person smoothed by the kernel: about 1 / (2π σ²) = 0.64 /m² for σ = 0.5 m (more
    # next to a wall, where less walkable area shares the count); never LOS E
    assert 1.0 / (2 * np.pi * KERNEL_M ** 2) - 0.05 < d.peak.max() < 1.08
    assert d.time_above["C"].max() > 0 and d.time_above["E"].max() == 0


def test_response_timeline_and_plan_from_commands(tmp_path):
    doc = hall_doc(plan=[
        {"id": "O1", "role": "指挥长", "action": "order_evacuation", "within": 2},
        {"id": "O2", "role": "指挥长", "action": "order_evacuation", "within": 5},
        {"id": "A1", "role": "值班员", "action": "alarm", "within": 1, "after": "start"},
        {"id": "Z1", "role": "楼层长", "action": "zone_clear", "zone": "left", "within": 120},
    ])
    src = write_scenario(tmp_path / "cmd.toml", doc)
    drill = Drill(parse(doc))
    rec = Recorder(tmp_path / "cmd.rec", drill, scenario=scenario_of(str(src)))
    drill.apply({"type": "hold_premovement"})
    rec.frame(drill)
    while not drill.done():
        if drill.tick == 40:
            drill.apply({"type": "inject", "event": {"kind": "alarm"}})
        if drill.tick == 100:
            drill.apply({"type": "order_evacuation", "zone": "left"})
        drill.step()
        if drill.tick % 2 == 0:
            rec.frame(drill)
    rec.close()
    with Recording(tmp_path / "cmd.rec") as r:
        m = compute(r)
    assert m.timeline["alarm"] == pytest.approx(2.0)
    assert m.timeline["evacuation_order"] == pytest.approx(5.0)
    assert m.timeline["first_out"] > 2.0
    verdicts = {p["id"]: (p["met"], p["elapsed_s"]) for p in m.plan}
    assert verdicts["O1"] == (False, 3.0) and verdicts["O2"] == (True, 3.0)
    assert verdicts["A1"] == (False, 2.0)
    assert verdicts["Z1"][0] is True
    # pre-movement counts from the alarm; the "left" zone was ordered out at 5 s
    left = np.arange(30)
    assert np.nanmin(m.premovement) >= 0.0
    assert np.nanmax(m.premovement[left]) <= 3.0 + 0.1 + 1e-9
