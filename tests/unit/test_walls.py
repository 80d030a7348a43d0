"""Wall geometry: Floor.wall_segments and the bucketed WallIndex (near, closest, crosses)."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import Polygon, box

from sim.scenes.model import Floor
from sim.walls import build_wall_index


def _room_with_obstacles() -> Floor:
    """A 12 x 8 m room with a thin wall, a square column and a round (many-edged) pillar."""
    return Floor(
        id="G", elevation=0.0, walkable=box(0, 0, 12, 8),
        obstacles=(
            box(5.0, 0.0, 5.05, 6.0),                     # thin wall from the bottom edge
            box(8.0, 3.0, 8.6, 3.6),                      # square column
            shapely.Point(2.5, 5.0).buffer(0.7, 16),      # round pillar, 64 short edges
        ),
    )


def _min_dist(index, xy: np.ndarray) -> np.ndarray:
    _, dist = index.closest(xy, index.near(xy))
    return dist.min(axis=1)


# --------------------------------------------------------------------------- wall_segments


def test_wall_segments_cover_the_whole_boundary_of_the_area():
    floor = _room_with_obstacles()
    segs = floor.wall_segments()
    assert segs.ndim == 3 and segs.shape[1:] == (2, 2)
    lengths = np.hypot(*(segs[:, 1] - segs[:, 0]).T)
    assert np.all(lengths > 1e-9)
    assert lengths.sum() == pytest.approx(floor.area.boundary.length, rel=1e-9)
    # Every segment lies on the boundary (holes included).
    mids = 0.5 * (segs[:, 0] + segs[:, 1])
    assert np.all(shapely.distance(floor.area.boundary, shapely.points(mids)) < 1e-9)


def test_boundary_inside_an_exit_strip_is_not_a_wall():
    floor = Floor(id="G", elevation=0.0, walkable=box(0, 0, 10, 2))
    exit_strip = box(9.8, 0, 10, 2)
    segs = floor.wall_segments((exit_strip,))
    # The end x = 10 and the last 0.2 m of both long sides are gone.
    lengths = np.hypot(*(segs[:, 1] - segs[:, 0]).T)
    assert lengths.sum() == pytest.approx(24.0 - 2.0 - 2 * 0.2)
    pts = shapely.points(0.5 * (segs[:, 0] + segs[:, 1]))
    assert not np.any(shapely.intersects(exit_strip, pts))
    assert np.all(segs[..., 0] <= 9.8 + 1e-9)


def test_a_door_opening_in_the_middle_of_a_wall_is_cut_out():
    floor = Floor(id="G", elevation=0.0, walkable=box(0, 0, 10, 4))
    door = box(4.0, -0.2, 5.0, 0.2)  # straddles the bottom edge
    segs = floor.wall_segments((door,))
    lengths = np.hypot(*(segs[:, 1] - segs[:, 0]).T)
    assert lengths.sum() == pytest.approx(28.0 - 1.0)
    index = build_wall_index(floor, reach=1.0, openings=(door,))
    p = np.array([[4.5, 0.5], [2.0, 0.5]])
    q = np.array([[4.5, -0.5], [2.0, -0.5]])
    assert index.crosses(p, q, index.near(p)).tolist() == [False, True]


def test_moving_out_through_an_exit_crosses_no_wall_only_with_the_exit_as_opening():
    floor = Floor(id="G", elevation=0.0, walkable=box(0, 0, 10, 2))
    exit_strip = box(9.8, 0, 10, 2)
    p, q = np.array([[9.7, 1.0]]), np.array([[10.3, 1.0]])
    with_exit = build_wall_index(floor, reach=1.0, openings=(exit_strip,))
    without = build_wall_index(floor, reach=1.0)
    assert not with_exit.crosses(p, q, with_exit.near(p))[0]
    assert without.crosses(p, q, without.near(p))[0]


def test_a_floor_whose_walls_are_all_openings_has_only_the_dummy_segment():
    floor = Floor(id="G", elevation=0.0, walkable=box(0, 0, 2, 2))
    index = build_wall_index(floor, reach=0.5, openings=(box(-1, -1, 3, 3),))
    xy = np.array([[1.0, 1.0], [0.1, 0.1]])
    _, dist = index.closest(xy, index.near(xy))
    assert np.all(dist > 1e8)
    assert not index.crosses(xy, xy + 5.0, index.near(xy)).any()


# --------------------------------------------------------------------------- closest


@pytest.mark.parametrize("reach", [0.3, 0.8, 1.7])
def test_closest_distance_matches_shapely_within_reach(reach):
    floor = _room_with_obstacles()
    index = build_wall_index(floor, reach=reach)
    rng = np.random.default_rng(3)
    xy = rng.uniform([0, 0], [12, 8], size=(20000, 2))
    xy = xy[shapely.contains_xy(floor.area, xy[:, 0], xy[:, 1])]
    expected = shapely.distance(floor.area.boundary, shapely.points(xy))
    close = expected < reach
    assert close.sum() > 1000
    got = _min_dist(index, xy[close])
    np.testing.assert_allclose(got, expected[close], rtol=0, atol=1e-9)
    # Beyond reach the index may miss walls, but it never reports one closer than it is.
    far = _min_dist(index, xy[~close])
    assert np.all(far >= expected[~close] - 1e-9)


def test_closest_vector_points_from_the_agent_to_the_nearest_wall_point():
    floor = Floor(id="G", elevation=0.0, walkable=box(0, 0, 10, 10))
    index = build_wall_index(floor, reach=1.0)
    xy = np.array([[0.3, 5.0], [5.0, 9.6], [0.2, 0.4]])
    vec, dist = index.closest(xy, index.near(xy))
    best = vec[np.arange(3), dist.argmin(axis=1)]
    np.testing.assert_allclose(best, [[-0.3, 0.0], [0.0, 0.4], [-0.2, 0.0]], atol=1e-12)
    np.testing.assert_allclose(dist.min(axis=1), [0.3, 0.4, 0.2], atol=1e-12)


# --------------------------------------------------------------------------- crosses


@pytest.fixture(scope="module")
def thin_wall_index():
    """A 10 x 10 m room split by a 0.05 m thick wall at x = 5 from y = 2 to y = 8."""
    floor = Floor(id="G", elevation=0.0, walkable=box(0, 0, 10, 10),
                  obstacles=(box(5.0, 2.0, 5.05, 8.0),))
    return build_wall_index(floor, reach=0.6)


def test_a_step_across_a_thin_wall_is_a_crossing(thin_wall_index):
    w = thin_wall_index
    ys = np.linspace(2.1, 7.9, 30)
    # Short steps from just left to just right, and back; longer steps too.
    p = np.concatenate([np.column_stack([np.full(30, 4.98), ys]),
                        np.column_stack([np.full(30, 5.07), ys]),
                        np.column_stack([np.full(30, 4.6), ys])])
    q = np.concatenate([np.column_stack([np.full(30, 5.07), ys]),
                        np.column_stack([np.full(30, 4.98), ys]),
                        np.column_stack([np.full(30, 5.4), ys + 0.1])])
    assert w.crosses(p, q, w.near(p)).all()


def test_a_step_into_a_thin_wall_is_a_crossing(thin_wall_index):
    w = thin_wall_index
    p, q = np.array([[4.9, 5.0]]), np.array([[5.02, 5.0]])
    assert w.crosses(p, q, w.near(p))[0]


def test_a_step_parallel_to_a_thin_wall_is_not_a_crossing(thin_wall_index):
    w = thin_wall_index
    xs = np.array([4.9, 4.97, 5.08, 5.2])
    p = np.column_stack([xs, np.full(4, 3.0)])
    q = np.column_stack([xs, np.full(4, 3.5)])
    assert not w.crosses(p, q, w.near(p)).any()


def test_a_step_round_the_end_of_a_thin_wall_is_not_a_crossing(thin_wall_index):
    w = thin_wall_index
    p, q = np.array([[4.8, 8.2], [4.9, 1.9]]), np.array([[5.3, 8.2], [5.2, 1.8]])
    assert not w.crosses(p, q, w.near(p)).any()


def test_standing_still_away_from_walls_is_not_a_crossing(thin_wall_index):
    w = thin_wall_index
    p = np.array([[4.9, 5.0], [1.0, 1.0]])
    assert not w.crosses(p, p.copy(), w.near(p)).any()


# --------------------------------------------------------------------------- near (property)


_rects = st.tuples(
    st.floats(0.5, 9.0), st.floats(0.5, 5.0), st.floats(0.02, 1.5), st.floats(0.02, 1.5)
).map(lambda t: box(t[0], t[1], min(t[0] + t[2], 9.8), min(t[1] + t[3], 5.8)))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    obstacles=st.lists(_rects, max_size=5),
    reach=st.floats(0.05, 2.0),
    seed=st.integers(0, 2**32 - 1),
)
def test_every_segment_within_reach_of_a_point_is_a_candidate(obstacles, reach, seed):
    walkable = Polygon([(0, 0), (10, 0), (10, 6), (4, 6), (4, 4.5), (0, 4.5)])
    floor = Floor(id="G", elevation=0.0, walkable=walkable, obstacles=tuple(obstacles))
    if floor.area.is_empty:
        return
    index = build_wall_index(floor, reach=reach)
    assert index.reach == reach
    segs = floor.wall_segments()
    rng = np.random.default_rng(seed)
    minx, miny, maxx, maxy = walkable.bounds
    # Points over the whole floor box and a little beyond it.
    xy = rng.uniform([minx - 0.4, miny - 0.4], [maxx + 0.4, maxy + 0.4], size=(300, 2))
    d = shapely.distance(shapely.linestrings(segs)[None, :], shapely.points(xy)[:, None])
    cand = index.near(xy)
    listed = np.zeros_like(d, dtype=bool)
    rows = np.repeat(np.arange(len(xy)), cand.shape[1])
    ok = cand.ravel() < len(segs)
    listed[rows[ok], cand.ravel()[ok]] = True
    missing = (d <= reach) & ~listed
    assert not missing.any(), (
        f"{missing.sum()} segments within reach {reach} not listed, e.g. point "
        f"{xy[np.nonzero(missing)[0][0]]}"
    )


def test_candidates_are_padded_with_the_far_dummy_segment():
    floor = Floor(id="G", elevation=0.0, walkable=box(0, 0, 10, 10))
    index = build_wall_index(floor, reach=0.5)
    dummy = len(index.a) - 1
    assert dummy == len(floor.wall_segments())
    # Deep inside the room no wall is within reach: only the dummy is listed.
    centre = index.near(np.array([[5.0, 5.0]]))
    assert np.all(centre == dummy)
    # In a corner both walls are listed.
    corner = set(index.near(np.array([[0.1, 0.1]]))[0].tolist()) - {dummy}
    assert len(corner) == 2


# --------------------------------------------------------------------------- compiled kernels


def _near_walls(n: int, rng: np.random.Generator):
    """The obstacle room's index, and those of ``n`` random points inside it that have a
    wall within reach, with their candidate walls."""
    floor = _room_with_obstacles()
    index = build_wall_index(floor, reach=0.6)
    xy = rng.uniform([0, 0], [12, 8], size=(n, 2))
    xy = xy[shapely.contains_xy(floor.area, xy[:, 0], xy[:, 1])]
    has, cand = index.near_some(xy)
    return index, xy[has], cand


def test_the_wall_force_kernel_equals_the_padded_array_computation():
    from sim.agents.model import MAX_EXPONENT, wall_repulsion
    from sim.scenario import ModelParams

    rng = np.random.default_rng(5)
    index, pts, cand = _near_walls(5000, rng)
    r = rng.uniform(0.15, 0.3, len(pts))
    p = ModelParams()
    vec, dist = index.closest(pts, cand)
    expected = wall_repulsion(r, vec, dist, p)
    got = index.forces(pts, r, cand, p.wall_strength, p.wall_range, MAX_EXPONENT)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


def test_the_keep_off_kernel_pushes_out_and_refuses_crossings_as_the_arrays_did():
    rng = np.random.default_rng(6)
    index, p, cand = _near_walls(20000, rng)
    q = p + rng.normal(0, 0.15, p.shape)
    r = np.full(len(p), 0.2)
    # The array computation the kernel replaced.
    vec, dist = index.closest(q, cand)
    k = dist.argmin(axis=1)
    dmin = dist[np.arange(len(q)), k]
    close = dmin < r
    pushed = q.copy()
    pushed[close] -= vec[close, k[close]] * ((r[close] - dmin[close])
                                             / np.maximum(dmin[close], 1e-9))[:, None]
    _, dist2 = index.closest(pushed, cand)
    bad = index.crosses(p, pushed, cand) | (dist2.min(axis=1) < 0.999 * r)
    expected = np.where(bad[:, None], p, pushed)
    got = index.keep_off(p, q, r, cand)
    assert close.sum() > 100 and bad.sum() > 10
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)
