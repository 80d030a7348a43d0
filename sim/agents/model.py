"""The collision-free speed model (Tordeux, Chraibi & Seyfried 2016), vectorised.

Each agent walks in direction ``e`` = normalise(e0 + Σ neighbour repulsion + wall
repulsion), where e0 descends its exit's distance field, at speed
``min(v0, max(0, s / T))``, with ``s`` the free space to the nearest agent in its way
(JuPedSim's ``CollisionFreeSpeedModel`` uses the same rules and default parameters).
"""

from __future__ import annotations

import numpy as np

from sim.scenario import ModelParams

__all__ = ["MAX_EXPONENT", "desired_velocity", "wall_repulsion"]

MAX_EXPONENT = 30.0
"""Cap on repulsion exponents so overlapping agents give large, not infinite, forces."""


def desired_velocity(
    pos: np.ndarray,
    radius: np.ndarray,
    v0: np.ndarray,
    e0: np.ndarray,
    heading: np.ndarray,
    neighbours: np.ndarray,
    present: np.ndarray,
    params: ModelParams,
) -> tuple[np.ndarray, np.ndarray]:
    """Walking direction and speed of every agent for this step.

    Args:
        pos: (n, 2) positions, m.
        radius: (n,) body radii, m.
        v0: (n,) desired speeds, m/s (0 for agents that do not move).
        e0: (n, 2) desired directions (unit or zero) plus :func:`wall_repulsion`.
        heading: (n, 2) previous directions, used when the forces cancel out.
        neighbours: (n, k) neighbour rows; ``n`` marks a missing one.
        present: (n,) bool, False for rows of agents that have left (ignored as neighbours).
        params: model parameters.

    Returns:
        ``(direction, speed)``: (n, 2) unit vectors and (n,) speeds in m/s.
    """
    n = len(pos)
    pp = np.concatenate([pos, np.full((1, 2), 1.0e9)])
    rp = np.concatenate([radius, [0.0]])
    dx = pp[neighbours] - pos[:, None, :]
    d = np.hypot(dx[..., 0], dx[..., 1])
    valid = np.concatenate([present, [False]])[neighbours]
    valid &= neighbours != np.arange(n)[:, None]  # never oneself
    d = np.where(valid, d, np.inf)
    reach = radius[:, None] + rp[neighbours]
    # Neighbour repulsion  -a exp((l - d) / D) (x_j - x_i) / d
    w = params.neighbour_strength * np.exp(
        np.minimum((reach - d) / params.neighbour_range, MAX_EXPONENT)
    ) / np.maximum(d, 1e-6)
    w = np.where(np.isfinite(d), w, 0.0)
    e = e0 - np.einsum("nk,nkc->nc", w, dx)
    norm = np.hypot(e[:, 0], e[:, 1])
    ok = norm > 1e-9
    e = np.where(ok[:, None], e / np.where(ok, norm, 1.0)[:, None], heading)
    # Free space ahead: agents whose disc overlaps the corridor swept in direction e.
    proj = np.einsum("nkc,nc->nk", dx, e)
    perp = np.abs(dx[..., 0] * e[:, 1:2] - dx[..., 1] * e[:, 0:1])
    ahead = (proj >= 0) & (perp <= reach)
    spacing = np.where(ahead, d - reach, np.inf).min(axis=1, initial=np.inf)
    speed = np.clip(spacing / params.time_gap, 0.0, v0)
    return e, speed


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
