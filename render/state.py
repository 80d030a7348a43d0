"""What the renderer draws at one instant, independent of where it came from.

A :class:`SceneState` is taken from a live :class:`sim.drill.Drill` (:func:`snapshot`) or
read from a run folder (:mod:`render.recording`). It holds copies, so a drill may go on
stepping in another thread while the state is drawn.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from sim.hazards import Hazard

if TYPE_CHECKING:
    from sim.drill import Drill

__all__ = ["AgentFrame", "SceneState", "empty_agents", "snapshot"]


@dataclass(frozen=True, kw_only=True)
class AgentFrame:
    """The agents in the building: one row per agent, every array of length ``n``."""

    id: np.ndarray
    """(n,) int64 agent id (stable for the whole run)."""
    xyz: np.ndarray
    """(n, 3) float64 position of the feet, m (z: the floor's elevation, or along a stair)."""
    state: np.ndarray
    """(n,) uint8 :class:`sim.agents.crowd.State`."""
    heading: np.ndarray
    """(n, 2) float64 unit vector of the walking direction in the plan."""
    radius: np.ndarray
    """(n,) float64 body radius, m."""
    injured: np.ndarray
    """(n,) bool: cannot move (desired speed 0); drawn in the injured colour."""

    def __len__(self) -> int:
        return len(self.id)


def empty_agents() -> AgentFrame:
    """An :class:`AgentFrame` with no agents."""
    return AgentFrame(id=np.zeros(0, np.int64), xyz=np.zeros((0, 3)),
                      state=np.zeros(0, np.uint8), heading=np.zeros((0, 2)),
                      radius=np.zeros(0), injured=np.zeros(0, bool))


@dataclass(frozen=True, kw_only=True)
class SceneState:
    """Everything that changes during a drill and shows in a picture."""

    time: float
    """Simulated time, s."""
    agents: AgentFrame
    exit_open: np.ndarray
    """(n_exits,) bool, in the order of ``scene.exits``."""
    hazards: tuple[Hazard, ...] = ()
    """Hazards in force at :attr:`time`."""
    notes: tuple[str, ...] = field(default=())
    """Remarks for the user (e.g. "recording truncated after frame 412")."""


def snapshot(drill: Drill) -> SceneState:
    """Copy the drawable state of ``drill`` now (vectorised; no loop over agents)."""
    rows, xyz = drill.positions()
    c = drill.crowd
    agents = AgentFrame(
        id=c.id[rows].astype(np.int64),
        xyz=np.asarray(xyz, np.float64),
        state=c.state[rows].astype(np.uint8),
        heading=c.heading[rows].astype(np.float64),
        radius=c.radius[rows].astype(np.float64),
        injured=c.v0[rows] == 0.0,
    )
    hazards = tuple(h for h in drill.hazards if h.start <= drill.time + 1e-9)
    return SceneState(time=float(drill.time), agents=agents,
                      exit_open=drill.exit_open.copy(), hazards=hazards)


