"""Navigation fields: rasters, distance-to-exit fields, their directions and the cache."""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
from shapely.geometry import Polygon, box

from sim.nav import build_navigation
from sim.scenes.model import Exit, Floor, Scene

CELL = 0.15


def _scene(walkable: Polygon, exits: list[Polygon], obstacles: tuple[Polygon, ...] = (),
           name: str = "test") -> Scene:
    floor = Floor(id="G", elevation=0.0, walkable=walkable, obstacles=obstacles)
    return Scene(name=name, floors=(floor,), exits=tuple(
        Exit(id=f"E{i}", floor=0, polygon=p, width=1.0) for i, p in enumerate(exits)))


def _at(nav, xy, exit_index: int = 0):
    """Distance and direction to an exit at the cells of points ``xy``."""
    cells = nav.grids[0].cells(np.asarray(xy, dtype=float))
    return nav.distance[0][exit_index][cells], nav.direction[0][exit_index][cells]


# An L-shaped corridor, 2 m wide: east along y in [0, 2], then north along x in [8, 10].
L_SHAPE = Polygon([(0, 0), (10, 0), (10, 10), (8, 10), (8, 2), (0, 2)])
L_EXIT = box(8, 9.8, 10, 10)


@pytest.fixture(scope="module")
def l_nav():
    return build_navigation(_scene(L_SHAPE, [L_EXIT], name="L"), CELL)


def _l_route() -> np.ndarray:
    """Points every 0.5 m along the centre line, from the far end to the exit."""
    east = [(x, 1.0) for x in np.arange(0.5, 9.0, 0.5)]
    north = [(9.0, y) for y in np.arange(1.0, 9.8, 0.5)]
    return np.array(east + north)


# --------------------------------------------------------------------------- L corridor


def test_distance_falls_steadily_along_the_route_to_the_exit(l_nav):
    route = _l_route()
    dist, _ = _at(l_nav, route)
    assert np.all(np.isfinite(dist))
    assert np.all(np.diff(dist) < -0.01), np.round(dist, 2)


def test_distance_round_the_corner_exceeds_the_straight_line(l_nav):
    start = np.array([[0.5, 1.0]])
    dist, _ = _at(l_nav, start)
    straight = math.dist((0.5, 1.0), (9.0, 9.8))
    # The route must go round the inner corner (8, 2): at least via that point.
    via_corner = math.dist((0.5, 1.0), (8.0, 2.0)) + math.dist((8.0, 2.0), (8.0, 9.8))
    assert dist[0] > straight + 2.0
    assert dist[0] >= 0.95 * via_corner


def test_direction_at_the_corner_points_round_it_not_into_a_wall(l_nav):
    corner = np.array([[9.0, 1.0], [8.6, 1.0], [9.0, 1.4]])
    _, e = _at(l_nav, corner)
    # North-ish (towards the exit leg), never east or south into the outer walls.
    assert np.all(e[:, 1] > 0.5), e
    assert np.all(e[:, 0] > -0.2), e
    ahead = corner + 0.5 * e
    assert np.all(shapely.contains_xy(L_SHAPE, ahead[:, 0], ahead[:, 1]))


def test_direction_before_the_corner_points_east_along_the_corridor(l_nav):
    _, e = _at(l_nav, [[3.0, 1.0], [6.0, 1.0], [7.5, 1.5]])
    assert np.all(e[:, 0] > 0.7), e


def test_directions_are_unit_and_a_short_step_along_them_stays_inside(l_nav):
    g = l_nav.grids[0]
    gx, gy = g.centres()
    # Cells inside the exit are left out: an agent whose centre is there has left.
    walk = (g.walkable & ~shapely.contains_xy(L_EXIT, gx, gy)).ravel()
    pts = np.column_stack([gx.ravel(), gy.ravel()])[walk]
    e = l_nav.direction[0][0][walk]
    np.testing.assert_allclose(np.hypot(e[:, 0], e[:, 1]), 1.0, atol=1e-5)
    ahead = pts + 0.2 * e
    assert np.all(shapely.contains_xy(L_SHAPE, ahead[:, 0], ahead[:, 1]))


