"""Neighbour lists from a k-d tree, kept for several steps thanks to a skin distance."""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

__all__ = ["NeighbourList"]

FLOOR_SEPARATION = 1.0e4
"""Floors are stacked this far apart (m) in the tree, so one tree serves every floor."""


class NeighbourList:
    """The k nearest agents within ``cutoff + skin`` of each agent, rebuilt only when needed.

    A list built at positions ``p0`` stays valid while no agent has moved more than half
    the skin since: any agent within ``cutoff`` now was within ``cutoff + skin`` then.
    """

    def __init__(self, k: int = 12, cutoff: float = 2.0, skin: float = 0.4, workers: int = -1):
        self.k, self.cutoff, self.skin, self.workers = k, cutoff, skin, workers
        self.index = np.zeros((0, k), np.int64)
        """(n, k) neighbour rows; ``n`` (one past the last row) marks a missing neighbour."""
        self._p0: np.ndarray | None = None
        self.builds = 0
        """How many times the tree has been built (for benchmarks)."""

    def invalidate(self) -> None:
        """Force a rebuild at the next :meth:`update` (rows were added or removed)."""
        self._p0 = None

    def stale(self, pos: np.ndarray) -> bool:
        """Whether the list must be rebuilt for positions ``pos`` (n, 2), m."""
        if self._p0 is None or len(self._p0) != len(pos):
            return True
        moved = pos - self._p0
        return bool(np.einsum("ij,ij->i", moved, moved).max(initial=0.0) >= (self.skin / 2) ** 2)

    def update(self, pos: np.ndarray, floor: np.ndarray) -> np.ndarray:
        """Neighbour rows for positions ``pos`` (n, 2) m on floors ``floor`` (n,)."""
        if not self.stale(pos):
            return self.index
        n = len(pos)
        if n < 2:
            self.index = np.full((n, self.k), n, np.int64)
        else:
            pts = np.column_stack([pos, floor.astype(np.float64) * FLOOR_SEPARATION])
            k = min(self.k + 1, n)
            _, idx = cKDTree(pts).query(
                pts, k=k, distance_upper_bound=self.cutoff + self.skin, workers=self.workers
            )
            idx = idx[:, 1:]  # the first hit is the agent itself
            if idx.shape[1] < self.k:
                idx = np.pad(idx, ((0, 0), (0, self.k - idx.shape[1])), constant_values=n)
            self.index = idx
        self._p0 = pos.copy()
        self.builds += 1
        return self.index
