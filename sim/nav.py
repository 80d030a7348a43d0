"""Navigation fields per floor: a walkable raster, wall distance and distance-to-exit fields.

Fields are computed by fast marching (scikit-fmm) on a raster of the walkable area, one per
exit, with a speed that falls off near walls so that routes keep clear of corners. They
are cached by content, so several runs of the same scene (or closing and reopening an
exit) never compute one twice. An agent's desired direction is the downhill direction of
its target exit's field, looked up at the cell it stands in.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import shapely
import skfmm
from scipy import ndimage
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import shortest_path
from shapely.geometry import Polygon

from sim.errors import ScenarioError
from sim.scenes.model import Floor, Scene

__all__ = ["FloorGrid", "Navigation", "build_navigation", "clear_cache", "route_to",
           "stair_cost"]

WALL_CLEARANCE = 0.6
"""Within this distance of a wall (m) routes are penalised, so paths round corners."""
NEAR_WALL_SPEED = 0.25
"""Relative route speed on a wall, rising linearly to 1 at WALL_CLEARANCE."""
NARROW_REACH = 0.5
"""How far around a cell :func:`clear_width` looks for the middle of its passage, m."""


@dataclass(frozen=True, eq=False)
class FloorGrid:
    """The raster of one floor. Cells are indexed flat: ``iy * nx + ix``."""

    x0: float
    """x of the lower-left corner of the raster, m."""
    y0: float
    cell: float
    """Cell size, m."""
    nx: int
    ny: int
    walkable: np.ndarray
    """(ny, nx) bool: cell centre inside the walkable area and no wall through the cell."""
    nearest: np.ndarray
    """(ny*nx,) int32: flat index of the nearest walkable cell (itself when walkable)."""
    wall_distance: np.ndarray
    """(ny, nx) float32: distance from the cell centre to the nearest blocked cell, m."""

    def cells(self, xy: np.ndarray) -> np.ndarray:
        """Flat index of the nearest walkable cell for each point of ``xy`` (n, 2), m."""
        # minimum/maximum: np.clip's overhead is most of the cost for a few hundred points
        ix = np.minimum(np.maximum(((xy[:, 0] - self.x0) / self.cell).astype(np.int64), 0),
                        self.nx - 1)
        iy = np.minimum(np.maximum(((xy[:, 1] - self.y0) / self.cell).astype(np.int64), 0),
                        self.ny - 1)
        return self.nearest[iy * self.nx + ix]

    def centres(self) -> tuple[np.ndarray, np.ndarray]:
        """x and y of every cell centre, each (ny, nx), m."""
        xs = self.x0 + (np.arange(self.nx) + 0.5) * self.cell
        ys = self.y0 + (np.arange(self.ny) + 0.5) * self.cell
        return np.meshgrid(xs, ys)


def clear_width(grid: FloorGrid, reach: float = NARROW_REACH) -> np.ndarray:
    """(ny, nx) float32 clear width of the passage each cell lies in, m.

    Twice the largest distance to a wall found within ``reach`` of the cell: a cell of a
    corridor ``w`` wide gets ``w``; a cell of a room, or within ``reach`` of one, more.
    """
    k = max(1, int(round(reach / grid.cell)))
    yy, xx = np.mgrid[-k:k + 1, -k:k + 1]
    disc = xx * xx + yy * yy <= k * k
    widest = ndimage.maximum_filter(grid.wall_distance, footprint=disc, mode="constant")
    return (2.0 * widest).astype(np.float32)


def _rasterise(floor: Floor, cell: float, openings: tuple[Polygon, ...] = ()) -> FloorGrid:
    area = floor.area
    minx, miny, maxx, maxy = area.bounds
    x0, y0 = minx - cell, miny - cell
    nx = int(np.ceil((maxx - x0) / cell)) + 2
    ny = int(np.ceil((maxy - y0) / cell)) + 2
    xs = x0 + (np.arange(nx) + 0.5) * cell
    ys = y0 + (np.arange(ny) + 0.5) * cell
    gx, gy = np.meshgrid(xs, ys)
    shapely.prepare(area)
    walkable = shapely.contains_xy(area, gx, gy)
    # Block every cell a wall passes through, so that walls thinner than a cell still
    # separate the raster (and the fields) on both sides.
    segs = floor.wall_segments(openings)
    if len(segs):
        length = np.hypot(*(segs[:, 1] - segs[:, 0]).T)
        n = np.maximum(2, np.ceil(length / (cell / 3)).astype(int) + 1)
        seg_of = np.repeat(np.arange(len(segs)), n)
        start = np.cumsum(n) - n
        s = (np.arange(n.sum()) - np.repeat(start, n)) / np.repeat(n - 1, n)
        pts = segs[seg_of, 0] + (segs[seg_of, 1] - segs[seg_of, 0]) * s[:, None]
        ix = np.clip(((pts[:, 0] - x0) / cell).astype(int), 0, nx - 1)
        iy = np.clip(((pts[:, 1] - y0) / cell).astype(int), 0, ny - 1)
        walkable[iy, ix] = False
    if not walkable.any():
        raise ScenarioError(
            f"floor '{floor.id}': no walkable cell at cell size {cell} m "
            "(area too small or too narrow)"
        )
    dist, (iy_n, ix_n) = ndimage.distance_transform_edt(~walkable, return_indices=True)
    nearest = (iy_n * nx + ix_n).astype(np.int32).ravel()
    wall_distance = (ndimage.distance_transform_edt(walkable) * cell).astype(np.float32)
    for a in (walkable, nearest, wall_distance):
        a.flags.writeable = False
    return FloorGrid(x0=x0, y0=y0, cell=cell, nx=nx, ny=ny, walkable=walkable,
                     nearest=nearest, wall_distance=wall_distance)


def _downhill(t: np.ndarray, valid: np.ndarray, cell: float) -> np.ndarray:
    """Unit vectors of -grad t on valid cells, (ny, nx, 2) float32.

    Central differences where both neighbours are valid, one-sided next to blocked cells.
    """
    t = t.astype(np.float32)
    out = np.zeros((*t.shape, 2), np.float32)
    for c, axis in ((0, 1), (1, 0)):  # x then y
        tp = np.swapaxes(t, 0, axis)
        vp = np.swapaxes(valid, 0, axis)
        g = np.zeros_like(tp)
        fwd = np.zeros_like(vp)
        bwd = np.zeros_like(vp)
        fwd[:-1] = vp[1:] & vp[:-1]
        bwd[1:] = vp[:-1] & vp[1:]
        diff = tp[1:] - tp[:-1]  # t[i+1] - t[i]
        g[:-1] += np.where(fwd[:-1], diff, 0.0)
        g[1:] += np.where(bwd[1:], diff, 0.0)
        g /= np.maximum(fwd.astype(np.float32) + bwd, 1.0)
        np.swapaxes(out[..., c], 0, axis)[...] = -g
    norm = np.hypot(out[..., 0], out[..., 1])
    ok = valid & (norm > 1e-12)
    out /= np.where(ok, norm, 1.0)[..., None]
    out[~ok] = 0.0
    # On ridges and saddles (e.g. midway between two doors) central differences cancel and
    # an agent would dither there; head for the steepest lower neighbour instead.
    flat = np.flatnonzero(valid & (norm < 0.5 * cell))
    if len(flat):
        steep = _steepest_neighbour(t, valid, flat)
        use = np.abs(steep).sum(axis=-1) > 0
        out.reshape(-1, 2)[flat[use]] = steep[use]
    return out


def _steepest_neighbour(t: np.ndarray, valid: np.ndarray, cells: np.ndarray) -> np.ndarray:
    """Unit vectors from ``cells`` (flat indices) to their 8-neighbour of steepest descent of
    t: (len(cells), 2) float32, zero where no neighbour is lower."""
    ny, nx = t.shape
    pad = np.pad(np.where(valid, t, np.inf).astype(np.float32), 1, constant_values=np.inf)
    iy, ix = np.divmod(cells, nx)
    here = pad[iy + 1, ix + 1]
    best = np.zeros(len(cells), np.float32)
    out = np.zeros((len(cells), 2), np.float32)
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            if dx == dy == 0:
                continue
            length = np.hypot(dx, dy)
            with np.errstate(invalid="ignore"):
                slope = (here - pad[iy + 1 + dy, ix + 1 + dx]) / length
            better = slope > best
            best[better] = slope[better]
            out[better] = (dx / length, dy / length)
    return out


def _cells_in(grid: FloorGrid, poly: Polygon) -> np.ndarray:
    """Walkable cells whose centre lies in ``poly`` (or, for a thin strip, that it touches)."""
    gx, gy = grid.centres()
    inside = shapely.contains_xy(poly, gx, gy) & grid.walkable
    if not inside.any():
        rings = shapely.get_exterior_ring(shapely.get_parts(poly))
        c = shapely.get_coordinates(shapely.segmentize(rings, grid.cell / 3))
        ix = np.clip(((c[:, 0] - grid.x0) / grid.cell).astype(int), 0, grid.nx - 1)
        iy = np.clip(((c[:, 1] - grid.y0) / grid.cell).astype(int), 0, grid.ny - 1)
        inside[iy, ix] = True
        inside &= grid.walkable
    return inside


def _travel(grid: FloorGrid, inside: np.ndarray, speed: np.ndarray, what: str) -> np.ndarray:
    """Route length from the cells ``inside`` over the floor, (ny, nx) float32 (inf: none)."""
    valid = grid.walkable
    phi = np.ma.MaskedArray(np.where(inside, -1.0, 1.0), mask=~valid)
    try:
        t = skfmm.travel_time(phi, speed, dx=grid.cell, order=1)
    except ValueError as exc:  # pragma: no cover - skfmm refuses degenerate inputs
        raise ScenarioError(f"{what}: fast marching failed ({exc})") from None
    reach = ~np.ma.getmaskarray(t) & valid
    tt = np.where(reach, np.ma.getdata(t), np.inf).astype(np.float32)
    tt[inside] = 0.0
    return tt


def _directions(grid: FloorGrid, t: np.ndarray, exit_cells: np.ndarray | None) -> np.ndarray:
    """Unit directions down the field ``t`` (ny, nx): (ny*nx, 2) float32.

    Inside the exit's own cells (``exit_cells``) the field is flat: head deeper in.
    """
    reach = np.isfinite(t) & grid.walkable
    direction = _downhill(np.where(reach, t, 0.0), reach, grid.cell)
    if exit_cells is not None and exit_cells.any():
        iy, ix = np.nonzero(exit_cells)
        box = (slice(max(iy.min() - 1, 0), iy.max() + 2),
               slice(max(ix.min() - 1, 0), ix.max() + 2))
        depth = ndimage.distance_transform_edt(exit_cells[box])
        sub = direction[box]
        sub[exit_cells[box]] = _downhill(-depth, exit_cells[box], grid.cell)[exit_cells[box]]
    direction[~reach] = 0.0
    return direction.reshape(-1, 2)


def route_to(grid: FloorGrid, xy: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """A field leading to the point ``xy`` (m) over one floor, kept off walls as the exits'.

    Returns (route length to the point per cell (ny*nx,) float32 m, inf where it cannot be
    reached; unit directions towards it (ny*nx, 2) float32). About 40 ms on a mall floor.
    """
    inside = np.zeros((grid.ny, grid.nx), bool)
    inside.flat[grid.cells(np.array([xy], float))[0]] = True
    speed = np.clip(NEAR_WALL_SPEED + (1 - NEAR_WALL_SPEED) * grid.wall_distance
                    / WALL_CLEARANCE, NEAR_WALL_SPEED, 1.0)
    t = _travel(grid, inside, speed, "route")
    return t.reshape(-1), _directions(grid, t, None)


@dataclass(frozen=True, eq=False)
class Navigation:
    """The navigation fields of a scene: one raster per floor, one field per exit.

    Fields span floors: on a floor without the exit, the route runs over the stairs.
    Stair ends are numbered ``j = 2 * stair + end`` (end 0: ``Stair.areas[0]``).
    """

    grids: tuple[FloorGrid, ...]
    distance: tuple[np.ndarray, ...]
    """Per floor, (n_exits, ny*nx) float32 route length to each exit, m (inf: unreachable)."""
    direction: tuple[np.ndarray, ...]
    """Per floor, (n_exits, ny*nx, 2) float32 unit directions towards each exit."""
    speed_factor: tuple[np.ndarray, ...]
    """Per floor, (ny*nx,) float32 walking speed factor of each cell (speed zones)."""
    clear_width: tuple[np.ndarray, ...]
    """Per floor, (ny*nx,) float32 clear width of the passage each cell lies in, m."""
    end_cells: tuple[np.ndarray, ...]
    """Per floor, (ny*nx,) int16 stair end whose area holds the cell, or -1."""
    via: np.ndarray
    """(2 * n_stairs, n_exits) float32 route length from boarding stair end j to exit e, m."""


_CACHE: dict[str, Navigation] = {}


def clear_cache() -> None:
    """Forget every cached navigation (for benchmarks that time their construction)."""
    _CACHE.clear()


def _scene_key(scene: Scene, cell: float) -> str:
    h = hashlib.sha256(f"{cell!r}".encode())
    for f in scene.floors:
        h.update(shapely.to_wkb(f.area))
        h.update(repr(f.elevation).encode())
        for z in f.zones:
            h.update(shapely.to_wkb(z.polygon) + repr(z.factor).encode())
    for e in scene.exits:
        h.update(f"{e.floor}".encode())
        h.update(shapely.to_wkb(e.polygon))
    for st in scene.stairs:
        h.update(repr((st.floors, st.length, st.speed_down, st.speed_up)).encode())
        h.update(shapely.to_wkb(st.areas[0]) + shapely.to_wkb(st.areas[1]))
    return h.hexdigest()


def stair_cost(scene: Scene, stair: int, end: int) -> float:
    """Route length equivalent of walking stair ``stair`` from ``end`` to the other, m."""
    st = scene.stairs[stair]
    down = scene.floors[st.floors[end]].elevation >= scene.floors[st.floors[1 - end]].elevation
    return st.length / (st.speed_down if down else st.speed_up)


def build_navigation(scene: Scene, cell: float) -> Navigation:
    """Rasterise every floor and compute a distance field per exit (cached by content)."""
    key = _scene_key(scene, cell)
    if key in _CACHE:
        return _CACHE[key]
    n_exits = len(scene.exits)
    ends = [(2 * s + k, st.floors[k], st.areas[k])
            for s, st in enumerate(scene.stairs) for k in (0, 1)]
    grids, factors, end_maps, widths = [], [], [], []
    exit_t: dict[int, np.ndarray] = {}
    exit_in: dict[int, np.ndarray] = {}
    end_t: dict[int, np.ndarray] = {}
    for fi, floor in enumerate(scene.floors):
        grid = _rasterise(floor, cell, tuple(e.polygon for e in scene.exits if e.floor == fi))
        factor = np.ones((grid.ny, grid.nx), np.float32)
        gx, gy = grid.centres()
        for z in floor.zones:
            factor = np.where(shapely.contains_xy(z.polygon, gx, gy),
                              np.minimum(factor, z.factor), factor)
        speed = factor * np.clip(
            NEAR_WALL_SPEED + (1 - NEAR_WALL_SPEED) * grid.wall_distance / WALL_CLEARANCE,
            NEAR_WALL_SPEED, 1.0,
        )
        for ei, ex in enumerate(scene.exits):
            if ex.floor == fi:
                inside = _cells_in(grid, ex.polygon)
                if not inside.any():
                    raise ScenarioError(f"exit '{ex.id}' covers no walkable cell of its floor "
                                        f"at cell size {cell} m", field=f"exits[{ei}].polygon")
                exit_in[ei] = inside
                exit_t[ei] = _travel(grid, inside, speed, f"exit '{ex.id}'")
        end_map = np.full(grid.nx * grid.ny, -1, np.int16)
        for j, f, area in ends:
            if f == fi:
                inside = _cells_in(grid, area)
                if not inside.any():
                    raise ScenarioError(
                        f"stair '{scene.stairs[j // 2].id}': its end on floor '{floor.id}' "
                        f"covers no walkable cell at cell size {cell} m",
                        field=f"stairs[{j // 2}].{('from', 'to')[j % 2]}.area")
                claimed = end_map[inside.ravel()]
                if np.count_nonzero(claimed >= 0) > claimed.size // 2:
                    other = scene.stairs[int(np.bincount(claimed[claimed >= 0]).argmax()) // 2]
                    raise ScenarioError(
                        f"stair '{scene.stairs[j // 2].id}': its end on floor '{floor.id}' "
                        f"lies on an end of stair '{other.id}'; give each stair end its own "
                        "area (whoever stands there could not tell which stair to take)",
                        field=f"stairs[{j // 2}].{('from', 'to')[j % 2]}.area")
                end_map[inside.ravel()] = j
                end_t[j] = _travel(grid, inside, speed, f"stair '{scene.stairs[j // 2].id}'")
        grids.append(grid)
        widths.append(clear_width(grid).ravel())
        factors.append(factor.ravel())
        end_maps.append(end_map)
    via = _stair_routes(scene, grids, exit_t, end_t)
    dists, dirs = [], []
    for fi, grid in enumerate(grids):
        ncell = grid.nx * grid.ny
        dist = np.full((n_exits, ncell), np.inf, np.float32)
        dirn = np.zeros((n_exits, ncell, 2), np.float32)
        for ei in range(n_exits):
            t = exit_t[ei].copy() if scene.exits[ei].floor == fi else np.full(
                (grid.ny, grid.nx), np.inf, np.float32)
            for j, f, _ in ends:
                if f == fi and np.isfinite(via[j, ei]):
                    np.minimum(t, end_t[j] + via[j, ei], out=t)
            dist[ei] = t.ravel()
            dirn[ei] = _directions(grid, t, exit_in.get(ei) if scene.exits[ei].floor == fi
                                   else None)
        dists.append(dist)
        dirs.append(dirn)
    for a in (*dists, *dirs, *factors, *widths, *end_maps, via):
        a.flags.writeable = False
    nav = Navigation(grids=tuple(grids), distance=tuple(dists), direction=tuple(dirs),
                     speed_factor=tuple(factors), clear_width=tuple(widths),
                     end_cells=tuple(end_maps), via=via)
    _CACHE[key] = nav
    return nav


def _stair_routes(scene: Scene, grids: list[FloorGrid], exit_t: dict[int, np.ndarray],
                  end_t: dict[int, np.ndarray]) -> np.ndarray:
    """Shortest route length from boarding each stair end to each exit: (n_ends, n_exits).

    A small graph: boarding end j costs the stair, then from its landing either an exit
    on that floor or the boarding of another stair end there.
    """
    n_ends, n_exits = 2 * len(scene.stairs), len(scene.exits)
    if n_ends == 0:
        return np.zeros((0, n_exits), np.float32)
    n = n_ends + n_exits
    w = np.full((n, n), np.inf)
    for s, st in enumerate(scene.stairs):
        for k in (0, 1):
            j, land_floor = 2 * s + k, st.floors[1 - k]
            grid = grids[land_floor]
            p = st.areas[1 - k].representative_point()
            cell = int(grid.cells(np.array([[p.x, p.y]]))[0])
            cost = stair_cost(scene, s, k)
            for ei, ex in enumerate(scene.exits):
                if ex.floor == land_floor:
                    w[j, n_ends + ei] = cost + exit_t[ei].ravel()[cell]
            for j2 in range(n_ends):
                s2, k2 = divmod(j2, 2)
                if scene.stairs[s2].floors[k2] == land_floor and j2 != 2 * s + (1 - k):
                    w[j, j2] = cost + end_t[j2].ravel()[cell]
    w[~np.isfinite(w)] = 0.0  # csgraph: zero means no edge
    dist = shortest_path(csr_matrix(w), method="D", directed=True)
    return dist[:n_ends, n_ends:].astype(np.float32)