def test_cells_inside_the_exit_have_distance_zero(l_nav):
    g = l_nav.grids[0]
    gx, gy = g.centres()
    inside = shapely.contains_xy(L_EXIT, gx, gy) & g.walkable
    assert inside.sum() >= 5
    dist = l_nav.distance[0][0].reshape(g.ny, g.nx)
    assert np.all(dist[inside] == 0.0)
    assert np.all(dist[g.walkable & ~inside] > 0.0)


@pytest.mark.parametrize(("length", "strip", "cell"), [
    (10.0, 0.2, 0.15),
    (40.0, 0.2, 0.2),
    (10.0, 0.2, 0.2),    # the corridor example's 0.2 m strip at the largest allowed cell
    (20.0, 0.2, 0.2),
    (10.0, 0.1, 0.15),
    (10.0, 0.05, 0.1),
])
def test_a_thin_exit_strip_along_the_outline_gets_distance_zero_cells(length, strip, cell):
    # The docs allow an exit drawn as a thin strip along the outline, thinner than a cell.
    exit_strip = box(length - strip, 0, length, 2)
    nav = build_navigation(_scene(box(0, 0, length, 2), [exit_strip]), cell)
    dist = nav.distance[0][0]
    assert dist[np.isfinite(dist)].min() == 0.0
    d, _ = _at(nav, [[length - 0.5, 1.0], [length - 6.0, 1.0]])
    assert d[0] < 1.0
    assert 5.0 < d[1] < 7.0


# --------------------------------------------------------------------------- thin walls


@pytest.mark.parametrize("offset", [0.0, 0.02, 0.07, 0.11])
def test_a_thin_wall_without_opening_cuts_off_the_far_side(offset):
    wall = box(5.0 + offset, 0.0, 5.05 + offset, 4.0)  # thinner than a cell
    nav = build_navigation(_scene(box(0, 0, 10, 4), [box(9, 0, 10, 4)], (wall,)), CELL)
    dist, e = _at(nav, [[2.0, 2.0], [4.85 + offset, 0.5], [4.9 + offset, 3.5],
                        [5.2 + offset, 2.0]])
    assert np.all(np.isinf(dist[:3])), dist
    assert np.all(e[:3] == 0.0)
    assert np.isfinite(dist[3])


@pytest.mark.parametrize("offset", [0.0, 0.07])
def test_a_thin_wall_with_a_far_door_forces_the_long_way_round(offset):
    # 10 x 20 m room; the wall at x = 5 leaves a 1 m door at the top, the exit is bottom right.
    wall = box(5.0 + offset, 0.0, 5.05 + offset, 19.0)
    nav = build_navigation(_scene(box(0, 0, 10, 20), [box(9.5, 0, 10, 1)], (wall,)), CELL)
    left, right = (4.8 + offset, 0.5), (5.3 + offset, 0.5)
    dist, e = _at(nav, [left, right, (2.5, 3.0)])
    straight = math.dist(left, (9.5, 0.5))
    assert dist[0] > 3 * straight, dist
    assert dist[0] > 2 * 18.0  # up to the door and down again
    assert dist[1] < 1.5 * math.dist(right, (9.5, 0.5))
    assert e[2, 1] > 0.9, e  # in the open, head north to the door, not east to the wall


def test_a_diagonal_thin_wall_also_cuts_off_the_far_side():
    # A 0.04 m wall along y = x + 2 across the whole room (extends beyond it).
    wall = Polygon([(-1, 1), (9, 11), (9.03, 10.97), (-0.97, 0.97)])
    nav = build_navigation(_scene(box(0, 0, 8, 8), [box(7, 0, 8, 1)], (wall,)), CELL)
    dist, _ = _at(nav, [[1.0, 6.0], [3.0, 5.4], [3.0, 4.6], [6.0, 2.0]])
    assert np.all(np.isinf(dist[:2])), dist
    assert np.all(np.isfinite(dist[2:])), dist


