"""Colours of everything the renderer draws (RGB or RGBA, 0-255).

The building colours are those of the GLB export (:data:`sim.scenes.export.COLOURS`), so a
picture and a VR client agree. Agents are coloured by state; tests look for these values.
"""

from __future__ import annotations

import numpy as np

from sim.agents.crowd import State
from sim.scenes.export import COLOURS as SCENE_COLOURS

__all__ = ["AGENT_COLOURS", "CLOSED_EXIT", "HAZARD_COLOURS", "INJURED", "SCENE_COLOURS",
           "SKY", "agent_colour_table"]

SKY = (235, 240, 245)
"""Background colour."""
CLOSED_EXIT = (200, 30, 30, 255)
"""An exit closed by the instructor or blocked by a hazard."""
AGENT_COLOURS: dict[State, tuple[int, int, int]] = {
    State.WAITING: (255, 200, 0),
    State.MOVING: (20, 60, 220),
    State.EVACUATED: (0, 170, 170),
    State.ON_STAIRS: (160, 40, 200),
}
"""Agent colour by :class:`sim.agents.crowd.State`."""
INJURED = (230, 20, 20)
"""Agents that cannot move (desired speed 0), whatever their state."""
HAZARD_COLOURS: dict[str, tuple[int, int, int, int]] = {
    "fire": (255, 90, 0, 255),
    "smoke": (70, 70, 70, 140),
    "flood": (30, 90, 200, 150),
    "gas": (190, 210, 30, 110),
    "blocked_exit": (200, 30, 30, 255),
    "power_cut": (20, 20, 20, 255),
    "alarm": (255, 0, 0, 255),
}
"""Colour of each hazard kind (alpha < 255: drawn translucent)."""


def agent_colour_table() -> np.ndarray:
    """RGBA lookup table, shape (256, 4) uint8: row ``state`` is that state's colour.

    Row 255 is :data:`INJURED`; states without a colour are magenta.
    """
    table = np.tile(np.array([255, 0, 255, 255], np.uint8), (256, 1))
    for state, rgb in AGENT_COLOURS.items():
        table[int(state), :3] = rgb
    table[255, :3] = INJURED
    return table
