"""Walked stairs: people walk each flight with the crowd model, unrolled into a strip.

A stair of walking length ``L`` and clear width ``w`` is a strip ``0 <= s <= L`` (distance
from end 0 along the flight, landings included), ``|u| <= w / 2`` (offset across it, left
of the way from end 0), walled on both long sides. Everyone on it walks towards the far end
with the same collision-free speed model as on the floor plans (repulsion, evasion of
oncoming people, the time gap to the one ahead), at a free speed of ``v0 * factor`` where
the stair's factor depends on the direction (``Stair.speed_down``, ``Stair.speed_up``) and
a longer time gap ``[model] stair_time_gap`` (people keep a tread or two between them).
So the speed by density, the flow and the queue at the entry come from the model:

- *boarding*: an agent standing in an end area, whose route runs over the stair, steps on
  when one of the entry places across the first tread is clear of everyone on the flight;
  the others wait in the end area, and those behind them queue;
- *landing*: an agent that reached the far end steps into the other end area where there
  is room (:meth:`sim.stairs.StairEnds.set_down`); until then it stands on the last tread
  and holds up those behind, so flows merging on a landing slow each other down.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from sim.agents.crowd import State
from sim.agents.model import FAR, desired_velocity, wall_repulsion
from sim.agents.neighbours import NeighbourList
from sim.scenario import ModelParams
from sim.scenes.model import Scene
from sim.stairs import StairEnds, StairHost

__all__ = ["ENTRY_GAP", "LANE_SPACING", "WalkedStairs"]

ENTRY_GAP = 0.05
"""Clearance an entry place needs to everyone on the flight, m."""
LANE_SPACING = 0.45
"""Spacing of the entry places across the first tread, m."""
BODY = 0.2
"""Body radius used to lay out the entry places, m."""


class WalkedStairs(StairEnds):
    """Every stair of a scene walked as a strip with the crowd model."""

    def __init__(self, scene: Scene, params: ModelParams):
        super().__init__(scene)
        self.length = np.array([st.length for st in scene.stairs])
        """Walking length of each stair, m."""
        self.width = np.array([st.width for st in scene.stairs])
        """Clear width of each stair, m."""
        self.params = dataclasses.replace(params, time_gap=params.stair_time_gap)
        """The model's parameters on a flight (its time gap is the stair time gap)."""
        self.neighbours = NeighbourList()
        self._ids = np.zeros(0, np.int64)
        self.entries: list[np.ndarray] = []
        """Per stair end, the offsets across the flight of its entry places, keeping side
        first, m."""
        right = 1.0 if params.keep_side == "right" else -1.0
        for j in range(len(self.cost)):
            w = self.width[j // 2]
            n = max(1, 1 + int(max(w - 2 * BODY, 0.0) // LANE_SPACING))
            u = np.linspace(-w / 2 + BODY, w / 2 - BODY, n) if n > 1 else np.zeros(1)
            sign = 1.0 if j % 2 == 0 else -1.0
            self.entries.append(u[np.argsort(u * sign * right, kind="stable")])

    # ------------------------------------------------------------------ boarding

    def board(self, host: StairHost, steered: np.ndarray | None = None) -> np.ndarray:
        """Step agents standing in a stair end on their route onto the flight where there is
        room; returns a row mask of agents that wait at a stair end this step."""
        waiting, queues = self.queues(host, steered)
        if not queues:
            return waiting
        c = host.crowd
        on = np.flatnonzero((c.state == State.ON_STAIRS) & host.active())
        # Ends used this step: boarding at one, or walking from it.
        busy = set(np.unique(c.stair_end[on]).tolist()) | {end for end, _ in queues}
        for end, queue in queues:
            stair = end // 2
            s0 = 0.0 if end % 2 == 0 else self.length[stair]
            there = on[c.stair_end[on] // 2 == stair]
            u = self.entries[end]
            if end ^ 1 in busy:  # two-way traffic: keep to one's own half of the flight
                if len(u) == 1 and (end % 2 or (c.stair_end[there] == end ^ 1).any()):
                    waiting[queue] = True  # single file: one way at a time, end 0 first
                    continue
                u = u[:max(1, len(u) // 2)]
            if len(there):
                d = np.hypot(s0 - c.stair_pos[there, 0][None, :],
                             u[:, None] - c.stair_pos[there, 1][None, :])
                room = (d - c.radius[there][None, :]).min(axis=1) - BODY
                u = u[room >= ENTRY_GAP]
            go = queue[:len(u)]
            if len(go):
                self.board_rows(host, go, end)
                c.stair_pos[go, 0] = s0
                c.stair_pos[go, 1] = u[:len(go)]
                c.stair_times[go, 1] = np.nan
                c.heading[go] = (1.0 if end % 2 == 0 else -1.0, 0.0)
            waiting[queue[len(go):]] = True
        return waiting

    # ------------------------------------------------------------------ walking

    def walk(self, host: StairHost) -> None:
        """Walk everyone on a flight for one step with the crowd model."""
        c = host.crowd
        rows = np.flatnonzero((c.state == State.ON_STAIRS) & host.active())
        if not len(rows):
            return
        n = len(rows)
        end = c.stair_end[rows].astype(np.int64)
        stair = end // 2
        sign = np.where(end % 2 == 0, 1.0, -1.0)
        s, u = c.stair_pos[rows, 0], c.stair_pos[rows, 1]
        length, half, r = self.length[stair], self.width[stair] / 2, c.radius[rows]
        # The two long sides are walls: vectors from each agent to them.
        side = np.stack([half - u, -half - u], axis=1)
        vec = np.zeros((n, 2, 2))
        vec[:, :, 1] = side
        e0 = np.column_stack([sign, np.zeros(n)])
        e0 += wall_repulsion(r, vec, np.abs(side), self.params)
        ids = c.id[rows]
        if len(ids) != len(self._ids) or (ids != self._ids).any():
            self.neighbours.invalidate()
            self._ids = ids
        nb = self.neighbours.update(c.stair_pos[rows], stair, r)
        x = np.append(s, FAR).astype(np.float32)
        y = np.append(u, FAR).astype(np.float32)
        route = np.append(np.where(sign > 0, length - s, s), np.inf).astype(np.float32)
        queue = np.append(end, -1).astype(np.int16)
        vel = np.zeros((n + 1, 2), np.float32)
        vel[:-1] = c.heading[rows] * c.speed[rows, None]
        v0 = c.v0[rows] * self.factor[end]
        e, speed = desired_velocity(x, y, v0, e0, c.heading[rows], nb, self.neighbours.reach,
                                    route, queue, self.params, velocity=vel)
        new = c.stair_pos[rows] + e * (speed * host.dt)[:, None]
        new[:, 0] = np.clip(new[:, 0], 0.0, length)
        lim = np.maximum(half - r, 0.0)
        new[:, 1] = np.clip(new[:, 1], -lim, lim)
        c.speed[rows] = np.hypot(*(new - c.stair_pos[rows]).T) / host.dt
        c.heading[rows] = e
        c.stair_pos[rows] = new
        reached = np.where(sign > 0, new[:, 0] >= length, new[:, 0] <= 0.0)
        first = reached & np.isnan(c.stair_times[rows, 1])
        c.stair_times[rows[first], 1] = host.time + host.dt

    # ------------------------------------------------------------------ landing

    def land(self, host: StairHost) -> list[int]:
        """Set down agents that reached the far end where there is room; returns floors."""
        c = host.crowd
        due = np.flatnonzero((c.state == State.ON_STAIRS) & np.isfinite(c.stair_times[:, 1])
                             & host.active())
        landed, floors = self.set_down(host, due)
        if len(landed):
            self.neighbours.invalidate()
        return floors

    def positions(self, host: StairHost, rows: np.ndarray) -> np.ndarray:
        """(x, y, z) of agents on stairs, m: their place along and across each flight drawn
        on the straight line between its two end areas."""
        c = host.crowd
        end = c.stair_end[rows].astype(np.int64)
        f = c.stair_pos[rows, 0] / np.maximum(self.length[end // 2], 1e-9)
        f = np.where(end % 2 == 0, f, 1.0 - f)
        return self.place(rows, end, f, c.stair_pos[rows, 1])
