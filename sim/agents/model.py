"""The collision-free speed model (Tordeux, Chraibi & Seyfried 2016), vectorised, with
additions for narrow passages and counterflow.

Each agent walks in direction ``e`` = normalise(e0 + Σ neighbour repulsion + evasion), where
e0 descends its exit's distance field plus wall repulsion, at speed
``min(v0, max(0, s / T))``, with ``s`` the free space to the nearest agent in its way
(JuPedSim's ``CollisionFreeSpeedModel`` uses the same rules and default parameters).
The additions (docs/model.md gives their sources and the figures they reach):

- *evasion*: a sideways step to the keeping side around people coming the other way
  (lanes form in counterflow);
- *zipper*: in a constriction (clear width below ``narrow_width``) a person ahead blocks only
  if the lateral offset is under ``narrow_band`` of the two radii, and the time gap is
  ``narrow_time_gap`` (staggered lanes and closer following in bottlenecks);
- *anticipation* (off by default): the free space ahead counts what the person in front
  will walk during ``anticipation`` seconds.

Neighbour terms are computed in float32 on fixed-width (k, n) neighbour tables.
"""

from __future__ import annotations

import numpy as np

from sim.scenario import ModelParams

__all__ = ["EVADE_K", "FAR", "LANE_MARGIN", "MAX_EXPONENT", "ONCOMING", "desired_velocity",
           "wall_repulsion"]

MAX_EXPONENT = 30.0
"""Cap on repulsion exponents so overlapping agents give large, not infinite, forces."""
FAR = 1.0e6
"""Coordinate given to missing neighbours and to agents that have left, m."""
LANE_MARGIN = 0.3
"""Lateral offset beyond the two radii within which a person ahead is evaded, m."""
ONCOMING = -0.4
"""Speed along one's own direction below which a neighbour counts as oncoming, m/s (a
neighbour jostled backwards in a queue is slower than this, and is not evaded)."""
EVADE_K = 6
"""Evasion looks at this many nearest neighbours (its weight fades within a metre)."""


