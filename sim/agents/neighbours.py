"""Neighbour tables from a cell grid (:func:`sim.agents.kernels.nearest`), kept for several
steps thanks to a skin distance."""

from __future__ import annotations

import numpy as np

from sim.agents.kernels import nearest

__all__ = ["NeighbourList"]


class NeighbourList:
    """The k nearest agents within ``cutoff + skin`` of each agent, rebuilt only when needed.

    The table built at positions ``p0`` is reused until some agent has moved more than half
    the skin since: then any agent within ``cutoff`` now was within ``cutoff + skin`` then.
    (With more than k agents that close, the k nearest at build time are kept.)
    """

    def __init__(self, k: int = 12, cutoff: float = 2.0, skin: float = 1.0):
        self.k, self.cutoff, self.skin = k, cutoff, skin
        self.index = np.zeros((k, 0), np.int64)
        """(k, n) neighbour rows, neighbour-major; ``n`` marks a missing neighbour."""
        self.reach = np.zeros((k, 0), np.float32)
        """(k, n) sum of the radii of the agent and each neighbour, m."""
        self._p0: np.ndarray | None = None
        self.builds = 0
        """How many times the table has been built (for benchmarks)."""

    def invalidate(self) -> None:
        """Force a rebuild at the next :meth:`update` (rows were added or removed)."""
        self._p0 = None

    def stale(self, pos: np.ndarray) -> bool:
        """Whether the table must be rebuilt for positions ``pos`` (n, 2), m."""
        if self._p0 is None or len(self._p0) != len(pos):
            return True
        moved = pos - self._p0
        return bool(np.einsum("ij,ij->i", moved, moved).max(initial=0.0) >= (self.skin / 2) ** 2)

    def update(self, pos: np.ndarray, floor: np.ndarray, radius: np.ndarray) -> np.ndarray:
        """Neighbour rows for positions ``pos`` (n, 2) m on floors ``floor``, radii ``radius``."""
        if not self.stale(pos):
            return self.index
        self.index = nearest(np.ascontiguousarray(pos[:, 0]), np.ascontiguousarray(pos[:, 1]),
                             floor.astype(np.int64), self.k, self.cutoff + self.skin)
        rp = np.concatenate([radius, [0.0]])
        self.reach = (radius + rp[self.index]).astype(np.float32)
        self._p0 = pos.copy()
        self.builds += 1
        return self.index
