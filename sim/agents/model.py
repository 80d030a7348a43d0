"""The collision-free speed model (Tordeux, Chraibi & Seyfried 2016), vectorised.

Each agent walks in direction ``e`` = normalise(e0 + Σ neighbour repulsion + wall
repulsion), where e0 descends its exit's distance field, at speed
``min(v0, max(0, s / T))``, with ``s`` the free space to the nearest agent in its way
(JuPedSim's ``CollisionFreeSpeedModel`` uses the same rules and default parameters).
Neighbour terms are computed in float32 on fixed-width (n, k) neighbour tables.
"""

from __future__ import annotations

import numpy as np

from sim.scenario import ModelParams

__all__ = ["FAR", "MAX_EXPONENT", "desired_velocity", "wall_repulsion"]

MAX_EXPONENT = 30.0
"""Cap on repulsion exponents so overlapping agents give large, not infinite, forces."""
FAR = 1.0e6
"""Coordinate given to missing neighbours and to agents that have left, m."""


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

    Returns:
        ``(direction, speed)``: (n, 2) float64 unit vectors and (n,) speeds in m/s.
    """
    n = len(v0)
    dx = x[neighbours] - x[:n]
    dy = y[neighbours] - y[:n]
    d = np.sqrt(dx * dx + dy * dy)
    gap = d - reach
    # Neighbour repulsion  -a exp((l - d) / D) (x_j - x_i) / d
    w = np.minimum(gap * np.float32(-1.0 / params.neighbour_range), np.float32(MAX_EXPONENT))
    np.exp(w, out=w)
    w *= np.float32(params.neighbour_strength)
    w /= np.maximum(d, np.float32(1e-6))
    ex = e0[:, 0] - np.einsum("kn,kn->n", w, dx)
    ey = e0[:, 1] - np.einsum("kn,kn->n", w, dy)
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
    blocked = (proj >= 0) & (perp <= reach) & ~behind
    spacing = np.where(blocked, gap, np.float32(np.inf)).min(axis=0)
    speed = np.clip(spacing.astype(np.float64) / params.time_gap, 0.0, v0)
    return np.column_stack([ex, ey]), speed


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
