"""The crowd as a struct of numpy arrays (one row per agent still in the building)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from enum import IntEnum

import numpy as np

__all__ = ["Choice", "Crowd", "State"]


class State(IntEnum):
    """What an agent is doing (stored as uint8)."""

    WAITING = 0
    """Pre-movement: has not started to evacuate yet."""
    MOVING = 1
    EVACUATED = 2
    ON_STAIRS = 3
    """Walking a stair: off both floors' plans until it lands at the other end."""


class Choice(IntEnum):
    """Exit-choice rule of an agent (stored as uint8)."""

    ASSIGNED = 0
    NEAREST = 1
    QUICKEST = 2
    STEERED = 3
    """A person's avatar: walks where its participant steers it (:mod:`sim.steering`);
    its target is the nearest exit, which only breaks ties at doors and stairs."""


@dataclass(eq=False)
class Crowd:
    """Agents still in the building; rows are compacted away when agents leave.

    Every array has the same first dimension ``n``. ``id`` keeps an agent's identity
    across compactions.
    """

    id: np.ndarray
    """(n,) int64 agent id, 0-based, stable for the whole run."""
    pos: np.ndarray
    """(n, 2) float64 position, m."""
    floor: np.ndarray
    """(n,) int16 floor index."""
    radius: np.ndarray
    """(n,) float64 body radius, m."""
    v0: np.ndarray
    """(n,) float64 desired (free-walking) speed, m/s."""
    premovement: np.ndarray
    """(n,) float64 time at which the agent starts to move, s."""
    state: np.ndarray
    """(n,) uint8 :class:`State`."""
    choice: np.ndarray
    """(n,) uint8 :class:`Choice` rule."""
    assigned: np.ndarray
    """(n,) int16 assigned exit index, -1 if none."""
    target: np.ndarray
    """(n,) int16 exit the agent heads for now, -1 if none is reachable."""
    heading: np.ndarray
    """(n, 2) float64 unit vector of the last walking direction."""
    speed: np.ndarray
    """(n,) float64 current walking speed, m/s."""
    group: np.ndarray
    """(n,) int16 index of the group the agent was placed by."""
    stair_end: np.ndarray
    """(n,) int16 stair end boarded (``2 * stair + end``) while on a stair, else -1."""
    stair_times: np.ndarray
    """(n, 2) float64 time the agent boarded its stair and the time it lands (walked stairs:
    the time it reached the far end, NaN before), s."""
    stair_pos: np.ndarray
    """(n, 2) float64 place on the stair while on one: distance walked from end 0 along the
    flight and offset across it (left of the way from end 0 positive), m."""

    def __len__(self) -> int:
        return len(self.id)

    def extend(self, other: Crowd) -> None:
        """Append the rows of ``other`` (agents that joined during the run)."""
        for f in fields(self):
            setattr(self, f.name, np.concatenate([getattr(self, f.name), getattr(other, f.name)]))

    def keep(self, mask: np.ndarray) -> None:
        """Drop the rows where ``mask`` is False (agents that have left)."""
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name)[mask])
