"""Hazards an instructor injects into a drill (fire, smoke, flooding, gas, blocked exits).

This module holds the data that the simulation, the network layer and the renderer share.
A hazard is a disc on one floor (``radius`` 0 for hazards that have no extent, such as an
alarm or a power cut) that starts at a simulated time and lasts until it is cleared.

What each kind does to a drill (:meth:`sim.drill.Drill.inject`):

- ``fire``: exits on its floor within ``radius`` of the centre close; inside the disc
  people walk at ``factor`` of their speed (default as dense smoke).
- ``smoke``: inside the disc people walk at ``factor`` of their speed. The default 0.67 is
  the mean speed measured in smoke of extinction coefficient 2.2 m⁻¹ (≈ 0.9 m/s, Fridolf,
  Ronchi, Nilsson & Frantzich 2013, Fire Safety Journal 59:8-21) over the free walking
  speed 1.34 m/s; Jin (1978) found speeds falling further in thick irritant smoke, so pass
  a lower ``factor`` for that.
- ``gas`` (e.g. CO or methane in a mine roadway) and ``flood``: as smoke, with assumed
  defaults (0.7 wearing a self-rescuer, 0.5 wading); these are drill settings, not
  measured values.
- ``power_cut``: the whole floor (``radius`` 0) or the disc walks at ``factor`` (assumed
  0.8: emergency lighting only).
- ``blocked_exit``: closes ``exit``; clearing the hazard opens it again.
- ``alarm``: pre-movement of waiting agents counts from now if it was held (see
  :meth:`sim.drill.Drill.hold_premovement`); otherwise it only records the alarm.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["DEFAULT_FACTORS", "HAZARD_KINDS", "Hazard", "HazardKind", "hazard_from_dict"]

HazardKind = Literal["fire", "smoke", "flood", "gas", "blocked_exit", "power_cut", "alarm"]
HAZARD_KINDS: tuple[str, ...] = ("fire", "smoke", "flood", "gas", "blocked_exit",
                                 "power_cut", "alarm")
DEFAULT_FACTORS: dict[str, float] = {
    "fire": 0.67, "smoke": 0.67, "gas": 0.7, "flood": 0.5, "power_cut": 0.8,
    "blocked_exit": 1.0, "alarm": 1.0,
}
"""Walking speed factor inside a hazard when the inject gives none (see the module doc)."""
MAX_RADIUS = 1.0e4
"""Largest hazard radius accepted, m."""


@dataclass(frozen=True)
class Hazard:
    """One injected hazard.

    ``x``, ``y`` in metres in the floor's plan, ``radius`` in metres, ``start`` in
    simulated seconds. ``exit`` names the exit a ``blocked_exit`` hazard blocks.
    ``factor`` is the walking speed factor inside the hazard (None: the kind's default).
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
    factor: float | None = None

    @property
    def speed_factor(self) -> float:
        """Walking speed factor inside the hazard (1: no effect on speed)."""
        return DEFAULT_FACTORS[self.kind] if self.factor is None else self.factor

    def to_dict(self) -> dict[str, Any]:
        """Plain dict of the hazard (for messages and logs); ``extra`` is left out."""
        return {"id": self.id, "kind": self.kind, "floor": self.floor, "x": self.x,
                "y": self.y, "radius": self.radius, "start": self.start, "exit": self.exit,
                "factor": self.speed_factor}


def hazard_from_dict(d: dict[str, Any], *, hazard_id: str, start: float) -> Hazard:
    """Build a hazard from plain fields (``kind``, ``floor``, ``x``, ``y``, ...).

    Raises ValueError naming the field when a value is of the wrong type or range.
    """
    kind = d.get("kind")
    if kind not in HAZARD_KINDS:
        raise ValueError(f"kind must be one of {', '.join(HAZARD_KINDS)}; got {kind!r}")
    vals: dict[str, float] = {}
    for key, lo, hi in (("x", -1e5, 1e5), ("y", -1e5, 1e5), ("radius", 0.0, MAX_RADIUS)):
        v = d.get(key, 0.0)
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) \
                or not lo <= v <= hi:
            raise ValueError(f"{key} must be a number from {lo:g} to {hi:g}")
        vals[key] = float(v)
    floor = d.get("floor", 0)
    if isinstance(floor, bool) or not isinstance(floor, int) or floor < 0:
        raise ValueError("floor must be a floor index >= 0")
    factor = d.get("factor")
    if factor is not None and (isinstance(factor, bool) or not isinstance(factor, int | float)
                               or not 0.05 <= factor <= 1.0):
        raise ValueError("factor must be a number from 0.05 to 1")
    exit_id = d.get("exit")
    if kind == "blocked_exit" and not (isinstance(exit_id, str) and exit_id):
        raise ValueError("a blocked_exit needs exit = the id of an exit")
    if exit_id is not None and not isinstance(exit_id, str):
        raise ValueError("exit must be an exit id (string)")
    return Hazard(id=hazard_id, kind=kind, floor=floor, x=vals["x"], y=vals["y"],
                  radius=vals["radius"], start=start, exit=exit_id,
                  factor=None if factor is None else float(factor))
