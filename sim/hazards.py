"""Hazards an instructor injects into a drill (fire, smoke, flooding, gas, blocked exits).

This module holds the data that the simulation, the network layer and the renderer share.
A hazard is a disc on one floor (``radius`` 0 for hazards that have no extent, such as an
alarm or a power cut) that starts at a simulated time and lasts until it is cleared.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = ["HAZARD_KINDS", "Hazard", "HazardKind"]

HazardKind = Literal["fire", "smoke", "flood", "gas", "blocked_exit", "power_cut", "alarm"]
HAZARD_KINDS: tuple[str, ...] = ("fire", "smoke", "flood", "gas", "blocked_exit",
                                 "power_cut", "alarm")


@dataclass(frozen=True)
class Hazard:
    """One injected hazard.

    ``x``, ``y`` in metres in the floor's plan, ``radius`` in metres, ``start`` in
    simulated seconds. ``exit`` names the exit a ``blocked_exit`` hazard blocks.
    """

    id: str
    kind: HazardKind
    floor: int = 0
    x: float = 0.0
    y: float = 0.0
    radius: float = 0.0
    start: float = 0.0
    exit: str | None = None
    extra: dict[str, object] = field(default_factory=dict, compare=False)
