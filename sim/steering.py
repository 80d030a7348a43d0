"""People in the crowd: agents steered by a participant instead of a navigation field.

A participant's avatar is an agent like the others (it collides with walls and people,
slows in smoke, boards stairs, leaves by an exit and is counted and timed), whose desired
direction and speed come from its person: a direction held (keys) or a point to walk to
(click-to-go: along a route round walls, computed once per click). Steering inputs are
drill commands (``person_join``, ``steer``, ``release``, :meth:`sim.drill.Drill.apply`),
applied at tick boundaries and recorded with their tick, so a drill with walking
participants re-simulates bit for bit.

The arrays here hold one row per steered agent (a handful), keyed by agent id.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from scipy.spatial import cKDTree

from sim.agents.crowd import Choice, Crowd, State
from sim.agents.population import lattice
from sim.scenes.model import Floor

__all__ = ["ARRIVE_M", "MAX_SPEED", "PERSON_RADIUS", "PERSON_SPEED", "Steering", "free_spot",
           "person_row"]

MAX_SPEED = 1.6
"""Fastest a person may walk their avatar, m/s (a brisk walk: drills forbid running)."""
PERSON_SPEED = 1.34
"""Default walking speed of an avatar, and its free speed on stairs, m/s (Weidmann 1993)."""
PERSON_RADIUS = 0.2
"""Body radius of an avatar, m."""
ARRIVE_M = 0.15
"""Distance at which a click-to-go walk has arrived and stops, m."""
STRAIGHT_M = 1.0
"""Within this distance of the point walked to, head straight for it (not down the field), m."""
SPAWN_SPACING = 0.5
"""Spacing of the candidate places searched for a free spot, m."""
SPAWN_GAP = 0.05
"""Clearance to walls and other agents of a new avatar, m."""
SPAWN_SEARCH_M = 10.0
"""A free spot is looked for within this distance of the point asked for first, m."""


@dataclass
class Steering:
    """The steering inputs of every steered agent, by agent id."""

    ids: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    """(m,) agent ids, ascending."""
    dir: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    """(m, 2) unit direction held, or zero."""
    to: np.ndarray = field(default_factory=lambda: np.full((0, 2), np.nan))
    """(m, 2) point walked to (NaN: none), m."""
    to_floor: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int16))
    """(m,) floor the point lies on."""
    speed: np.ndarray = field(default_factory=lambda: np.zeros(0))
    """(m,) desired speed, m/s (0: standing)."""
    names: dict[int, str] = field(default_factory=dict)
    """Agent id -> the person's name (for reports)."""
    routes: dict[int, np.ndarray] = field(default_factory=dict)
    """Agent id -> (cells, 2) float32 directions of the route to its point (click-to-go)."""

    def __len__(self) -> int:
        return len(self.ids)

    def add(self, agent: int, name: str) -> None:
        """Steer agent ``agent`` from now on (standing still)."""
        at = int(np.searchsorted(self.ids, agent))
        self.ids = np.insert(self.ids, at, agent)
        self.dir = np.insert(self.dir, at, 0.0, axis=0)
        self.to = np.insert(self.to, at, np.nan, axis=0)
        self.to_floor = np.insert(self.to_floor, at, 0)
        self.speed = np.insert(self.speed, at, 0.0)
        self.names[agent] = name

    def remove(self, agent: int) -> None:
        """Stop steering ``agent`` (it left, or its person handed it to the simulation)."""
        keep = self.ids != agent
        self.ids, self.dir, self.to = self.ids[keep], self.dir[keep], self.to[keep]
        self.to_floor, self.speed = self.to_floor[keep], self.speed[keep]
        self.routes.pop(agent, None)

    def index(self, agent: int) -> int:
        """Row of ``agent``; raises KeyError if it is not steered."""
        at = int(np.searchsorted(self.ids, agent))
        if at >= len(self.ids) or self.ids[at] != agent:
            raise KeyError(agent)
        return at

    def set(self, agent: int, *, direction: Any = None, to: Any = None, floor: int = 0,
            route: np.ndarray | None = None, speed: float) -> None:
        """Hold a direction (any length; zero stops) or walk to a point, at ``speed`` m/s.

        ``route``: (cells, 2) directions of the field leading to ``to`` on ``floor``
        (:func:`sim.nav.route_to`); without one the walk is a straight line.
        """
        i = self.index(agent)
        self.to[i] = np.nan
        self.dir[i] = 0.0
        self.routes.pop(agent, None)
        if to is not None:
            self.to[i] = to
            self.to_floor[i] = floor
            if route is not None:
                self.routes[agent] = route
        elif direction is not None:
            d = np.asarray(direction, float)
            norm = float(np.hypot(d[0], d[1]))
            if norm > 1e-9:
                self.dir[i] = d / norm
        self.speed[i] = speed if (to is not None or self.dir[i].any()) else 0.0

    def rows(self, crowd: Crowd, present: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(crowd rows, steering rows) of the steered agents still inside."""
        if not len(self.ids):
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        rows = np.searchsorted(crowd.id, self.ids)  # crowd ids stay ascending
        ok = rows < len(crowd.id)
        ok[ok] = crowd.id[rows[ok]] == self.ids[ok]
        ok[ok] = present[rows[ok]]
        return rows[ok], np.flatnonzero(ok)

    def desired(self, crowd: Crowd, rows: np.ndarray, k: np.ndarray, cells: np.ndarray,
                ) -> tuple[np.ndarray, np.ndarray]:
        """Desired unit directions (len, 2) and speeds (len,) m/s of steered ``rows``.

        ``cells``: the raster cell of every crowd row. A walk to a point follows its route
        field, then, within :data:`STRAIGHT_M`, heads straight for the point; it ends (and
        is forgotten) within :data:`ARRIVE_M` of it, or when the agent leaves its floor.
        """
        e = self.dir[k].copy()
        v = self.speed[k].copy()
        walk = np.isfinite(self.to[k, 0])
        if walk.any():
            w = np.flatnonzero(walk)
            d = self.to[k[w]] - crowd.pos[rows[w]]
            dist = np.hypot(d[:, 0], d[:, 1])
            done = (dist < ARRIVE_M) | (crowd.floor[rows[w]] != self.to_floor[k[w]])
            go = w[~done]
            e[go] = d[~done] / dist[~done, None]
            far = ~done & (dist >= STRAIGHT_M)
            for i in w[far]:  # a handful of people, each with its own field
                route = self.routes.get(int(self.ids[k[i]]))
                if route is not None and route[cells[rows[i]]].any():
                    e[i] = route[cells[rows[i]]]
            v[w[done]] = 0.0
            self.to[k[w[done]]] = np.nan
            self.speed[k[w[done]]] = 0.0
            for i in w[done]:
                self.routes.pop(int(self.ids[k[i]]), None)
        return e, v


def free_spot(floor: Floor, near: tuple[float, float], others: np.ndarray,
              others_r: np.ndarray, radius: float = PERSON_RADIUS) -> tuple[float, float]:
    """The place nearest ``near`` (x, y) m on ``floor`` with room for a body of ``radius``.

    ``others``: (m, 2) positions of the agents on that floor, ``others_r`` their radii.
    Raises ValueError when the floor has no room at all.
    """
    room = floor.area.buffer(-(radius + SPAWN_GAP))
    if room.is_empty:
        raise ValueError(f"floor '{floor.id}' has no room for a person")
    tree = cKDTree(others) if len(others) else None
    reach = float(others_r.max(initial=0.0)) + radius + SPAWN_GAP
    # Search near the point first (cheap on a large floor), then the whole floor.
    for region in (shapely.intersection(room, shapely.Point(near).buffer(SPAWN_SEARCH_M)), room):
        pts = lattice(region, SPAWN_SPACING, np.random.default_rng(0)) if not region.is_empty \
            else np.zeros((0, 2))
        pts = pts[np.argsort(np.hypot(pts[:, 0] - near[0], pts[:, 1] - near[1]), kind="stable")]
        if tree is not None and len(pts):
            d, _ = tree.query(pts, k=1, distance_upper_bound=reach)
            pts = pts[d >= reach]
        if len(pts):
            return float(pts[0, 0]), float(pts[0, 1])
    raise ValueError(f"floor '{floor.id}' has no free room for a person")


def person_row(agent: int, floor: int, pos: tuple[float, float], time: float) -> Crowd:
    """A one-row crowd for a person's avatar: moving now, steered, nearest exit as target."""
    return Crowd(
        id=np.array([agent], np.int64), pos=np.array([pos], float),
        floor=np.array([floor], np.int16), radius=np.array([PERSON_RADIUS]),
        v0=np.array([PERSON_SPEED]), premovement=np.array([time]),
        state=np.array([State.MOVING], np.uint8), choice=np.array([Choice.STEERED], np.uint8),
        assigned=np.array([-1], np.int16), target=np.array([-1], np.int16),
        heading=np.array([[1.0, 0.0]]), speed=np.zeros(1), group=np.array([-1], np.int16),
        stair_end=np.array([-1], np.int16), stair_times=np.zeros((1, 2)),
        stair_pos=np.zeros((1, 2)))


def walkable(floor: Floor, x: float, y: float) -> bool:
    """Whether (x, y) m lies in the walkable area of ``floor`` (not in a wall or outside)."""
    return bool(shapely.contains_xy(floor.area, x, y))
