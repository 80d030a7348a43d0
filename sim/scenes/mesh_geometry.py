"""Vectorised geometry on triangle soups: face normals and areas, plane sections, footprints.

Shapes go from numpy to shapely in one call per batch (never one call per triangle).
"""

from __future__ import annotations

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon

__all__ = [
    "face_frames",
    "footprint",
    "hole_free",
    "largest",
    "open_cut_faces",
    "section_area",
    "section_segments",
]

SNAP = 1e-4
"""Grid that section end points are snapped to so that rings close, m."""


def face_frames(tris: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per triangle: area (m²), z component of the unit normal, mean height (m)."""
    n = np.cross(tris[:, 1] - tris[:, 0], tris[:, 2] - tris[:, 0])
    norm = np.linalg.norm(n, axis=1)
    nz = np.divide(n[:, 2], norm, out=np.zeros_like(norm), where=norm > 0)
    return norm / 2, nz, tris[..., 2].mean(axis=1)


def footprint(tris: np.ndarray, grow: float = 0.0,
              groups: np.ndarray | None = None) -> Polygon | MultiPolygon:
    """Union of the triangles projected on the plan, grown by ``grow`` (m).

    Triangles of one of ``groups`` (e.g. the part each belongs to) are first merged as a
    coverage (edge-matched, not overlapping: a tessellated surface), which is far faster
    than a general union; a group that is not a valid coverage gets the general union.
    """
    if len(tris) == 0:
        return Polygon()
    ring = np.concatenate([tris[..., :2], tris[:, :1, :2]], axis=1)
    polys = shapely.polygons(ring)
    keep = shapely.area(polys) > 1e-10
    polys = polys[keep]
    if len(polys) == 0:
        return Polygon()
    if groups is not None:
        groups = groups[keep]
        merged = []
        for g in np.unique(groups):  # one iteration per part
            mine = polys[groups == g]
            try:
                u = shapely.coverage_union_all(mine)
                ok = u.is_valid and abs(u.area - shapely.area(mine).sum()) <= 1e-6 * u.area
            except shapely.errors.GEOSException:  # not edge-matched (T-junctions, overlaps)
                ok = False
            if not ok:
                u = shapely.buffer(shapely.multipolygons(mine), 0)  # GEOS's fastest union
            merged.append(u)
        polys = np.array(merged, dtype=object)
        out = shapely.union_all(polys)
    else:
        out = shapely.union_all(polys, grid_size=SNAP)
    if not out.is_valid:
        out = shapely.make_valid(out)
    return shapely.buffer(out, grow, join_style="mitre") if grow > 0 else out


def section_segments(tris: np.ndarray, z: float) -> tuple[np.ndarray, np.ndarray]:
    """Where the plane at height ``z`` cuts the triangles: segments (k, 2, 2) in m, oriented
    with the solid on their left when the faces point outwards, and the row of the triangle
    each comes from."""
    d = tris[..., 2] - z
    above = d > 0
    rows = np.flatnonzero(above.any(axis=1) & ~above.all(axis=1))
    t, d, above = tris[rows], d[rows], above[rows]
    if len(t) == 0:
        return np.zeros((0, 2, 2)), rows
    crosses, points = [], []
    for a, b in ((0, 1), (1, 2), (2, 0)):  # the three edges of every triangle at once
        m = above[:, a] != above[:, b]
        den = np.where(m, d[:, a] - d[:, b], 1.0)
        w = d[:, a] / den
        points.append(t[:, a, :2] + w[:, None] * (t[:, b, :2] - t[:, a, :2]))
        crosses.append(m)
    m = np.stack(crosses, axis=1)
    p = np.stack(points, axis=1)
    first_two = np.argsort(~m, axis=1, kind="stable")[:, :2]
    seg = np.take_along_axis(p, first_two[..., None], axis=1)
    n = np.cross(t[:, 1] - t[:, 0], t[:, 2] - t[:, 0])
    along = np.stack([-n[:, 1], n[:, 0]], axis=1)  # z × n: solid on the left
    flip = ((seg[:, 1] - seg[:, 0]) * along).sum(axis=1) < 0
    seg[flip] = seg[flip, ::-1]
    return seg, rows


def open_cut_faces(tris: np.ndarray, z: float) -> np.ndarray:
    """Mask of triangles (all cut by the plane at ``z``) with a crossing edge that no other
    of them shares: single-sided surfaces, whose section does not close."""
    if len(tris) == 0:
        return np.zeros(0, bool)
    above = tris[..., 2] > z
    keys = np.round(tris / SNAP).astype(np.int64)  # (n, 3, 3)
    ends = []
    for a, b in ((0, 1), (1, 2), (2, 0)):  # the three edges of every triangle at once
        ka, kb = keys[:, a], keys[:, b]
        first = (ka[:, 0] < kb[:, 0]) | ((ka[:, 0] == kb[:, 0]) & (
            (ka[:, 1] < kb[:, 1]) | ((ka[:, 1] == kb[:, 1]) & (ka[:, 2] <= kb[:, 2]))))
        lo = np.where(first[:, None], ka, kb)
        hi = np.where(first[:, None], kb, ka)
        ends.append((np.concatenate([lo, hi], axis=1), above[:, a] != above[:, b]))
    edges = np.stack([e for e, _ in ends], axis=1)  # (n, 3, 6) canonical edge keys
    crossing = np.stack([c for _, c in ends], axis=1)  # (n, 3)
    flat = edges[crossing]
    _, inv, counts = np.unique(flat, axis=0, return_inverse=True, return_counts=True)
    lonely = np.zeros(crossing.shape, bool)
    lonely[crossing] = counts[inv.reshape(-1)] == 1
    return lonely.any(axis=1)


def _winding(points: np.ndarray, seg: np.ndarray, chunk: int = 2_000_000) -> np.ndarray:
    """Winding number of oriented segments around each point (ray casting along +x)."""
    out = np.zeros(len(points), np.int64)
    step = max(1, chunk // max(len(seg), 1))
    y0, y1 = seg[:, 0, 1], seg[:, 1, 1]
    x0, x1 = seg[:, 0, 0], seg[:, 1, 0]
    for k in range(0, len(points), step):  # chunks of points, each against every segment
        px, py = points[k:k + step, :1], points[k:k + step, 1:]
        up = (y0 <= py) & (y1 > py)
        down = (y1 <= py) & (y0 > py)
        t = np.divide(py - y0, y1 - y0, out=np.zeros(up.shape), where=up | down)
        right = x0 + t * (x1 - x0) > px
        out[k:k + step] = (up & right).sum(axis=1) - (down & right).sum(axis=1)
    return out


def section_area(segments: np.ndarray, thin: float,
                 open_mask: np.ndarray | None = None) -> Polygon | MultiPolygon:
    """The solid that oriented section segments enclose (non-zero winding), plus the
    segments of single-sided surfaces (``open_mask``) thickened to ``thin`` metres."""
    if len(segments) == 0:
        return Polygon()
    if open_mask is None:
        open_mask = np.zeros(len(segments), bool)
    pieces = []
    closed = segments[~open_mask]
    if len(closed):
        lines = shapely.set_precision(shapely.linestrings(closed), SNAP)
        ok = ~shapely.is_empty(lines) & (shapely.length(lines) > 0)
        faces = shapely.get_parts(shapely.polygonize([shapely.union_all(lines[ok])]))
        if len(faces):
            inside = shapely.get_coordinates(shapely.point_on_surface(faces))
            solid = faces[_winding(inside, closed[ok]) != 0]
            pieces.append(shapely.union_all(solid))
    if open_mask.any():
        lines = shapely.linestrings(segments[open_mask])
        pieces.append(shapely.union_all(shapely.buffer(lines, thin / 2, cap_style="square")))
    return shapely.union_all(pieces) if pieces else Polygon()


def largest(geom: shapely.Geometry) -> Polygon:
    """The polygon of largest area in ``geom`` (empty Polygon if none)."""
    parts = [p for p in shapely.get_parts(geom) if isinstance(p, Polygon) and not p.is_empty]
    return max(parts, key=lambda p: p.area) if parts else Polygon()


def hole_free(geom: shapely.Geometry, min_area: float = 1e-4) -> list[Polygon]:
    """``geom`` as polygons without holes (a wall around a room is cut in two), m."""
    out: list[Polygon] = []
    todo = [p for p in shapely.get_parts(geom) if isinstance(p, Polygon)]
    while todo:
        p = todo.pop()
        if p.area < min_area:
            continue
        if not p.interiors:
            out.append(p)
            continue
        c = Polygon(p.interiors[0]).representative_point()
        x0, y0, x1, y1 = p.bounds
        left = shapely.box(x0 - 1, y0 - 1, c.x, y1 + 1)
        right = shapely.box(c.x, y0 - 1, x1 + 1, y1 + 1)
        for half in (left, right):
            todo.extend(q for q in shapely.get_parts(shapely.intersection(p, half))
                        if isinstance(q, Polygon))
    return out
