"""Traffic on stairs: boarding at one end (capped by the stair's width), walking it at a
reduced speed, and landing at the other end when there is room.

An agent whose route runs over a stair boards it when its centre enters the stair's end
area. Boarding is limited to one agent per headway ``1 / (STAIR_FLOW * effective width)``;
the others wait at the entry, and those behind them queue. On the stair an agent is off
both floor plans (it neither blocks nor is blocked there); it lands after
``length / (v0 * factor)`` seconds, and never before the one that boarded ahead of it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.agents.crowd import State
from sim.agents.population import lattice
from sim.nav import stair_cost

if TYPE_CHECKING:
    from sim.drill import Drill

__all__ = ["BOUNDARY_LAYER", "STAIR_FLOW", "StairTraffic"]

STAIR_FLOW = 1.1
"""Largest flow on a stair, persons per second per metre of effective width (SFPE handbook:
1.01-1.26 for common riser/tread ratios)."""
BOUNDARY_LAYER = 0.15
"""Width lost along each side of a stair (SFPE effective width), m."""
SLOT_SPACING = 0.45
"""Spacing of the places an arriving agent can land on, m."""


class StairTraffic:
    """Boarding, walking and landing on every stair of a drill's scene."""

    def __init__(self, drill: Drill):
        scene = drill.scene
        n_ends = 2 * len(scene.stairs)
        self.headway = np.array([
            1.0 / (STAIR_FLOW * max(st.width - 2 * BOUNDARY_LAYER, 0.3))
            for st in scene.stairs for _ in (0, 1)])
        """Seconds between two agents entering each stair end."""
        self.cost = np.array([stair_cost(scene, j // 2, j % 2) for j in range(n_ends)])
        """Route-length equivalent of each stair from each end, m (length / speed factor)."""
        self.next_board = np.zeros(n_ends)
        self.last_landing = np.full(n_ends, -np.inf)
        rng = np.random.default_rng(0)
        self.slots: list[np.ndarray] = []
        """Per stair end, the places (m, 2) at the other end where its agents land, m."""
        self.centres = np.zeros((n_ends, 2, 3))
        """Per stair end, the (x, y, z) where its walk starts and ends (for drawing), m."""
        for j in range(n_ends):
            st, k = scene.stairs[j // 2], j % 2
            inner = st.areas[1 - k].buffer(-0.2)
            pts = lattice(inner, SLOT_SPACING, rng) if not inner.is_empty else []
            if len(pts) == 0:
                land = st.areas[1 - k]
                p = land.representative_point()
                pts = np.array([[p.x, p.y]])
            self.slots.append(np.asarray(pts))
            for e, kk in ((0, k), (1, 1 - k)):
                p = st.areas[kk].representative_point()
                self.centres[j, e] = (p.x, p.y, scene.floors[st.floors[kk]].elevation)

    def board(self, drill: Drill, steered: np.ndarray | None = None) -> np.ndarray:
        """Put agents standing in a stair end on their route onto the stair.

        ``steered`` rows (people's avatars) board a stair when they walk into its end
        area, whatever their route (not when they stand in it, as after landing there).
        Returns a row mask of agents that wait at a stair end this step (they stand still).
        """
        c, nav = drill.crowd, drill.nav
        waiting = np.zeros(len(c), bool)
        if not len(self.cost):
            return waiting
        if steered is None:
            steered = waiting
        on_floor = (c.state == State.MOVING) & drill.active() & ((c.target >= 0) | steered)
        for fi, end_cells in enumerate(nav.end_cells):
            rows = np.flatnonzero(on_floor & (c.floor == fi))
            if not len(rows):
                continue
            j = end_cells[drill.cells[rows]]
            at = j >= 0
            person = steered[rows]
            if person.any():  # out of every stair end: the next one walked into is boarded
                drill.stair_armed[c.id[rows[person & ~at]]] = True
            rows, j = rows[at], j[at].astype(np.int64)
            if not len(rows):
                continue
            tgt = np.maximum(c.target[rows], 0).astype(np.int64)
            here = nav.distance[fi][tgt, drill.cells[rows]]
            want = np.isfinite(nav.via[j, tgt]) & (nav.via[j, tgt] <= here + 1e-3)
            person = steered[rows]
            want[person] = drill.stair_armed[c.id[rows[person]]]
            rows, j = rows[want], j[want]
            for end in np.unique(j):
                queue = rows[j == end]
                queue = queue[np.argsort(c.id[queue], kind="stable")]
                n_go = self._tokens(int(end), drill.time, drill.dt, len(queue))
                self._enter(drill, queue[:n_go], int(end))
                waiting[queue[n_go:]] = True
        return waiting

    def _tokens(self, end: int, now: float, dt: float, wanted: int) -> int:
        """How many agents may enter ``end`` in the step [now, now + dt), spending them."""
        h = self.headway[end]
        start = max(self.next_board[end], now)
        if start >= now + dt - 1e-9 or not wanted:
            return 0
        n = min(wanted, int(np.ceil((now + dt - start) / h - 1e-9)))
        self.next_board[end] = start + n * h
        return n

    def _enter(self, drill: Drill, rows: np.ndarray, end: int) -> None:
        if not len(rows):
            return
        c = drill.crowd
        h = self.headway[end]
        arrive = drill.time + self.cost[end] / np.maximum(c.v0[rows], 0.1)
        # No overtaking on a stair: each lands at least a headway after the one before.
        idx = np.arange(len(rows))
        landing = np.maximum.accumulate(arrive - idx * h)
        landing = np.maximum(landing, self.last_landing[end] + h) + idx * h
        self.last_landing[end] = landing[-1]
        c.state[rows] = State.ON_STAIRS
        c.stair_end[rows] = end
        drill.stair_armed[c.id[rows]] = False
        c.stair_times[rows, 0] = drill.time
        c.stair_times[rows, 1] = landing
        length = drill.scene.stairs[end // 2].length
        c.speed[rows] = length / np.maximum(landing - drill.time, 1e-6)

    def land(self, drill: Drill) -> list[int]:
        """Set down agents whose walk is over where there is room; returns floors touched."""
        c = drill.crowd
        due = np.flatnonzero((c.state == State.ON_STAIRS) & (c.stair_times[:, 1] <= drill.time
                                                              + 1e-9))
        floors: list[int] = []
        for end in np.unique(c.stair_end[due]):
            rows = due[c.stair_end[due] == end]
            rows = rows[np.argsort(c.stair_times[rows, 1], kind="stable")]
            st, k = drill.scene.stairs[end // 2], end % 2
            floor = st.floors[1 - k]
            slots = self.slots[end]
            others = np.flatnonzero((c.floor == floor) & (c.state != State.ON_STAIRS)
                                    & drill.active())
            if len(others):
                d = np.hypot(*(slots[:, None, :] - c.pos[others][None, :, :]).transpose(2, 0, 1))
                free = (d - c.radius[others][None, :]).min(axis=1) >= 0.25
            else:
                free = np.ones(len(slots), bool)
            free_slots = slots[free]
            n = min(len(rows), len(free_slots))
            if n == 0:
                continue
            go = rows[:n]
            c.pos[go] = free_slots[:n]
            c.floor[go] = floor
            c.state[go] = State.MOVING
            c.stair_end[go] = -1
            floors.append(floor)
        return floors

    def positions(self, drill: Drill, rows: np.ndarray) -> np.ndarray:
        """(x, y, z) of agents on stairs, along the straight line between the two ends, m."""
        c = drill.crowd
        end = c.stair_end[rows].astype(np.int64)
        t0, t1 = c.stair_times[rows, 0], c.stair_times[rows, 1]
        f = np.clip((drill.time - t0) / np.maximum(t1 - t0, 1e-9), 0.0, 1.0)[:, None]
        a, b = self.centres[end, 0], self.centres[end, 1]
        return a + (b - a) * f