def desired_velocity(
    x: np.ndarray,
    y: np.ndarray,
    v0: np.ndarray,
    e0: np.ndarray,
    heading: np.ndarray,
    neighbours: np.ndarray,
    reach: np.ndarray,
    route: np.ndarray,
    queue: np.ndarray,
    params: ModelParams,
    *,
    velocity: np.ndarray | None = None,
    narrow: np.ndarray | None = None,
    period: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Walking direction and speed of every agent for this step.

    Args:
        x: (n+1,) float32 x of every agent, m; the last entry is :data:`FAR` (no neighbour).
            Agents that have left also sit at :data:`FAR`.
        y: (n+1,) float32 y, likewise.
        v0: (n,) desired speeds, m/s (0 for agents that do not move).
        e0: (n, 2) desired directions (unit or zero) plus :func:`wall_repulsion`.
        heading: (n, 2) previous directions, used when the forces cancel out.
        neighbours: (k, n) neighbour rows (row j: each agent's j-th neighbour); ``n`` marks
            a missing one. Neighbour-major, so reductions over neighbours are contiguous.
        reach: (k, n) float32 sum of the two radii for each neighbour pair, m.
        route: (n+1,) float32 route distance of each agent to its exit, m (last: +inf).
        queue: (n+1,) int16 exit each agent heads for (last entry: -1). An agent does not
            wait for a neighbour further back in the queue for the same exit.
        params: model parameters.
        velocity: (n+1, 2) float32 velocities of the last step, m/s (last row zero). Without
            it there is neither evasion nor anticipation (the plain model).
        narrow: (n,) bool, agents standing in a constriction (zipper rules apply).
        period: length of a periodic x axis, m (neighbours seen across it), or None.

    Returns:
        ``(direction, speed)``: (n, 2) float64 unit vectors and (n,) speeds in m/s.
    """
    n = len(v0)
    dx = x[neighbours] - x[:n]
    dy = y[neighbours] - y[:n]
    if period is not None:
        dx -= np.float32(period) * np.round(dx / np.float32(period))
    d = np.sqrt(dx * dx + dy * dy)
    gap = d - reach
    # Neighbour repulsion  -a exp((l - d) / D) (x_j - x_i) / d
    w = np.minimum(gap * np.float32(-1.0 / params.neighbour_range), np.float32(MAX_EXPONENT))
    np.exp(w, out=w)
    w *= np.float32(params.neighbour_strength)
    w /= np.maximum(d, np.float32(1e-6))
    ex = e0[:, 0] - np.einsum("kn,kn->n", w, dx)
    ey = e0[:, 1] - np.einsum("kn,kn->n", w, dy)
    if velocity is not None and params.evasion_strength > 0:
        ke = min(EVADE_K, len(neighbours))
        sx, sy = _evasion(dx[:ke], dy[:ke], gap[:ke], reach[:ke], e0, velocity,
                          neighbours[:ke], params)
        ex += sx
        ey += sy
    norm = np.hypot(ex, ey)
    ok = norm > 1e-9
    safe = np.where(ok, norm, 1.0)
    ex = np.where(ok, ex / safe, heading[:, 0])
    ey = np.where(ok, ey / safe, heading[:, 1])
    # Free space ahead: agents whose disc overlaps the corridor swept in direction e.
    ex32, ey32 = ex.astype(np.float32), ey.astype(np.float32)
    proj = dx * ex32 + dy * ey32
    perp = np.abs(dx * ey32 - dy * ex32)
    # Right of way: never wait for someone further from the same exit. Without this two
    # agents converging on a door each see the other ahead and both stop (deadlock).
    behind = (route[neighbours] > route[:n]) & (queue[neighbours] == queue[:n])
    band = reach if narrow is None else np.where(
        narrow, reach * np.float32(params.narrow_band), reach)
    blocked = (proj >= 0) & (perp <= band) & ~behind
    free = np.where(blocked, gap, np.float32(np.inf))
    if velocity is not None and params.anticipation > 0:
        # The nearest one in the way walks on meanwhile: its progress over the
        # anticipation time counts as free space.
        first = free.argmin(axis=0)
        spacing = free[first, np.arange(n)]
        lead = velocity[neighbours[first, np.arange(n)]]
        spacing = spacing + np.float32(params.anticipation) * np.maximum(
            lead[:, 0] * ex32 + lead[:, 1] * ey32, np.float32(0.0))
    else:
        spacing = free.min(axis=0)
    time_gap = params.time_gap if narrow is None else np.where(
        narrow, params.narrow_time_gap, params.time_gap)
    speed = np.clip(spacing.astype(np.float64) / time_gap, 0.0, v0)
    return np.column_stack([ex, ey]), speed


def _evasion(dx: np.ndarray, dy: np.ndarray, gap: np.ndarray, reach: np.ndarray,
             e0: np.ndarray, velocity: np.ndarray, neighbours: np.ndarray,
             params: ModelParams) -> tuple[np.ndarray, np.ndarray]:
    """Sideways step to the keeping side: (n,) x and (n,) y added to the direction.

    Someone ahead coming the other way (faster than :data:`ONCOMING` towards one), within
    the two radii plus :data:`LANE_MARGIN` sideways on the far side from the keeping side
    (or straight ahead), pushes one to the keeping side by
    ``evasion_strength · exp(-gap / evasion_range)``. Both step to their own keeping side,
    so opposing streams separate into lanes. People walking the same way are not evaded:
    a queue would drift to one side.
    """
    norm = np.maximum(np.hypot(e0[:, 0], e0[:, 1]), 1e-9)
    ux = (e0[:, 0] / norm).astype(np.float32)
    uy = (e0[:, 1] / norm).astype(np.float32)
    side = np.float32(1.0 if params.keep_side == "right" else -1.0)
    far_side = (dy * ux - dx * uy) * side  # > 0: on the side away from the keeping side
    near = ((dx * ux + dy * uy) > 0) & (far_side >= 0) & (far_side < reach + LANE_MARGIN)
    # Few pairs qualify: compute the push on those only.
    j, i = np.nonzero(near)
    vel = velocity[neighbours[j, i]]
    oncoming = (vel[:, 0] * ux[i] + vel[:, 1] * uy[i]) < ONCOMING
    fade = np.exp(np.maximum(gap[j, i], 0) * np.float32(-1.0 / params.evasion_range))
    push = np.bincount(i[oncoming], weights=fade[oncoming], minlength=len(e0)) * (
        params.evasion_strength * float(side))
    return push * uy, -push * ux


def wall_repulsion(
    radius: np.ndarray, wall_vec: np.ndarray, wall_dist: np.ndarray, params: ModelParams
) -> np.ndarray:
    """Sum of ``-a_w exp((r - d) / D_w)`` along the unit vectors to nearby walls: (m, 2).

    Args:
        radius: (m,) body radii, m.
        wall_vec: (m, w, 2) vectors from each agent to the closest point of nearby walls, m.
        wall_dist: (m, w) their lengths, m.
        params: model parameters.
    """
    ww = params.wall_strength * np.exp(
        np.minimum((radius[:, None] - wall_dist) / params.wall_range, MAX_EXPONENT)
    ) / np.maximum(wall_dist, 1e-6)
    return -np.einsum("nk,nkc->nc", ww, wall_vec)
