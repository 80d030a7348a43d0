"""Compiled kernels (numba) for the per-agent loops the crowd step cannot vectorise well:
the k nearest neighbours on a cell grid, and the wall terms over each agent's own
candidate walls (a padded (n, k) table is mostly padding: skipping it is the gain).

Each kernel does what the numpy code it replaces did, agent by agent; results agree to
rounding. They are compiled on first use and cached on disk (``cache=True``);
:func:`warm_up` compiles them ahead, off any tick.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

__all__ = ["keep_off_walls", "nearest", "wall_forces", "warm_up"]


@njit(cache=True, inline="always")
def _insert(best_d: np.ndarray, best_j: np.ndarray, d2: float, j: int) -> None:
    """Put (d2, j) into the ascending buffer ``best_d``/``best_j`` if it is close enough."""
    k = len(best_d)
    if d2 >= best_d[k - 1]:
        return
    at = k - 1
    while at > 0 and best_d[at - 1] > d2:
        best_d[at] = best_d[at - 1]
        best_j[at] = best_j[at - 1]
        at -= 1
    best_d[at] = d2
    best_j[at] = j


CELLS_PER_BOUND = 2
"""The neighbour search grid's cells are ``bound / CELLS_PER_BOUND`` wide."""
MAX_TABLE = 4_000_000
"""Grids of more cells than this look cells up by bisection instead of a table."""


@njit(cache=True)
def nearest(x: np.ndarray, y: np.ndarray, layer: np.ndarray, k: int,
            bound: float) -> np.ndarray:
    """The ``k`` nearest other points within ``bound`` of each point (x, y m, on integer
    ``layer``: points of different layers are never neighbours), nearest first.

    Returns (k, n) int64, neighbour-major; ``n`` marks a missing neighbour.
    """
    n = len(x)
    out = np.full((k, n), n, np.int64)
    if n < 2:
        return out
    size = bound / CELLS_PER_BOUND
    x0, y0 = x.min(), y.min()
    nx = int((x.max() - x0) / size) + 1
    ny = int((y.max() - y0) / size) + 1
    lo = layer.min()
    cxs = np.empty(n, np.int64)
    cys = np.empty(n, np.int64)
    cell = np.empty(n, np.int64)
    for i in range(n):
        cxs[i] = int((x[i] - x0) / size)
        cys[i] = int((y[i] - y0) / size)
        cell[i] = ((layer[i] - lo) * ny + cys[i]) * nx + cxs[i]
    order = np.argsort(cell)
    sorted_cell = cell[order]
    xs, ys = x[order], y[order]  # by cell: the scans below read memory in order
    cells = (layer.max() - lo + 1) * ny * nx
    table = cells <= MAX_TABLE
    start = np.zeros(cells + 1 if table else 1, np.int64)
    if table:
        for c in sorted_cell:
            start[c + 1] += 1
        start = np.cumsum(start)
    b2 = bound * bound
    best_d = np.empty(k)
    best_j = np.empty(k, np.int64)
    for i in range(n):
        best_d[:] = np.inf
        best_j[:] = n
        cx, cy = cxs[i], cys[i]
        xi, yi = x[i], y[i]
        base = (layer[i] - lo) * ny
        for gy in range(max(cy - CELLS_PER_BOUND, 0), min(cy + CELLS_PER_BOUND + 1, ny)):
            row = (base + gy) * nx
            c0 = row + max(cx - CELLS_PER_BOUND, 0)
            c1 = row + min(cx + CELLS_PER_BOUND, nx - 1)
            if table:
                s, e = start[c0], start[c1 + 1]
            else:
                s = np.searchsorted(sorted_cell, c0)
                e = np.searchsorted(sorted_cell, c1 + 1)
            for t in range(s, e):
                ddx = xs[t] - xi
                ddy = ys[t] - yi
                d2 = ddx * ddx + ddy * ddy
                if d2 <= b2 and d2 < best_d[k - 1] and order[t] != i:
                    _insert(best_d, best_j, d2, order[t])
        for m in range(k):
            out[m, i] = best_j[m]
    return out


@njit(cache=True, inline="always")
def _closest(px: float, py: float, ax: float, ay: float, bx: float, by: float,
             ) -> tuple[float, float, float]:
    """Vector from (px, py) to the closest point of segment a-b, and its length, m."""
    abx, aby = bx - ax, by - ay
    denom = max(abx * abx + aby * aby, 1e-18)
    s = ((px - ax) * abx + (py - ay) * aby) / denom
    s = min(max(s, 0.0), 1.0)
    vx = ax + abx * s - px
    vy = ay + aby * s - py
    return vx, vy, math.hypot(vx, vy)


