"""Traffic on stairs: who boards at which end, where people land, and the fast queue link.

A stair links an end area on one floor to an end area on another. An agent whose route
runs over a stair boards it when its centre is inside the end area and the stair lets it
on; it lands in the other end area when there is room there. Two ways of crossing share
this module's boarding and landing:

- :class:`sim.stair_walk.WalkedStairs` (the default): people walk the flight with the crowd
  model, so the flow, the speed by density and the queue at the entry come from the model;
- :class:`QueuedStairs` (``[model] stairs = "queue"``, the fast option): boarding is limited
  to one agent per headway ``1 / (STAIR_FLOW * effective width)``; on the stair an agent
  is off both floor plans and lands after ``length / (v0 * factor)`` seconds, never before
  the one that boarded ahead of it.

Both work on a :class:`StairHost` (the drill), so this module does not import the drill.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from sim.agents.crowd import Crowd, State
from sim.agents.population import lattice
from sim.nav import Navigation, stair_cost
from sim.scenario import ModelParams
from sim.scenes.model import Scene

__all__ = ["BOUNDARY_LAYER", "LAND_PATIENCE", "STAIR_FLOW", "QueuedStairs", "StairEnds",
           "StairHost"]

STAIR_FLOW = 1.1
"""Largest flow on a stair for the queue link, persons per second per metre of effective
width (SFPE handbook: 1.01-1.16 for common riser/tread ratios)."""
BOUNDARY_LAYER = 0.15
"""Width lost along each side of a stair (SFPE effective width), m."""
SLOT_SPACING = 0.45
"""Spacing of the places an arriving agent can land on, m."""
LAND_CLEARANCE = 0.25
"""Room a landing place needs between its centre and anyone's body, m."""
LAND_PATIENCE = 2.0
"""After waiting this long at the far end, an agent lands on any place not covered by a
body (the crowd model then sorts the overlap out), s: two streams crossing at one end
area cannot block each other for good."""


class StairHost(Protocol):
    """What stair traffic reads and changes of a drill."""

    scene: Scene
    nav: Navigation
    crowd: Crowd
    params: ModelParams
    time: float
    dt: float
    cells: np.ndarray
    stair_armed: np.ndarray

    def active(self) -> np.ndarray:
        """Row mask of agents still in the building."""
        ...