# --------------------------------------------------------------------------- cache, raster


def test_building_twice_returns_the_cached_object(l_nav):
    again = build_navigation(_scene(L_SHAPE, [L_EXIT], name="another name"), CELL)
    assert again is l_nav


def test_a_different_scene_or_cell_size_is_not_served_from_the_cache(l_nav):
    other_exit = build_navigation(_scene(L_SHAPE, [box(0, 0, 0.5, 2)]), CELL)
    other_cell = build_navigation(_scene(L_SHAPE, [L_EXIT]), 0.1)
    assert other_exit is not l_nav and other_cell is not l_nav
    assert other_cell.grids[0].cell == 0.1


def test_fields_are_read_only(l_nav):
    with pytest.raises(ValueError):
        l_nav.distance[0][0, 0] = 1.0
    with pytest.raises(ValueError):
        l_nav.direction[0][0, 0, 0] = 1.0


def test_grid_arrays_are_read_only(l_nav):
    # The grids are shared through the cache like the fields: writing to them must fail.
    g = l_nav.grids[0]
    names = ("walkable", "nearest", "wall_distance")
    assert [n for n in names if getattr(g, n).flags.writeable] == []


def test_cells_maps_points_in_blocked_cells_to_the_nearest_walkable_cell():
    column = box(4.0, 1.0, 6.0, 3.0)
    nav = build_navigation(_scene(box(0, 0, 10, 4), [box(9, 0, 10, 4)], (column,)), CELL)
    g = nav.grids[0]
    gx, gy = g.centres()
    centres = np.column_stack([gx.ravel(), gy.ravel()])
    walk = g.walkable.ravel()
    rng = np.random.default_rng(5)
    # Points in the column, on walls and outside the floor (beyond the raster too).
    pts = np.concatenate([
        rng.uniform([4.0, 1.0], [6.0, 3.0], (200, 2)),
        rng.uniform([-2.0, -2.0], [12.0, 6.0], (400, 2)),
        np.array([[0.0, 0.0], [10.0, 4.0], [5.0, 2.0], [-50.0, 50.0]]),
    ])
    cells = g.cells(pts)
    assert np.all(walk[cells])
    # The cell of each point, clipped to the raster; its nearest walkable cell is picked.
    ix = np.clip(((pts[:, 0] - g.x0) / g.cell).astype(int), 0, g.nx - 1)
    iy = np.clip(((pts[:, 1] - g.y0) / g.cell).astype(int), 0, g.ny - 1)
    own = centres[iy * g.nx + ix]
    best = np.min(np.hypot(*(own[:, None, :] - centres[walk][None, :, :]).transpose(2, 0, 1)),
                  axis=1)
    got = np.hypot(*(own - centres[cells]).T)
    np.testing.assert_allclose(got, best, atol=1e-9)


def test_cells_maps_points_in_walkable_cells_to_their_own_cell(l_nav):
    g = l_nav.grids[0]
    gx, gy = g.centres()
    walk = g.walkable.ravel()
    pts = np.column_stack([gx.ravel(), gy.ravel()])[walk]
    jitter = np.random.default_rng(1).uniform(-0.45, 0.45, pts.shape) * g.cell
    assert np.array_equal(g.cells(pts + jitter), np.flatnonzero(walk))


def test_cells_inside_an_obstacle_are_blocked_and_far_from_walls_are_walkable():
    column = box(4.0, 1.0, 6.0, 3.0)
    nav = build_navigation(_scene(box(0, 0, 10, 4), [box(9, 0, 10, 4)], (column,)), CELL)
    g = nav.grids[0]
    gx, gy = g.centres()
    in_column = shapely.contains_xy(column, gx, gy)
    assert in_column.any() and not g.walkable[in_column].any()
    area = shapely.difference(box(0, 0, 10, 4), column)
    clear = shapely.contains_xy(area.buffer(-g.cell), gx, gy)
    assert g.walkable[clear].all()
