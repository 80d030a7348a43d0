"""Placing groups: inside their areas, clear of walls and of each other; sampled parameters."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import shapely
from corridor_docs import scenario
from scipy.spatial import cKDTree

from sim.agents.crowd import Choice, State
from sim.agents.population import populate
from sim.errors import ScenarioError


def _group(area: list[list[float]], count: int, **kw: Any) -> dict[str, Any]:
    g: dict[str, Any] = {"area": area, "count": count, "exit": "E1"}
    g.update(kw)
    return g


def _doc(groups: list[dict[str, Any]], obstacles: list | None = None, size: float = 12.0,
         ) -> dict[str, Any]:
    """A square room with optional obstacles and an exit strip on its east side."""
    return {
        "name": "room",
        "floors": [{"id": "G", "walkable": [[0, 0], [size, 0], [size, size], [0, size]],
                    "obstacles": obstacles or []}],
        "exits": [{"id": "E1", "polygon": [[size - 0.2, 0], [size, 0], [size, size],
                                           [size - 0.2, size]]}],
        "groups": groups,
    }


def _rect(x0: float, y0: float, x1: float, y1: float) -> list[list[float]]:
    return [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]


def _assert_no_overlap(pos: np.ndarray, radius: np.ndarray) -> None:
    pairs = cKDTree(pos).query_pairs(2 * radius.max(), output_type="ndarray")
    if len(pairs):
        i, j = pairs.T
        d = np.hypot(*(pos[i] - pos[j]).T)
        bad = d < radius[i] + radius[j] - 1e-9
        assert not bad.any(), (
            f"{bad.sum()} overlapping pairs, e.g. {pos[i[bad][0]]} r={radius[i[bad][0]]} and "
            f"{pos[j[bad][0]]} r={radius[j[bad][0]]} (distance {d[bad][0]:.3f})"
        )


# --------------------------------------------------------------------------- positions


def test_agents_lie_inside_their_group_area_and_the_floor_area_clear_of_walls():
    column = _rect(4.0, 4.0, 5.0, 5.0)
    wall = _rect(2.0, 6.0, 2.05, 11.0)  # a thin wall through the group's area
    scn = scenario(_doc([_group(_rect(1, 1, 8, 10), 200, radius=0.25)], [column, wall]))
    crowd = populate(scn, np.random.default_rng(1))
    assert len(crowd) == 200
    floor = scn.scene.floors[0]
    area = scn.groups[0].area
    pts = shapely.points(crowd.pos)
    assert np.all(shapely.contains(area, pts))
    assert np.all(shapely.contains(floor.area, pts))
    # The whole disc is inside: at least one radius from every wall and from the area edge.
    assert np.all(shapely.distance(floor.area.boundary, pts) >= crowd.radius - 1e-9)
    assert np.all(shapely.distance(area.boundary, pts) >= crowd.radius - 1e-9)


def test_agents_of_one_group_never_overlap():
    scn = scenario(_doc([_group(_rect(0, 0, 6, 6), 180, radius=0.2)]))
    crowd = populate(scn, np.random.default_rng(2))
    _assert_no_overlap(crowd.pos, crowd.radius)


def test_agents_of_overlapping_groups_never_overlap():
    groups = [
        _group(_rect(1, 1, 7, 7), 100, radius=0.2),
        _group(_rect(4, 4, 10, 10), 40, radius=0.3),
    ]
    scn = scenario(_doc(groups))
    for seed in range(5):
        crowd = populate(scn, np.random.default_rng(seed))
        assert np.bincount(crowd.group).tolist() == [100, 40]
        _assert_no_overlap(crowd.pos, crowd.radius)
        for gi, g in enumerate(scn.groups):
            pts = shapely.points(crowd.pos[crowd.group == gi])
            assert np.all(shapely.contains(g.area, pts))


def test_agents_of_three_overlapping_groups_with_different_radii_never_overlap():
    # The third group has to keep clear of two earlier groups whose radii differ: the
    # agent nearest to a candidate point is not always the one it would overlap.
    groups = [
        _group(_rect(1, 1, 9, 9), 20, radius=0.1),
        _group(_rect(1, 1, 9, 9), 10, radius=0.6),
        _group(_rect(1, 1, 9, 9), 40, radius=0.2),
    ]
    scn = scenario(_doc(groups))
    for seed in range(10):
        crowd = populate(scn, np.random.default_rng(seed))
        _assert_no_overlap(crowd.pos, crowd.radius)


def test_a_group_that_does_not_fit_is_refused_with_its_field():
    scn = scenario(_doc([_group(_rect(1, 1, 2, 2), 50, radius=0.2)]))
    with pytest.raises(ScenarioError) as info:
        populate(scn, np.random.default_rng(0))
    assert info.value.field == "groups[0].count"


def test_a_group_fully_covered_by_an_earlier_one_is_refused_when_packed():
    area = _rect(1, 1, 3, 3)
    scn = scenario(_doc([_group(area, 20, radius=0.2), _group(area, 20, radius=0.2)]))
    with pytest.raises(ScenarioError) as info:
        populate(scn, np.random.default_rng(0))
    assert info.value.field == "groups[1].count"


# --------------------------------------------------------------------------- parameters


def test_speeds_lie_within_bounds_with_the_requested_mean():
    speed = {"mean": 1.34, "sd": 0.26, "min": 0.3, "max": 2.5}
    scn = scenario(_doc([_group(_rect(0, 0, 30, 30), 2000, speed=speed)], size=30.0))
    crowd = populate(scn, np.random.default_rng(11))
    assert len(crowd) == 2000
    assert np.all((crowd.v0 >= 0.3) & (crowd.v0 <= 2.5))
    assert abs(crowd.v0.mean() - 1.34) < 0.03
    assert 0.2 < crowd.v0.std() < 0.32


def test_speeds_are_clipped_to_narrow_bounds():
    speed = {"mean": 1.34, "sd": 0.5, "min": 1.2, "max": 1.5}
    scn = scenario(_doc([_group(_rect(0, 0, 12, 12), 400, speed=speed)]))
    v0 = populate(scn, np.random.default_rng(4)).v0
    assert np.all((v0 >= 1.2) & (v0 <= 1.5))
    assert np.any(v0 == 1.2) and np.any(v0 == 1.5)


def test_premovement_lies_within_bounds_and_is_spread_over_them():
    pre = {"min": 10.0, "max": 60.0}
    scn = scenario(_doc([_group(_rect(0, 0, 12, 12), 500, premovement=pre)]))
    p = populate(scn, np.random.default_rng(4)).premovement
    assert np.all((p >= 10.0) & (p <= 60.0))
    assert p.min() < 15.0 and p.max() > 55.0


def test_per_agent_columns_describe_the_group():
    groups = [
        _group(_rect(0, 0, 5, 5), 10, radius=0.25),
        {"area": _rect(6, 6, 11, 11), "count": 5, "exit_choice": "nearest"},
    ]
    crowd = populate(scenario(_doc(groups)), np.random.default_rng(0))
    assert crowd.id.tolist() == list(range(15))
    assert crowd.group.tolist() == [0] * 10 + [1] * 5
    assert crowd.radius.tolist() == [0.25] * 10 + [0.2] * 5
    assert crowd.assigned.tolist() == [0] * 10 + [-1] * 5
    assert crowd.choice.tolist() == [Choice.ASSIGNED] * 10 + [Choice.NEAREST] * 5
    assert np.all(crowd.state == State.WAITING)
    assert np.all(crowd.floor == 0)
    assert crowd.pos.shape == (15, 2)


# --------------------------------------------------------------------------- seeds


def _two_groups():
    speed = {"mean": 1.34, "sd": 0.26}
    pre = {"min": 0.0, "max": 30.0}
    return scenario(_doc([
        _group(_rect(1, 1, 7, 7), 60, speed=speed, premovement=pre),
        _group(_rect(4, 4, 10, 10), 40, speed=speed, premovement=pre, radius=0.25),
    ]))


def test_the_same_seed_gives_identical_agents():
    scn = _two_groups()
    a = populate(scn, np.random.default_rng(42))
    b = populate(scn, np.random.default_rng(42))
    for name in ("pos", "v0", "premovement", "radius", "group", "floor"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name


def test_a_different_seed_gives_different_agents():
    scn = _two_groups()
    a = populate(scn, np.random.default_rng(42))
    b = populate(scn, np.random.default_rng(43))
    assert not np.array_equal(a.pos, b.pos)
    assert not np.array_equal(a.v0, b.v0)
    assert not np.array_equal(a.premovement, b.premovement)