class StairEnds:
    """Boarding wishes and landing places at every stair end of a scene.

    Stair ends are numbered ``j = 2 * stair + end``; boarding end ``j`` walks the stair
    away from ``Stair.areas[j % 2]`` and lands in the other area.
    """

    def __init__(self, scene: Scene):
        n_ends = 2 * len(scene.stairs)
        self.cost = np.array([stair_cost(scene, j // 2, j % 2) for j in range(n_ends)])
        """Route-length equivalent of each stair from each end, m (length / speed factor)."""
        self.factor = np.array([
            st.speed_down if _down(scene, s, k) else st.speed_up
            for s, st in enumerate(scene.stairs) for k in (0, 1)])
        """Walking speed on the stair from each end as a fraction of flat speed."""
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
                p = st.areas[1 - k].representative_point()
                pts = np.array([[p.x, p.y]])
            self.slots.append(np.asarray(pts))
            for e, kk in ((0, k), (1, 1 - k)):
                p = st.areas[kk].representative_point()
                self.centres[j, e] = (p.x, p.y, scene.floors[st.floors[kk]].elevation)

    def queues(self, host: StairHost, steered: np.ndarray | None
               ) -> tuple[np.ndarray, list[tuple[int, np.ndarray]]]:
        """Agents standing in a stair end that want to board it, per end, in boarding order.

        ``steered`` rows (people's avatars) want to board a stair when they walk into its end
        area, whatever their route (not when they stand in it, as after landing there).
        Returns an all-False row mask (to mark who waits) and ``(end, rows)`` pairs.
        """
        c, nav = host.crowd, host.nav
        waiting = np.zeros(len(c), bool)
        out: list[tuple[int, np.ndarray]] = []
        if not len(self.cost):
            return waiting, out
        if steered is None:
            steered = waiting
        on_floor = (c.state == State.MOVING) & host.active() & ((c.target >= 0) | steered)
        for fi, end_cells in enumerate(nav.end_cells):
            rows = np.flatnonzero(on_floor & (c.floor == fi))
            if not len(rows):
                continue
            j = end_cells[host.cells[rows]]
            at = j >= 0
            person = steered[rows]
            if person.any():  # out of every stair end: the next one walked into is boarded
                host.stair_armed[c.id[rows[person & ~at]]] = True
            rows, j = rows[at], j[at].astype(np.int64)
            if not len(rows):
                continue
            tgt = np.maximum(c.target[rows], 0).astype(np.int64)
            here = nav.distance[fi][tgt, host.cells[rows]]
            want = np.isfinite(nav.via[j, tgt]) & (nav.via[j, tgt] <= here + 1e-3)
            person = steered[rows]
            want[person] = host.stair_armed[c.id[rows[person]]]
            rows, j = rows[want], j[want]
            for end in np.unique(j):
                queue = rows[j == end]
                out.append((int(end), queue[np.argsort(c.id[queue], kind="stable")]))
        return waiting, out

    def board_rows(self, host: StairHost, rows: np.ndarray, end: int) -> None:
        """Mark ``rows`` as on the stair from ``end`` from now on."""
        c = host.crowd
        c.state[rows] = State.ON_STAIRS
        c.stair_end[rows] = end
        host.stair_armed[c.id[rows]] = False
        c.stair_times[rows, 0] = host.time

    def set_down(self, host: StairHost, due: np.ndarray) -> tuple[np.ndarray, list[int]]:
        """Land the ``due`` rows (in order of arrival) where their end area has room.

        Returns the rows landed and the floors they landed on.
        """
        c = host.crowd
        landed: list[np.ndarray] = []
        floors: list[int] = []
        for end in np.unique(c.stair_end[due]):
            rows = due[c.stair_end[due] == end]
            rows = rows[np.argsort(c.stair_times[rows, 1], kind="stable")]
            st, k = host.scene.stairs[end // 2], end % 2
            floor = st.floors[1 - k]
            slots = self.slots[end]
            # Only bodies that reach within the clearance of some place matter.
            near = LAND_CLEARANCE + float(c.radius.max(initial=0.0))
            (x0, y0), (x1, y1) = slots.min(axis=0) - near, slots.max(axis=0) + near
            px, py = c.pos[:, 0], c.pos[:, 1]
            others = np.flatnonzero((px >= x0) & (px <= x1) & (py >= y0) & (py <= y1)
                                    & (c.floor == floor) & (c.state != State.ON_STAIRS)
                                    & host.active())
            if len(others):
                d = np.hypot(*(slots[:, None, :] - c.pos[others][None, :, :]).transpose(2, 0, 1))
                room = (d - c.radius[others][None, :]).min(axis=1)
            else:
                room = np.full(len(slots), np.inf)
            free_slots = slots[room >= LAND_CLEARANCE]
            n = min(len(rows), len(free_slots))
            if n < len(rows) and host.time - c.stair_times[rows[n], 1] >= LAND_PATIENCE:
                # Long wait: any place not covered by a body, roomiest first.
                rest = np.argsort(-room)
                rest = rest[(room[rest] > 0) & (room[rest] < LAND_CLEARANCE)]
                free_slots = np.concatenate([free_slots, slots[rest[:1]]])
                n = min(len(rows), len(free_slots))
            if n == 0:
                continue
            go = rows[:n]
            c.pos[go] = free_slots[:n]
            c.floor[go] = floor
            c.state[go] = State.MOVING
            c.stair_end[go] = -1
            landed.append(go)
            floors.append(floor)
        rows = np.concatenate(landed) if landed else np.zeros(0, np.int64)
        return rows, floors

    def walk(self, host: StairHost) -> None:
        """Move the agents on the stairs by one step (nothing to do for a link)."""

    def place(self, rows: np.ndarray, end: np.ndarray, along: np.ndarray,
              across: np.ndarray | None = None) -> np.ndarray:
        """(x, y, z) at fraction ``along`` of the way from each end and ``across`` m to the
        left of the way from end 0 (drawn on the straight line between the end areas), m."""
        a, b = self.centres[end, 0], self.centres[end, 1]
        xyz = a + (b - a) * np.clip(along, 0.0, 1.0)[:, None]
        if across is not None:
            d = b[:, :2] - a[:, :2]
            norm = np.maximum(np.hypot(d[:, 0], d[:, 1]), 1e-9)
            sign = np.where(end % 2 == 0, 1.0, -1.0)  # across is measured from end 0's way
            xyz[:, 0] -= d[:, 1] / norm * across * sign
            xyz[:, 1] += d[:, 0] / norm * across * sign
        return xyz


class QueuedStairs(StairEnds):
    """The fast link: a width-capped boarding rate and a fixed walk per agent."""

    def __init__(self, scene: Scene):
        super().__init__(scene)
        self.headway = np.array([
            1.0 / (STAIR_FLOW * max(st.width - 2 * BOUNDARY_LAYER, 0.3))
            for st in scene.stairs for _ in (0, 1)])
        """Seconds between two agents entering each stair end."""
        self.next_board = np.zeros(len(self.cost))
        self.last_landing = np.full(len(self.cost), -np.inf)

    def board(self, host: StairHost, steered: np.ndarray | None = None) -> np.ndarray:
        """Put agents standing in a stair end on their route onto the stair.

        Returns a row mask of agents that wait at a stair end this step (they stand still).
        """
        waiting, queues = self.queues(host, steered)
        for end, queue in queues:
            n_go = self._tokens(end, host.time, host.dt, len(queue))
            self._enter(host, queue[:n_go], end)
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

    def _enter(self, host: StairHost, rows: np.ndarray, end: int) -> None:
        if not len(rows):
            return
        c = host.crowd
        h = self.headway[end]
        arrive = host.time + self.cost[end] / np.maximum(c.v0[rows], 0.1)
        # No overtaking on a stair: each lands at least a headway after the one before.
        idx = np.arange(len(rows))
        landing = np.maximum.accumulate(arrive - idx * h)
        landing = np.maximum(landing, self.last_landing[end] + h) + idx * h
        self.last_landing[end] = landing[-1]
        self.board_rows(host, rows, end)
        c.stair_times[rows, 1] = landing
        length = host.scene.stairs[end // 2].length
        c.speed[rows] = length / np.maximum(landing - host.time, 1e-6)

    def land(self, host: StairHost) -> list[int]:
        """Set down agents whose walk is over where there is room; returns floors touched."""
        c = host.crowd
        due = np.flatnonzero((c.state == State.ON_STAIRS)
                             & (c.stair_times[:, 1] <= host.time + 1e-9))
        return self.set_down(host, due)[1]

    def positions(self, host: StairHost, rows: np.ndarray) -> np.ndarray:
        """(x, y, z) of agents on stairs, along the straight line between the two ends, m."""
        c = host.crowd
        t0, t1 = c.stair_times[rows, 0], c.stair_times[rows, 1]
        f = (host.time - t0) / np.maximum(t1 - t0, 1e-9)
        return self.place(rows, c.stair_end[rows].astype(np.int64), f)


def _down(scene: Scene, stair: int, end: int) -> bool:
    st = scene.stairs[stair]
    return scene.floors[st.floors[end]].elevation >= scene.floors[st.floors[1 - end]].elevation
