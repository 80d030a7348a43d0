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
from shapely.geometry import Polygon

from sim.errors import ScenarioError
from sim.scenes.model import Exit, Floor, Scene

__all__ = ["ExitField", "FloorGrid", "Navigation", "build_navigation"]

WALL_CLEARANCE = 0.6
"""Within this distance of a wall (m) routes are penalised, so paths round corners."""
NEAR_WALL_SPEED = 0.25
"""Relative route speed on a wall, rising linearly to 1 at WALL_CLEARANCE."""


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
        ix = np.clip(((xy[:, 0] - self.x0) / self.cell).astype(np.int64), 0, self.nx - 1)
        iy = np.clip(((xy[:, 1] - self.y0) / self.cell).astype(np.int64), 0, self.ny - 1)
        return self.nearest[iy * self.nx + ix]

    def centres(self) -> tuple[np.ndarray, np.ndarray]:
        """x and y of every cell centre, each (ny, nx), m."""
        xs = self.x0 + (np.arange(self.nx) + 0.5) * self.cell
        ys = self.y0 + (np.arange(self.ny) + 0.5) * self.cell
        return np.meshgrid(xs, ys)


@dataclass(frozen=True, eq=False)
class ExitField:
    """Distance to one exit over one floor, and the direction that descends it."""

    distance: np.ndarray
    """(ny*nx,) float32: route length to the exit, m (wall-penalised); inf if unreachable."""
    direction: np.ndarray
    """(ny*nx, 2) float32: unit vector towards the exit (zero where unreachable)."""


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
    flat = valid & (norm < 0.5 * cell)
    if flat.any():
        steep = _steepest_neighbour(t, valid)
        use = flat & (np.abs(steep).sum(axis=-1) > 0)
        out[use] = steep[use]
    return out


def _steepest_neighbour(t: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Unit vector to the 8-neighbour with the steepest descent of t (zero if none lower)."""
    ny, nx = t.shape
    tv = np.where(valid, t, np.inf).astype(np.float32)
    pad = np.pad(tv, 1, constant_values=np.inf)
    best = np.zeros_like(tv)
    out = np.zeros((ny, nx, 2), np.float32)
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            if dx == dy == 0:
                continue
            length = np.hypot(dx, dy)
            with np.errstate(invalid="ignore"):
                slope = (tv - pad[1 + dy:1 + dy + ny, 1 + dx:1 + dx + nx]) / length
            better = slope > best
            best[better] = slope[better]
            out[better] = (dx / length, dy / length)
    return out


def _exit_field(grid: FloorGrid, ex: Exit, speed: np.ndarray) -> ExitField:
    gx, gy = grid.centres()
    inside = shapely.contains_xy(ex.polygon, gx, gy) & grid.walkable
    if not inside.any():
        # A thin exit strip may hold no cell centre: take the cells it touches.
        c = shapely.get_coordinates(shapely.segmentize(ex.polygon.exterior, grid.cell / 3))
        ix = np.clip(((c[:, 0] - grid.x0) / grid.cell).astype(int), 0, grid.nx - 1)
        iy = np.clip(((c[:, 1] - grid.y0) / grid.cell).astype(int), 0, grid.ny - 1)
        inside[iy, ix] = True
        inside &= grid.walkable
    if not inside.any():
        raise ScenarioError(f"exit '{ex.id}' covers no walkable cell of its floor")
    valid = grid.walkable
    phi = np.ma.MaskedArray(np.where(inside, -1.0, 1.0), mask=~valid)
    try:
        t = skfmm.travel_time(phi, speed, dx=grid.cell, order=1)
    except ValueError as exc:  # pragma: no cover - skfmm refuses degenerate inputs
        raise ScenarioError(f"exit '{ex.id}': fast marching failed ({exc})") from None
    reach = ~np.ma.getmaskarray(t) & valid
    tt = np.where(reach, np.ma.getdata(t), np.inf)
    tt[inside] = 0.0
    direction = _downhill(np.where(reach, tt, 0.0), reach, grid.cell)
    # Inside the exit the field is flat: head deeper into the exit area.
    iy, ix = np.nonzero(inside)
    box = (slice(max(iy.min() - 1, 0), iy.max() + 2), slice(max(ix.min() - 1, 0), ix.max() + 2))
    depth = ndimage.distance_transform_edt(inside[box])
    sub = direction[box]
    sub[inside[box]] = _downhill(-depth, inside[box], grid.cell)[inside[box]]
    direction[~reach] = 0.0
    return ExitField(
        distance=tt.astype(np.float32).ravel(),
        direction=direction.astype(np.float32).reshape(-1, 2),
    )


@dataclass(frozen=True, eq=False)
class Navigation:
    """The navigation fields of a scene: one raster per floor, one field per exit."""

    grids: tuple[FloorGrid, ...]
    distance: tuple[np.ndarray, ...]
    """Per floor, (n_exits, ny*nx) float32 distance to each exit (inf: unreachable)."""
    direction: tuple[np.ndarray, ...]
    """Per floor, (n_exits, ny*nx, 2) float32 unit directions towards each exit."""


_CACHE: dict[str, Navigation] = {}


def _scene_key(scene: Scene, cell: float) -> str:
    h = hashlib.sha256(f"{cell!r}".encode())
    for f in scene.floors:
        h.update(shapely.to_wkb(f.area))
    for e in scene.exits:
        h.update(f"{e.floor}".encode())
        h.update(shapely.to_wkb(e.polygon))
    return h.hexdigest()


def build_navigation(scene: Scene, cell: float) -> Navigation:
    """Rasterise every floor and compute a distance field per exit (cached by content)."""
    key = _scene_key(scene, cell)
    if key in _CACHE:
        return _CACHE[key]
    grids, dists, dirs = [], [], []
    n_exits = len(scene.exits)
    for fi, floor in enumerate(scene.floors):
        grid = _rasterise(floor, cell, tuple(e.polygon for e in scene.exits if e.floor == fi))
        ncell = grid.nx * grid.ny
        speed = np.clip(
            NEAR_WALL_SPEED + (1 - NEAR_WALL_SPEED) * grid.wall_distance / WALL_CLEARANCE,
            NEAR_WALL_SPEED, 1.0,
        )
        dist = np.full((n_exits, ncell), np.inf, dtype=np.float32)
        dirn = np.zeros((n_exits, ncell, 2), dtype=np.float32)
        for ei, ex in enumerate(scene.exits):
            if ex.floor == fi:
                fld = _exit_field(grid, ex, speed)
                dist[ei], dirn[ei] = fld.distance, fld.direction
        grids.append(grid)
        dists.append(dist)
        dirs.append(dirn)
    for a in (*dists, *dirs):
        a.flags.writeable = False
    nav = Navigation(grids=tuple(grids), distance=tuple(dists), direction=tuple(dirs))
    _CACHE[key] = nav
    return nav
