"""The scene model: what a building is to the simulation (metres, z up)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import shapely
from shapely.geometry import LineString, Polygon

__all__ = ["Exit", "Floor", "Measure", "Scene"]


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
