"""Step observers for this engine's runs: who boarded a stair when, who started when.

Each is built for one run and passed as ``observe=`` to :class:`sim.verify.engine.Engine`;
it reads the drill before the first step and after every step (rows may be compacted:
agents are found by id).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sim.agents.crowd import State

__all__ = ["StairLog", "StartLog"]


class StairLog:
    """Per agent id: the time it boarded a stair and the time it stepped off, s."""

    def __init__(self) -> None:
        self.boarded = np.zeros(0)
        self.landed = np.zeros(0)
        self.stair = np.zeros(0, int)

    def __call__(self, drill: Any) -> None:
        """Note boardings and landings of this step."""
        if len(self.boarded) < drill.total:
            grow = drill.total - len(self.boarded)
            self.boarded = np.append(self.boarded, np.full(grow, np.nan))
            self.landed = np.append(self.landed, np.full(grow, np.nan))
            self.stair = np.append(self.stair, np.full(grow, -1))
        c = drill.crowd
        on = c.state == State.ON_STAIRS
        ids = c.id[on]
        new = np.isnan(self.boarded[ids])
        self.boarded[ids[new]] = c.stair_times[on][new, 0]
        self.stair[ids[new]] = c.stair_end[on][new] // 2
        off = c.id[~on]
        done = np.isfinite(self.boarded[off]) & np.isnan(self.landed[off])
        self.landed[off[done]] = drill.time

    @property
    def ids(self) -> np.ndarray:
        """Ids of the agents that boarded a stair."""
        return np.flatnonzero(np.isfinite(self.boarded))


class StartLog:
    """Per agent id: the time it first moved (start of that step), and its pre-movement."""

    def __init__(self) -> None:
        self.start = np.zeros(0)
        self.premovement = np.zeros(0)
        self._pos = np.zeros((0, 2))

    def __call__(self, drill: Any) -> None:
        """Note agents that moved in this step."""
        c = drill.crowd
        if drill.tick == 0:  # before the first step: rows are agent ids
            self.start = np.full(drill.total, np.nan)
            self.premovement = c.premovement.copy()
            self._pos = c.pos.copy()
            return
        rows = drill.active()
        ids = c.id[rows]
        moved = np.hypot(*(c.pos[rows] - self._pos[ids]).T) > 1e-9
        first = moved & np.isnan(self.start[ids])
        self.start[ids[first]] = drill.time - drill.dt
