"""People's avatars in the crowd (sim/steering.py): walls, other agents, exits, stairs, replay."""

from pathlib import Path

import numpy as np
import pytest
import shapely

from net.script import load_drill
from sim.agents.crowd import State
from sim.drill import Drill
from sim.errors import SimulationError
from sim.scenario import load
from sim.steering import MAX_SPEED

HALL = Path(__file__).parents[1] / "net" / "drill_room.toml"


def _hall() -> Drill:
    sc, _ = load_drill(HALL)
    return Drill(sc)


def _join(d: Drill, near=(10.0, 5.0), floor=0, name="张三") -> int:
    return d.apply({"type": "person_join", "floor": floor, "near": list(near),
                    "name": name})[0]["agent"]


def _row(d: Drill, agent: int) -> int:
    return int(np.searchsorted(d.crowd.id, agent))


def _run(d: Drill, seconds: float) -> None:
    for _ in range(round(seconds / d.dt)):
        d.step()


def test_a_person_joins_as_a_new_agent_at_a_free_spot_and_is_counted():
    d = _hall()
    before = d.total
    agent = _join(d, near=(5.0, 5.0))  # in the middle of the left group: no room there
    assert agent == before and d.total == before + 1 and d.remaining == before + 1
    r = _row(d, agent)
    others = np.delete(d.crowd.pos, r, axis=0)
    gap = np.hypot(*(others - d.crowd.pos[r]).T) - d.crowd.radius[r] - np.delete(
        d.crowd.radius, r)
    assert gap.min() >= 0.05  # not on top of anyone
    assert d.crowd.state[r] == State.MOVING


def test_a_steered_avatar_walks_its_way_at_most_at_the_speed_cap_and_stops_at_a_wall():
    d = _hall()
    agent = _join(d)
    y0 = d.crowd.pos[_row(d, agent), 1]
    d.apply({"type": "steer", "agent": agent, "dir": [0, 3], "speed": 9.0})
    _run(d, 1.0)
    walked = d.crowd.pos[_row(d, agent), 1] - y0
    assert 0.5 < walked <= MAX_SPEED * 1.0 + 1e-9
    _run(d, 10.0)
    y = d.crowd.pos[_row(d, agent), 1]
    assert 9.5 < y <= 10.0 - d.crowd.radius[_row(d, agent)] + 1e-6  # at the wall, not through
    d.apply({"type": "steer", "agent": agent, "dir": [0, 0]})
    p = d.crowd.pos[_row(d, agent)].copy()
    _run(d, 1.0)
    assert np.allclose(d.crowd.pos[_row(d, agent)], p, atol=0.02)  # standing


def test_walking_to_a_point_ends_there_and_a_point_in_a_wall_is_refused():
    d = _hall()
    agent = _join(d)
    d.apply({"type": "steer", "agent": agent, "to": [12.0, 8.0]})
    _run(d, 6.0)
    assert np.hypot(*(d.crowd.pos[_row(d, agent)] - (12.0, 8.0))) < 0.3
    with pytest.raises(SimulationError, match="not walkable"):
        d.apply({"type": "steer", "agent": agent, "to": [25.0, 5.0]})


def test_an_avatar_leaves_by_an_open_exit_and_is_timed_but_not_by_a_closed_one():
    d = _hall()
    d.apply({"type": "door", "exit": "East", "open": False})
    agent = _join(d, near=(17.0, 5.0))
    d.apply({"type": "steer", "agent": agent, "to": [19.8, 5.0]})
    _run(d, 4.0)
    assert d.exit_used[agent] == -1  # closed: the person stands in the doorway
    d.apply({"type": "door", "exit": "East", "open": True})
    d.apply({"type": "steer", "agent": agent, "dir": [1, 0]})
    _run(d, 2.0)
    assert d.scene.exits[d.exit_used[agent]].id == "East" and np.isfinite(d.exit_time[agent])
    with pytest.raises(SimulationError, match="left the building"):
        d.apply({"type": "steer", "agent": agent, "dir": [1, 0]})


def test_an_avatar_slows_in_smoke():
    speeds = []
    for smoke in (False, True):
        d = _hall()
        agent = _join(d, near=(10.0, 2.0))
        if smoke:
            d.apply({"type": "inject", "event": {"kind": "smoke", "x": 10.0, "y": 5.0,
                                                 "radius": 8.0, "factor": 0.5}})
        y0 = d.crowd.pos[_row(d, agent), 1]
        d.apply({"type": "steer", "agent": agent, "dir": [0, 1], "speed": 1.2})
        _run(d, 2.0)
        speeds.append((d.crowd.pos[_row(d, agent), 1] - y0) / 2.0)
    assert speeds[1] == pytest.approx(0.5 * speeds[0], rel=0.15)


def test_a_released_avatar_is_walked_out_by_the_simulation():
    d = _hall()
    agent = _join(d)
    d.apply({"type": "release", "agent": agent})
    while not d.done():
        d.step()
    assert d.remaining == 0 and d.exit_used[agent] >= 0


def test_an_avatar_takes_a_stair_it_walks_into_and_not_back_after_landing():
    sc = load("two_storey")
    d = Drill(sc)
    st = sc.scene.stairs[0]
    start, other = st.floors[1], st.floors[0]
    end = st.areas[1].representative_point()
    agent = _join(d, near=(end.x, end.y), floor=start)
    assert d.crowd.floor[_row(d, agent)] == start
    _run(d, 1.0)
    assert d.crowd.floor[_row(d, agent)] == start  # spawned on the stair end: not boarded
    # Walk off the end area, then back into it: now the stair is taken.
    away = next(p for p in ((end.x - 3, end.y), (end.x, end.y - 3), (end.x, end.y + 3),
                            (end.x + 3, end.y))
                if sc.scene.floors[start].area.contains(shapely.Point(p)))
    d.apply({"type": "steer", "agent": agent, "to": list(away)})
    _run(d, 4.0)
    assert d.crowd.floor[_row(d, agent)] == start
    d.apply({"type": "steer", "agent": agent, "to": [end.x, end.y]})
    for _ in range(1200):
        d.step()
        if d.crowd.floor[_row(d, agent)] == other:
            break
    assert d.crowd.floor[_row(d, agent)] == other
    assert d.crowd.state[_row(d, agent)] == State.MOVING
    _run(d, 3.0)
    assert d.crowd.floor[_row(d, agent)] == other  # landed in the end area: stays down


def test_same_commands_give_the_same_walk_bit_for_bit():
    def walk() -> np.ndarray:
        d = _hall()
        log = []
        agent = _join(d)
        for tick in range(240):
            if tick == 20:
                log.append(d.apply({"type": "steer", "agent": agent, "dir": [1, 0.3]}))
            if tick == 120:
                d.apply({"type": "steer", "agent": agent, "to": [3.0, 5.0]})
            d.step()
        return d.crowd.pos.copy()

    assert np.array_equal(walk(), walk())


def test_click_to_go_walks_round_a_wall_to_a_point_behind_it():
    walk = Path(__file__).parents[1] / "web" / "walk_room.toml"
    sc, _ = load_drill(walk)
    d = Drill(sc)
    agent = _join(d, near=(4.0, 1.0))
    d.apply({"type": "steer", "agent": agent, "to": [7.0, 3.0]})  # behind the wall at y = 2
    for _ in range(round(20.0 / d.dt)):
        d.step()
        if not len(d.steering) or not np.isfinite(d.steering.to[0, 0]):
            break
    assert np.hypot(*(d.crowd.pos[_row(d, agent)] - (7.0, 3.0))) < 0.3  # round the end at x = 9

