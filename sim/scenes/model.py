"""The scene model: what a building is to the simulation (metres, z up)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import shapely
from shapely.geometry import LineString, Polygon

__all__ = ["STAIR_KINDS", "Exit", "Floor", "Measure", "Scene", "SpeedZone", "Stair"]

STAIR_KINDS = ("stair", "escalator", "incline")


@dataclass(frozen=True, kw_only=True)
class SpeedZone:
    """Part of a floor where people walk slower (a slope, smoke, water), by a factor."""

    polygon: Polygon
    factor: float
    """Walking speed there as a fraction of the flat, clear-air speed (0 < factor <= 1)."""
    reason: str = "slow"
    """What slows people down: "slope", "smoke", "water", ... (for reports and rendering)."""


@dataclass(frozen=True, kw_only=True)
class Floor:
    """One storey: its walkable outline and the obstacles inside it."""

    id: str
    elevation: float
    """Height of the floor above the ground, m."""
    walkable: Polygon
    """Outer outline of the walkable area, m."""
    obstacles: tuple[Polygon, ...] = ()
    """Walls, columns and other holes in the walkable area, m."""
    zones: tuple[SpeedZone, ...] = ()
    """Areas of reduced walking speed."""

    @cached_property
    def area(self) -> Polygon:
        """The walkable area less the obstacles (may be a MultiPolygon)."""
        if not self.obstacles:
            return self.walkable
        return shapely.difference(self.walkable, shapely.union_all(self.obstacles))

    def wall_segments(self, openings: tuple[Polygon, ...] = ()) -> np.ndarray:
        """Boundary edges of :attr:`area`, shape ``(n, 2, 2)`` (segment, end, xy), m.

        Parts of the boundary inside ``openings`` (exits: doors to the outside) are left out.
        """
        lines = shapely.get_rings(shapely.get_parts(self.area))
        if openings:
            cut = shapely.union_all(openings)
            lines = shapely.get_parts(shapely.difference(lines, cut))
        segs = []
        for line in lines:
            xy = shapely.get_coordinates(line)
            if len(xy) > 1:
                segs.append(np.stack([xy[:-1], xy[1:]], axis=1))
        out = np.concatenate(segs) if segs else np.zeros((0, 2, 2))
        keep = np.hypot(*(out[:, 1] - out[:, 0]).T) > 1e-9
        return out[keep]


@dataclass(frozen=True, kw_only=True)
class Exit:
    """An area that an agent has left the building by reaching (its centre inside it)."""

    id: str
    floor: int
    """Index of the floor in :attr:`Scene.floors`."""
    polygon: Polygon
    width: float
    """Width of the door that feeds the exit, m; used to estimate its queue."""
    open: bool = True
    """Whether the exit is open when the run starts."""
    kind: str = "exit"
    """"exit" (to the outside) or "refuge" (a place of safety inside, e.g. 避难硐室)."""


@dataclass(frozen=True, kw_only=True)
class Stair:
    """A flight (or chain of flights) linking an area on one floor to an area on another.

    Agents that step into either end area walk it at a reduced speed and come out in the
    other end area; its width caps how many can enter per second, the rest queue.
    """

    id: str
    floors: tuple[int, int]
    """Floor index of each end."""
    areas: tuple[Polygon, Polygon]
    """The area of each end: stepping into it (centre inside) boards the stair, m."""
    length: float
    """Walking length along the stair, landings included, m."""
    width: float
    """Clear width, m."""
    kind: str = "stair"
    """"stair", "escalator" (stopped, walked as a stair) or "incline" (a sloping roadway)."""
    speed_down: float = 0.75
    """Speed going down as a fraction of flat speed (SFPE: k = 1.05 on stairs vs 1.40 flat)."""
    speed_up: float = 0.5
    """Speed going up as a fraction of flat speed."""


@dataclass(frozen=True, kw_only=True)
class Measure:
    """A measuring line: agents crossing it are counted."""

    id: str
    floor: int
    line: LineString


@dataclass(frozen=True, kw_only=True)
class Scene:
    """A building: floors, exits and measuring lines."""

    name: str
    floors: tuple[Floor, ...]
    exits: tuple[Exit, ...]
    measures: tuple[Measure, ...] = field(default=())
    stairs: tuple[Stair, ...] = field(default=())

    def floor_index(self, floor_id: str) -> int:
        """Index of the floor called ``floor_id``; raises KeyError if there is none."""
        for i, f in enumerate(self.floors):
            if f.id == floor_id:
                return i
        raise KeyError(floor_id)

    def exit_index(self, exit_id: str) -> int:
        """Index of the exit called ``exit_id``; raises KeyError if there is none."""
        for i, e in enumerate(self.exits):
            if e.id == exit_id:
                return i
        raise KeyError(exit_id)
