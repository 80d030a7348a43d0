"""Verification cases in the spirit of RiMEA (Richtlinie für Mikroskopische
Entfluchtungsanalysen, v4) and NIST TN 1822, with the ranges they give.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import shapely
from corridor_docs import corridor
from scenes import SPEED_134, corner, door_room, run_to_end

from sim.drill import Drill
from sim.run import run
from sim.scenario import load, parse


def steady_flow(times: list[float]) -> float:
    """Persons per second between the 10th and 90th percentile passage."""
    t = np.sort(np.asarray(times))
    a, b = int(0.1 * len(t)), int(0.9 * len(t)) - 1
    return (b - a) / (t[b] - t[a])


def test_single_agent_keeps_its_speed_along_a_40m_corridor() -> None:
    """RiMEA test 1: 1.33 m/s over 40 m must take between 26 s and 34 s."""
    xs: list[float] = []
    drill = run_to_end(corridor(), on_step=lambda d: xs.append(float(d.crowd.pos[0, 0])))
    assert drill.evacuated == 1
    t = drill.exit_time[0]
    assert 26.0 <= t <= 34.0
    # In the middle of the corridor the agent walks at its desired speed.
    x = np.array(xs)
    mid = (x > 5) & (x < 35)
    speed = np.diff(x)[mid[1:]] / drill.dt
    assert np.allclose(speed, 1.33, atol=0.01)


def test_agents_go_round_a_corner_without_touching_walls() -> None:
    """RiMEA test 6: 20 agents turn a left corner; none ever overlaps a wall."""
    closest: list[float] = []

    def check(d: Drill) -> None:
        walls = shapely.multilinestrings(d.scene.floors[0].wall_segments(
            tuple(e.polygon for e in d.scene.exits)))
        rows = d.active()
        if rows.any():
            dist = shapely.distance(walls, shapely.points(d.crowd.pos[rows]))
            closest.append(float((dist - d.crowd.radius[rows]).min()))

    drill = run_to_end(corner(), on_step=check)
    assert drill.evacuated == 20
    assert min(closest) >= -1e-6


def test_assigned_exits_are_respected() -> None:
    """RiMEA test 10: agents leave by the exit they were assigned, even a farther one."""
    doc = door_room(width=2.0, count=40)
    doc["exits"].append({"id": "west", "polygon": [[0, 0], [0.3, 0], [0.3, 10], [0, 10]]})
    doc["groups"] = [
        {"id": "to_out", "area": [[0.5, 0.5], [4.5, 0.5], [4.5, 9.5], [0.5, 9.5]],
         "count": 20, "speed": SPEED_134, "exit": "out"},
        {"id": "to_west", "area": [[5.5, 0.5], [9.5, 0.5], [9.5, 9.5], [5.5, 9.5]],
         "count": 20, "speed": SPEED_134, "exit": "west"},
    ]
    drill = run_to_end(doc)
    assert drill.evacuated == 40
    groups = np.repeat([0, 1], 20)
    assert np.all(drill.exit_used[groups == 0] == 0)
    assert np.all(drill.exit_used[groups == 1] == 1)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_one_metre_door_keeps_flowing_at_literature_rates(seed: int) -> None:
    """A 1 m door passes 1.0-2.0 persons/s (SFPE 1.3 /m/s; Seyfried et al. 2009 ~1.9 /s)
    and never stalls: no gap of more than 5 s between two passages while people wait."""
    drill = run_to_end(door_room(width=1.0, count=150, seed=seed))
    assert drill.evacuated == 150
    times = drill.measures[0].times
    assert 150 <= len(times) <= 160  # everyone crossed (a few stepped back and crossed again)
    assert 1.0 <= steady_flow(times) <= 2.0
    assert np.diff(np.sort(times)).max() < 5.0


def test_door_flow_grows_with_door_width() -> None:
    """Flow through a bottleneck grows about linearly with its width (Seyfried et al. 2009)."""
    flows = {w: steady_flow(run_to_end(door_room(width=w, count=150)).measures[0].times)
             for w in (1.0, 2.0)}
    assert 1.5 <= flows[2.0] / flows[1.0] <= 3.0
    assert 1.2 <= flows[2.0] / 2.0 <= 2.0  # specific flow, persons/(m s)


def test_closing_an_exit_lengthens_the_evacuation_and_reroutes_agents() -> None:
    doc = _office_doc()
    for g in doc["groups"]:
        g["premovement"] = {"min": 0.0, "max": 5.0}  # so that exit capacity matters
    open_run = run_to_end(doc)
    doc["events"] = [{"time": 0.0, "action": "close_exit", "exit": "East"}]
    closed = run_to_end(doc)
    assert open_run.evacuated == closed.evacuated == 180
    assert np.count_nonzero(open_run.exit_used == 1) > 50
    assert np.count_nonzero(closed.exit_used == 1) == 0  # nobody leaves by the closed exit
    assert np.nanmax(closed.exit_time) > 1.3 * np.nanmax(open_run.exit_time)


def test_closing_an_exit_during_the_run_sends_its_queue_elsewhere() -> None:
    doc = _office_doc()
    doc["events"] = [{"time": 40.0, "action": "close_exit", "exit": "East"}]
    drill = run_to_end(doc)
    assert drill.evacuated == 180
    east = drill.exit_used == 1
    assert east.any()
    assert np.all(drill.exit_time[east] <= 40.0 + drill.dt)


def test_same_scenario_and_seed_give_identical_trajectories(tmp_path: Path) -> None:
    a = run(load("office"), tmp_path / "a", seed=7)
    b = run(load("office"), tmp_path / "b", seed=7)
    c = run(load("office"), tmp_path / "c", seed=8)
    ta = (tmp_path / "a" / "trajectories.txt").read_bytes()
    assert ta == (tmp_path / "b" / "trajectories.txt").read_bytes()
    assert ta != (tmp_path / "c" / "trajectories.txt").read_bytes()
    assert a["evacuation_time_s"] == b["evacuation_time_s"]
    assert c["agents"] == a["agents"]


def test_no_agent_passes_through_a_thin_wall_under_high_density() -> None:
    """A 2 cm wall splits a packed room; the only way through is a door at its far end."""
    doc = {
        "name": "thin-wall",
        "simulation": {"dt": 0.05, "max_time": 300, "seed": 3},
        "floors": [{"id": "G", "walkable": [[0, 0], [12, 0], [12, 10], [0, 10]],
                    "obstacles": [[[6, 0], [6.02, 0], [6.02, 9], [6, 9]]]}],
        "exits": [{"id": "E", "polygon": [[11.7, 0], [12, 0], [12, 3], [11.7, 3]]}],
        "groups": [{"area": [[0, 0], [6, 0], [6, 9], [0, 9]], "count": 300,
                    "speed": SPEED_134, "exit": "E"}],
    }
    side: dict[int, np.ndarray] = {}

    def check(d: Drill) -> None:
        rows = d.active()
        ids, pos = d.crowd.id[rows], d.crowd.pos[rows]
        right = pos[:, 0] > 6.01
        for i, r, y in zip(ids, right, pos[:, 1], strict=True):  # test-only loop
            if i in side and side[i][0] != r:
                assert y > 8.9, f"agent {i} crossed the wall at y={y:.2f}"
            side[i] = np.array([r, y])

    drill = run_to_end(doc, on_step=check)
    assert drill.evacuated == 300


def test_agents_wait_for_their_premovement_time() -> None:
    """NIST TN 1822 (pre-evacuation): nobody moves before their pre-movement time ends."""
    doc = corridor(count=10, premovement={"min": 5.0, "max": 10.0},
                   area=[[0.2, 0.2], [5.0, 0.2], [5.0, 1.8], [0.2, 1.8]])
    drill = Drill(parse(doc))
    start = drill.crowd.pos.copy()
    pre = drill.crowd.premovement.copy()
    while drill.time < 10.0:
        drill.step()
        waiting = pre > drill.time + 1e-9
        assert np.allclose(drill.crowd.pos[waiting], start[waiting])
    assert not np.allclose(drill.crowd.pos, start)


def test_quickest_exit_choice_spreads_the_crowd_and_evacuates_sooner() -> None:
    """RiMEA test 11 (exit choice): with a queue at the near exit, some take the far one."""
    def doc(choice: str) -> dict:
        d = door_room(width=1.0, count=80)
        d["exits"].append({"id": "west", "polygon": [[0, 0], [0.3, 0], [0.3, 10], [0, 10]]})
        d["groups"][0] = {"area": [[7, 2], [9.7, 2], [9.7, 8], [7, 8]],
                          "count": 80, "speed": SPEED_134, "exit_choice": choice}
        return d

    nearest = run_to_end(doc("nearest"))
    quickest = run_to_end(doc("quickest"))
    assert nearest.evacuated == quickest.evacuated == 80
    west_nearest = np.count_nonzero(nearest.exit_used == 1)
    west_quickest = np.count_nonzero(quickest.exit_used == 1)
    assert west_nearest < 20
    assert west_quickest >= west_nearest + 20
    assert np.nanmax(quickest.exit_time) < 0.8 * np.nanmax(nearest.exit_time)


def test_pedpy_reads_the_trajectories_and_measures_the_walking_speed(tmp_path: Path) -> None:
    pedpy = pytest.importorskip("pedpy")
    run(parse(corridor(), source="<test>"), tmp_path)
    traj = pedpy.load_trajectory_from_txt(trajectory_file=tmp_path / "trajectories.txt")
    assert traj.frame_rate == 10.0
    speed = pedpy.compute_individual_speed(traj_data=traj, frame_step=5,
                                           speed_calculation=pedpy.SpeedCalculation.BORDER_SINGLE_SIDED)
    mid = speed[(traj.data["x"] > 5) & (traj.data["x"] < 35)]
    assert abs(float(mid["speed"].median()) - 1.33) < 0.02


def _office_doc() -> dict:
    import tomllib

    from sim.scenario import ASSETS

    return tomllib.loads((ASSETS / "office.toml").read_text())


@pytest.mark.parametrize("n", [1000, 2000])
def test_everyone_leaves_the_benchmark_room_through_many_door_leaves(n: int) -> None:
    """The benchmark hall (doors along every wall): nobody is left dithering at a door."""
    from tools.bench_crowd import room

    scen, _ = room(n)
    drill = Drill(scen)
    while not drill.done():
        drill.step()
    assert drill.remaining == 0
    assert drill.time < 60.0


def test_a_fast_agent_cannot_step_over_a_thin_exit_strip() -> None:
    """An exit 5 cm deep at the end of a corridor; steps of 12.5 cm must not skip it."""
    doc = corridor(speed={"mean": 2.5, "sd": 0.0, "min": 0.3, "max": 2.5})
    doc["exits"][0]["polygon"] = [[39.95, 0], [40, 0], [40, 2], [39.95, 2]]
    drill = run_to_end(doc)
    assert drill.evacuated == 1
    assert drill.exit_time[0] < 20.0
