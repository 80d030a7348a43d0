"""The collision-free speed model: desired_velocity and wall_repulsion."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from scipy.spatial import cKDTree

from sim.agents.model import FAR, desired_velocity, wall_repulsion
from sim.scenario import ModelParams

# Explicit parameters (JuPedSim's defaults), so that changing the defaults does not move the
# expected numbers below.
PARAMS = ModelParams(time_gap=1.0, neighbour_strength=8.0, neighbour_range=0.1,
                     wall_strength=5.0, wall_range=0.02)
R = 0.2  # body radius of every agent below


def _step(pos, e0, v0=1.34, neighbours=None, heading=None, params=PARAMS, radius=R,
          gone=(), route=None, queue=None, velocity=None, narrow=None):
    """Call desired_velocity with the documented layouts.

    ``neighbours``: per agent, a list of neighbour indices (padded with n); by default every
    agent has every other agent as a neighbour. ``route``: per agent, its rank in the queue
    for its exit (default: all equal, so nobody has right of way); ``queue``: per agent, the
    exit it heads for (default: all the same exit). ``velocity``: per agent, its velocity
    of the last step (default: none, the plain model); ``narrow``: per agent, whether it
    stands in a constriction.
    """
    pos = np.asarray(pos, dtype=float).reshape(-1, 2)
    n = len(pos)
    x = np.append(pos[:, 0], FAR).astype(np.float32)
    y = np.append(pos[:, 1], FAR).astype(np.float32)
    for g in gone:  # agents that have left sit at FAR
        x[g] = y[g] = FAR
    if neighbours is None:
        neighbours = [[j for j in range(n) if j != i] for i in range(n)]
    k = max(1, max(len(nb) for nb in neighbours))
    nb = np.full((k, n), n, np.int64)
    for i, row in enumerate(neighbours):
        nb[: len(row), i] = row
    r = np.broadcast_to(np.asarray(radius, dtype=float), (n,))
    rp = np.append(r, 0.0)
    reach = (r[None, :] + rp[nb]).astype(np.float32)
    e0 = np.broadcast_to(np.asarray(e0, dtype=float), (n, 2)).copy()
    v0 = np.broadcast_to(np.asarray(v0, dtype=float), (n,)).copy()
    heading = np.zeros((n, 2)) if heading is None else np.asarray(heading, dtype=float)
    rank = np.zeros(n) if route is None else np.asarray(route, dtype=float)
    rank = np.append(rank, np.inf).astype(np.float32)
    q = np.zeros(n) if queue is None else np.asarray(queue)
    q = np.append(q, -1).astype(np.int16)
    vel = None
    if velocity is not None:
        vel = np.zeros((n + 1, 2), np.float32)
        vel[:-1] = velocity
    nar = None if narrow is None else np.asarray(narrow, bool)
    return desired_velocity(x=x, y=y, v0=v0, e0=e0, heading=heading, neighbours=nb,
                            reach=reach, route=rank, queue=q, params=params, velocity=vel,
                            narrow=nar)


# --------------------------------------------------------------------------- free walking


def test_a_lone_agent_walks_at_v0_in_its_desired_direction():
    e0 = np.array([0.6, 0.8])
    direction, speed = _step([[3.0, 4.0]], e0, v0=1.27, neighbours=[[]])
    np.testing.assert_allclose(direction, [[0.6, 0.8]], atol=1e-7)
    assert speed == pytest.approx([1.27])
    assert direction.dtype == np.float64 and speed.dtype == np.float64


def test_an_agent_with_only_departed_neighbours_walks_freely():
    # Agent 1 has left (sits at FAR) but is still in agent 0's table.
    direction, speed = _step([[0.0, 0.0], [0.5, 0.0]], [1.0, 0.0], gone=(1,))
    np.testing.assert_allclose(direction[0], [1.0, 0.0], atol=1e-7)
    assert speed[0] == pytest.approx(1.34)


def test_an_agent_keeps_its_heading_when_nothing_drives_it():
    direction, speed = _step([[0.0, 0.0]], [0.0, 0.0], neighbours=[[]], heading=[[0.0, -1.0]])
    np.testing.assert_allclose(direction, [[0.0, -1.0]])
    assert speed[0] == pytest.approx(1.34)


# --------------------------------------------------------------------------- following


@pytest.mark.parametrize("time_gap", [1.0, 2.0])
@pytest.mark.parametrize("gap", [0.3, 0.5, 0.9, 1.2, 2.0, 3.5])
def test_an_agent_behind_another_slows_to_gap_over_time_gap(gap, time_gap):
    params = ModelParams(time_gap=time_gap, neighbour_strength=8.0, neighbour_range=0.1)
    pos = [[0.0, 0.0], [2 * R + gap, 0.0]]
    route = [10.0, 10.0 - 2 * R - gap]  # both head for an exit at x = 10
    direction, speed = _step(pos, [1.0, 0.0], v0=1.34, params=params, route=route)
    np.testing.assert_allclose(direction[0], [1.0, 0.0], atol=1e-6)
    assert speed[0] == pytest.approx(min(1.34, gap / time_gap), rel=1e-5, abs=1e-6)


def test_an_agent_with_a_neighbour_behind_it_is_not_slowed():
    pos = [[0.0, 0.0], [2 * R + 0.3, 0.0]]
    for route in (None, [10.0, 9.3]):
        direction, speed = _step(pos, [1.0, 0.0], v0=1.34, route=route)
        np.testing.assert_allclose(direction[1], [1.0, 0.0], atol=1e-6)
        assert speed[1] == pytest.approx(1.34)
        assert speed[0] == pytest.approx(0.3, rel=1e-5)


def test_face_to_face_agents_without_right_of_way_both_slow_down():
    pos = [[0.0, 0.0], [2 * R + 0.5, 0.0]]
    _, speed = _step(pos, [[1.0, 0.0], [-1.0, 0.0]])
    np.testing.assert_allclose(speed, [0.5, 0.5], rtol=1e-5)


def test_the_agent_nearer_the_exit_does_not_wait_for_one_further_back():
    # Two agents converging on a door see each other ahead; only the one further from the
    # exit (larger rank) waits, so they cannot deadlock.
    pos = [[0.0, 0.0], [2 * R + 0.5, 0.0]]
    _, speed = _step(pos, [[1.0, 0.0], [-1.0, 0.0]], route=[4.0, 3.0])
    assert speed[0] == pytest.approx(0.5, rel=1e-5)
    assert speed[1] == pytest.approx(1.34)
    _, speed = _step(pos, [[1.0, 0.0], [-1.0, 0.0]], route=[3.0, 4.0])
    assert speed[0] == pytest.approx(1.34)
    assert speed[1] == pytest.approx(0.5, rel=1e-5)


@pytest.mark.parametrize(("d0", "d1"), [(3.0, 4.0), (4.0, 3.0), (20.0, 0.5)])
def test_agents_heading_for_different_exits_give_no_right_of_way(d0, d1):
    # Agent 0 heads for exit 0, agent 1 for exit 1: they are in different queues, so each
    # still waits for the other, whoever is nearer its own exit.
    pos = [[0.0, 0.0], [2 * R + 0.5, 0.0]]
    _, speed = _step(pos, [[1.0, 0.0], [-1.0, 0.0]], route=[d0, d1], queue=[0, 1])
    np.testing.assert_allclose(speed, [0.5, 0.5], rtol=1e-5)


def test_an_agent_beside_the_walking_lane_does_not_slow_the_walker():
    # The neighbour is ahead but more than the sum of the radii to the side.
    pos = [[0.0, 0.0], [0.5, 2 * R + 0.05]]
    _, speed = _step(pos, [1.0, 0.0], v0=1.34, neighbours=[[1], []])
    assert speed[0] == pytest.approx(1.34)


def test_the_nearest_agent_in_the_way_sets_the_speed():
    pos = [[0.0, 0.0], [2 * R + 1.0, 0.1], [2 * R + 0.6, -0.05], [2 * R + 0.3, 1.0]]
    route = [10.0 - p[0] for p in pos]
    _, speed = _step(pos, [1.0, 0.0], v0=1.34, neighbours=[[1, 2, 3], [], [], []],
                     route=route)
    gap = np.hypot(2 * R + 0.6, 0.05) - 2 * R
    assert speed[0] == pytest.approx(gap, rel=1e-3)


def test_speed_is_zero_not_negative_when_squeezed_between_overlapping_agents():
    # Overlapping front and back neighbours: their pushes cancel, the agent keeps heading
    # east and the agent ahead overlaps it (negative gap).
    pos = [[0.0, 0.0], [0.3, 0.0], [-0.3, 0.0]]
    direction, speed = _step(pos, [0.0, 0.0], neighbours=[[1, 2], [], []],
                             heading=[[1.0, 0.0]] * 3)
    np.testing.assert_allclose(direction[0], [1.0, 0.0], atol=1e-6)
    assert speed[0] == 0.0


def test_speed_stays_between_zero_and_v0_in_a_dense_random_crowd():
    rng = np.random.default_rng(0)
    n, k = 400, 8
    pos = rng.uniform(0, 7, (n, 2))  # about 8 agents per m²: many overlaps
    _, idx = cKDTree(pos).query(pos, k=k + 1)
    neighbours = [row[1:].tolist() for row in idx]
    ang = rng.uniform(0, 2 * np.pi, n)
    e0 = np.column_stack([np.cos(ang), np.sin(ang)])
    v0 = rng.uniform(0.5, 2.0, n)
    heading = np.column_stack([np.cos(ang + 1), np.sin(ang + 1)])
    direction, speed = _step(pos, e0, v0=v0, neighbours=neighbours, heading=heading)
    assert np.all(speed >= 0.0) and np.all(speed <= v0)
    assert np.any(speed == 0.0) and np.any(speed == v0)
    np.testing.assert_allclose(np.hypot(direction[:, 0], direction[:, 1]), 1.0, atol=1e-6)


# --------------------------------------------------------------------------- repulsion


def test_overlapping_agents_push_each_other_apart():
    # Both want to walk north; they overlap side by side.
    pos = [[0.0, 0.0], [0.3, 0.0]]
    direction, _ = _step(pos, [0.0, 1.0])
    assert direction[0, 0] < -0.5  # away from agent 1 (to the west)
    assert direction[1, 0] > 0.5  # away from agent 0 (to the east)
    np.testing.assert_allclose(direction[0, 0], -direction[1, 0], atol=1e-6)


def test_repulsion_between_agents_fades_with_the_gap():
    lateral = []
    for gap in (0.0, 0.1, 0.3, 0.6):
        pos = [[0.0, 0.0], [2 * R + gap, 0.0]]
        direction, _ = _step(pos, [0.0, 1.0], neighbours=[[1], []])
        lateral.append(-direction[0, 0])
    assert all(a > b for a, b in zip(lateral, lateral[1:], strict=False))
    assert lateral[0] > 0.9 and lateral[-1] < 0.03


def test_an_overlapping_agent_ahead_turns_the_walker_back():
    # An overlap is resolved before walking on: the agent steps away, so nothing blocks it.
    pos = [[0.0, 0.0], [0.35, 0.0]]
    direction, _ = _step(pos, [1.0, 0.0], neighbours=[[1], []])
    assert direction[0, 0] < 0.0


# --------------------------------------------------------------------------- walls


def _wall(dist, unit=(1.0, 0.0), radius=R, params=PARAMS):
    """Repulsion on one agent from one wall at ``dist`` in direction ``unit``."""
    unit = np.asarray(unit, dtype=float)
    vec = (dist * unit)[None, None, :]
    return wall_repulsion(np.array([radius]), vec, np.array([[dist]]), params)[0]


@pytest.mark.parametrize("angle", np.linspace(0, 2 * np.pi, 7)[:-1])
@pytest.mark.parametrize("dist", [0.1, 0.2, 0.25])
def test_wall_repulsion_points_away_from_the_wall(angle, dist):
    unit = np.array([np.cos(angle), np.sin(angle)])
    f = _wall(dist, unit)
    mag = np.hypot(*f)
    assert mag > 0.1
    np.testing.assert_allclose(f / mag, -unit, atol=1e-9)


def test_wall_repulsion_at_contact_equals_the_wall_strength():
    assert np.hypot(*_wall(R)) == pytest.approx(PARAMS.wall_strength)
    strong = ModelParams(wall_strength=2.0, wall_range=0.02)
    assert np.hypot(*_wall(R, params=strong)) == pytest.approx(2.0)


def test_wall_repulsion_is_negligible_half_a_metre_away():
    assert np.hypot(*_wall(0.5)) < 1e-4
    assert np.hypot(*_wall(0.5, radius=0.3)) < 1e-2
    # ... but not a few centimetres from contact.
    assert np.hypot(*_wall(R + 0.03)) > 0.5


def test_wall_repulsion_grows_as_the_wall_comes_closer():
    mags = [np.hypot(*_wall(d)) for d in (0.4, 0.3, 0.25, 0.22, 0.2, 0.15, 0.1)]
    assert all(a < b for a, b in zip(mags, mags[1:], strict=False))


def test_wall_repulsion_inside_a_wall_is_large_but_finite():
    f = _wall(0.01)
    assert np.all(np.isfinite(f)) and np.hypot(*f) > 1e3
    touching = wall_repulsion(np.array([R]), np.zeros((1, 1, 2)), np.zeros((1, 1)), PARAMS)
    assert np.all(np.isfinite(touching))


def test_wall_repulsion_in_a_corner_points_out_of_it():
    vec = np.array([[[0.22, 0.0], [0.0, 0.22], [1e9, 1e9]]])  # east and north walls + dummy
    f = wall_repulsion(np.array([R]), vec, np.hypot(vec[..., 0], vec[..., 1]), PARAMS)[0]
    assert f[0] < 0 and f[1] < 0
    assert f[0] == pytest.approx(f[1])
    assert np.hypot(*f) == pytest.approx(np.sqrt(2) * np.hypot(*_wall(0.22)))


def test_wall_repulsion_per_agent_and_per_wall_layout():
    radius = np.array([0.2, 0.3])
    vec = np.array([[[0.25, 0.0], [5.0, 0.0]], [[0.0, -0.35], [0.0, 0.35]]])
    dist = np.hypot(vec[..., 0], vec[..., 1])
    f = wall_repulsion(radius, vec, dist, PARAMS)
    assert f.shape == (2, 2)
    np.testing.assert_allclose(f[0], _wall(0.25), atol=1e-12)
    np.testing.assert_allclose(f[1], [0.0, 0.0], atol=1e-12)  # equal walls either side


# --------------------------------------------------------------------------- additions
# Evasion, anticipation and the zipper rules act only when the last step's velocities are
# given (the drill always gives them).

ADDED = dataclasses.replace(PARAMS, evasion_strength=4.0, evasion_range=1.0,
                            anticipation=0.15, narrow_band=0.5, narrow_time_gap=0.35)


def test_someone_coming_the_other_way_is_passed_on_the_keeping_side():
    # Agent 1 walks west straight at agent 0 (slightly to 0's left); both evade to their right.
    pos = [[0.0, 0.0], [1.5, 0.05]]
    vel = [[1.3, 0.0], [-1.3, 0.0]]
    e0 = np.array([[1.0, 0.0], [-1.0, 0.0]])
    direction, _ = _step(pos, e0, velocity=vel, params=ADDED, queue=[0, 1])
    assert direction[0, 1] < -0.2  # east-walker steps right (south)
    assert direction[1, 1] > 0.2  # west-walker steps right (north)
    left = dataclasses.replace(ADDED, keep_side="left")
    pos = [[0.0, 0.0], [1.5, -0.05]]
    direction, _ = _step(pos, e0, velocity=vel, params=left, queue=[0, 1])
    assert direction[0, 1] > 0.2 and direction[1, 1] < -0.2


def test_without_velocities_nobody_evades():
    pos = [[0.0, 0.0], [1.5, 0.05]]
    e0 = np.array([[1.0, 0.0], [-1.0, 0.0]])
    direction, _ = _step(pos, e0, params=ADDED, queue=[0, 1])
    assert abs(direction[0, 1]) < 0.01


def test_people_walking_the_same_way_are_not_evaded():
    # A queue would drift to the keeping side if standing or slower people pushed one.
    pos = [[0.0, 0.0], [1.0, 0.02]]
    e0 = [1.0, 0.0]
    for ahead in ([0.6, 0.0], [0.0, 0.0], [-0.2, 0.0]):  # slower, standing, jostled back
        direction, _ = _step(pos, e0, velocity=[[1.3, 0.0], ahead], params=ADDED)
        assert abs(direction[0, 1]) < 0.01, ahead


def test_in_a_constriction_oncoming_people_are_still_evaded():
    pos = [[0.0, 0.0], [1.5, 0.05]]
    e0 = np.array([[1.0, 0.0], [-1.0, 0.0]])
    direction, _ = _step(pos, e0, velocity=[[1.3, 0.0], [-1.3, 0.0]], params=ADDED,
                         queue=[0, 1], narrow=[True, True])
    assert direction[0, 1] < -0.2


def test_the_progress_of_the_one_ahead_counts_as_free_space():
    # 0.3 m of free space; the one ahead walks on at 1 m/s: 0.3 + 0.15 * 1.0 = 0.45 m.
    pos = [[0.0, 0.0], [0.7, 0.0]]
    params = dataclasses.replace(ADDED, evasion_strength=0.0)
    _, still = _step(pos, [1.0, 0.0], velocity=[[0.0, 0.0], [0.0, 0.0]], params=params,
                     v0=[1.34, 0.0])
    _, walking = _step(pos, [1.0, 0.0], velocity=[[0.0, 0.0], [1.0, 0.0]], params=params,
                       v0=[1.34, 0.0])
    assert still[0] == pytest.approx(0.3 / 1.0, abs=1e-4)
    assert walking[0] == pytest.approx(0.45 / 1.0, abs=1e-4)


def test_in_a_constriction_people_walk_in_staggered_lanes_and_closer():
    # 0.25 m sideways: outside half the two radii (0.2 m), inside the two radii (0.4 m).
    pos = [[0.0, 0.0], [0.7, 0.25]]
    params = dataclasses.replace(ADDED, evasion_strength=0.0)
    kw = {"velocity": [[0.0, 0.0], [0.0, 0.0]], "params": params, "v0": [1.34, 0.0]}
    _, open_floor = _step(pos, [1.0, 0.0], narrow=[False, False], **kw)
    _, passage = _step(pos, [1.0, 0.0], narrow=[True, True], **kw)
    assert passage[0] == pytest.approx(1.34)
    assert open_floor[0] < 1.0
    # Straight behind, the narrow time gap applies: 0.3 m / 0.35 s.
    _, behind = _step([[0.0, 0.0], [0.7, 0.0]], [1.0, 0.0], narrow=[True, True], **kw)
    assert behind[0] == pytest.approx(0.3 / 0.35, abs=1e-4)