@njit(cache=True)
def wall_forces(xy: np.ndarray, radius: np.ndarray, cand: np.ndarray, a: np.ndarray,
                b: np.ndarray, strength: float, scale: float, max_exponent: float,
                ) -> np.ndarray:
    """Wall repulsion of every point: sum over its candidate walls of
    ``-strength exp((r - d) / scale)`` along the unit vector to the wall: (m, 2).

    ``cand`` (m, w) lists each point's candidate segments of ``a``/``b``, padded with the
    last (dummy) segment, which is skipped.
    """
    m, w = cand.shape
    dummy = len(a) - 1
    out = np.zeros((m, 2))
    for i in range(m):
        for c in range(w):
            s = cand[i, c]
            if s == dummy:
                break
            vx, vy, d = _closest(xy[i, 0], xy[i, 1], a[s, 0], a[s, 1], b[s, 0], b[s, 1])
            ww = strength * math.exp(min((radius[i] - d) / scale, max_exponent)) / max(d, 1e-6)
            out[i, 0] -= ww * vx
            out[i, 1] -= ww * vy
    return out


@njit(cache=True, inline="always")
def _crosses(px: float, py: float, qx: float, qy: float, ax: float, ay: float, bx: float,
             by: float) -> bool:
    """Whether the move p→q touches segment a-b."""
    dx, dy = qx - px, qy - py
    ex, ey = bx - ax, by - ay
    pax, pay = ax - px, ay - py
    den = dx * ey - dy * ex
    if abs(den) < 1e-15:
        return False
    t = (pax * ey - pay * ex) / den
    u = (pax * dy - pay * dx) / den
    eps = 1e-9
    return -eps <= t <= 1 + eps and -eps <= u <= 1 + eps


@njit(cache=True)
def keep_off_walls(p: np.ndarray, q: np.ndarray, r: np.ndarray, cand: np.ndarray,
                   a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Moves p→q (m, 2) that end closer than a radius ``r`` to a candidate wall are pushed
    back out from the closest one; a move that then crosses a wall, or still ends inside
    one's reach, stays at ``p``. Returns the new positions (m, 2)."""
    m, w = cand.shape
    dummy = len(a) - 1
    out = np.empty((m, 2))
    for i in range(m):
        qx, qy = q[i, 0], q[i, 1]
        best, bvx, bvy = np.inf, 0.0, 0.0
        for c in range(w):
            s = cand[i, c]
            if s == dummy:
                break
            vx, vy, d = _closest(qx, qy, a[s, 0], a[s, 1], b[s, 0], b[s, 1])
            if d < best:
                best, bvx, bvy = d, vx, vy
        if best < r[i]:
            push = (r[i] - best) / max(best, 1e-9)
            qx -= bvx * push
            qy -= bvy * push
        bad = False
        for c in range(w):
            s = cand[i, c]
            if s == dummy:
                break
            ax, ay, bx, by = a[s, 0], a[s, 1], b[s, 0], b[s, 1]
            if _closest(qx, qy, ax, ay, bx, by)[2] < 0.999 * r[i] or _crosses(
                    p[i, 0], p[i, 1], qx, qy, ax, ay, bx, by):
                bad = True
                break
        if bad:
            out[i, 0], out[i, 1] = p[i, 0], p[i, 1]
        else:
            out[i, 0], out[i, 1] = qx, qy
    return out


def warm_up() -> None:
    """Compile (or load from the cache) every kernel now, on tiny inputs."""
    xy = np.array([[0.0, 0.0], [0.5, 0.0], [3.0, 3.0]])
    nearest(xy[:, 0].copy(), xy[:, 1].copy(), np.zeros(3, np.int64), 2, 1.0)
    a = np.array([[-1.0, 1.0], [1e9, 1e9]])
    b = np.array([[1.0, 1.0], [1e9 + 1, 1e9 + 1]])
    cand = np.array([[0, 1]], np.int32)
    r = np.array([0.2])
    wall_forces(xy[:1], r, cand, a, b, 5.0, 0.02, 30.0)
    keep_off_walls(xy[:1], xy[1:2], r, cand, a, b)
