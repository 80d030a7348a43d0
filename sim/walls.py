"""Exact wall geometry for agents: nearest-wall queries and the no-crossing guarantee.

Each floor's wall segments are bucketed in a coarse grid; a bucket lists every segment
within reach of any point of it, padded to a fixed width, so that a query for n agents is
one (n, k) array operation and no loop over agents.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import Polygon

from sim.agents.kernels import keep_off_walls, wall_forces
from sim.scenes.model import Floor

__all__ = ["WallIndex", "build_wall_index"]

BUCKET = 0.5
"""Size of the coarse buckets, m."""


@dataclass(frozen=True, eq=False)
class WallIndex:
    """Wall segments of one floor, bucketed for lookups near a point."""

    a: np.ndarray
    """(s+1, 2) first end of each segment, m; the last row is a far-away dummy."""
    b: np.ndarray
    """(s+1, 2) second end of each segment, m."""
    x0: float
    y0: float
    nx: int
    ny: int
    candidates: np.ndarray
    """(nx*ny, k) int32: segments within reach of each bucket, padded with the dummy."""
    reach: float
    """Every segment within this distance of a point is among its candidates, m."""

    def near(self, xy: np.ndarray) -> np.ndarray:
        """Candidate segments for each point of ``xy`` (n, 2): (n, k) int32."""
        return self.candidates[self.buckets(xy)]

    def buckets(self, xy: np.ndarray) -> np.ndarray:
        """Bucket of each point of ``xy`` (n, 2): (n,) int64 rows of :attr:`candidates`."""
        ix = np.minimum(np.maximum(((xy[:, 0] - self.x0) / BUCKET).astype(np.int64), 0),
                        self.nx - 1)
        iy = np.minimum(np.maximum(((xy[:, 1] - self.y0) / BUCKET).astype(np.int64), 0),
                        self.ny - 1)
        return iy * self.nx + ix

    def near_some(self, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Points of ``xy`` (n, 2) with a wall within reach and their candidates.

        Returns ``(has, cand)``: (n,) bool, and (has.sum(), k) int32 candidate segments
        (most points of a crowd stand far from walls: their rows are never gathered).
        """
        bucket = self.buckets(xy)
        has = self.candidates[bucket, 0] != len(self.a) - 1
        return has, self.candidates[bucket[has]]

    def closest(self, xy: np.ndarray, cand: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Vector from each point to the closest point of each candidate, and its length.

        Args:
            xy: (n, 2) points, m.
            cand: (n, k) candidate segment indices from :meth:`near`.

        Returns:
            ``(vec, dist)``: (n, k, 2) vectors point→wall, m, and (n, k) distances, m.
        """
        a = self.a[cand]
        ab = self.b[cand] - a
        ap = xy[:, None, :] - a
        denom = np.maximum((ab * ab).sum(-1), 1e-18)
        s = np.clip((ap * ab).sum(-1) / denom, 0.0, 1.0)
        vec = a + ab * s[..., None] - xy[:, None, :]
        return vec, np.hypot(vec[..., 0], vec[..., 1])

    def forces(self, xy: np.ndarray, radius: np.ndarray, cand: np.ndarray, strength: float,
               scale: float, max_exponent: float) -> np.ndarray:
        """Wall repulsion ``-strength exp((r - d) / scale)`` along the unit vectors to the
        candidate walls ``cand`` (from :meth:`near_some`) of points ``xy`` (m, 2) of radii
        ``radius``, summed: (m, 2) (as :func:`sim.agents.model.wall_repulsion` of
        :meth:`closest`, without the padding)."""
        return wall_forces(xy, radius, cand, self.a, self.b, strength, scale, max_exponent)

    def keep_off(self, p: np.ndarray, q: np.ndarray, r: np.ndarray,
                 cand: np.ndarray) -> np.ndarray:
        """Moves ``p`` → ``q`` (m, 2) that end closer than a radius ``r`` to a wall pushed
        back out; a move that would then cross a wall or end in one stays at ``p``."""
        return keep_off_walls(p, q, r, cand, self.a, self.b)

    def crosses(self, p: np.ndarray, q: np.ndarray, cand: np.ndarray) -> np.ndarray:
        """Whether the move from ``p`` to ``q`` (n, 2) touches any candidate wall: (n,) bool."""
        a = self.a[cand]
        b = self.b[cand]
        d = (q - p)[:, None, :]
        e = b - a
        pa = a - p[:, None, :]
        den = d[..., 0] * e[..., 1] - d[..., 1] * e[..., 0]
        t_num = pa[..., 0] * e[..., 1] - pa[..., 1] * e[..., 0]
        u_num = pa[..., 0] * d[..., 1] - pa[..., 1] * d[..., 0]
        par = np.abs(den) < 1e-15
        with np.errstate(divide="ignore", invalid="ignore"):
            t = t_num / den
            u = u_num / den
        eps = 1e-9
        hit = ~par & (t >= -eps) & (t <= 1 + eps) & (u >= -eps) & (u <= 1 + eps)
        return hit.any(axis=1)


def build_wall_index(
    floor: Floor, reach: float, openings: tuple[Polygon, ...] = ()
) -> WallIndex:
    """Bucket the walls of ``floor`` so that every wall within ``reach`` (m) is found.

    Boundary inside ``openings`` (exit areas) is not a wall: agents leave through it.
    """
    segs = floor.wall_segments(openings)
    minx, miny, maxx, maxy = floor.walkable.bounds
    x0, y0 = minx - BUCKET, miny - BUCKET
    nx = int(np.ceil((maxx - x0) / BUCKET)) + 2
    ny = int(np.ceil((maxy - y0) / BUCKET)) + 2
    far = np.array([[1e9, 1e9]])
    a = np.concatenate([segs[:, 0], far])
    b = np.concatenate([segs[:, 1], far + 1.0])
    dummy = len(segs)
    if len(segs) == 0:
        return WallIndex(a=a, b=b, x0=x0, y0=y0, nx=nx, ny=ny,
                         candidates=np.full((nx * ny, 1), dummy, np.int32), reach=reach)
    ix, iy = np.meshgrid(np.arange(nx), np.arange(ny))
    boxes = shapely.box(
        x0 + ix.ravel() * BUCKET, y0 + iy.ravel() * BUCKET,
        x0 + (ix.ravel() + 1) * BUCKET, y0 + (iy.ravel() + 1) * BUCKET,
    )
    lines = shapely.linestrings(segs)
    tree = shapely.STRtree(lines)
    bucket, seg = tree.query(boxes, predicate="dwithin", distance=reach)
    counts = np.bincount(bucket, minlength=nx * ny)
    k = max(1, int(counts.max()))
    order = np.argsort(bucket, kind="stable")
    bucket, seg = bucket[order], seg[order]
    slot = np.arange(len(bucket)) - np.repeat(np.cumsum(counts) - counts, counts)
    cand = np.full((nx * ny, k), dummy, np.int32)
    cand[bucket, slot] = seg
    return WallIndex(a=a, b=b, x0=x0, y0=y0, nx=nx, ny=ny, candidates=cand, reach=reach)
