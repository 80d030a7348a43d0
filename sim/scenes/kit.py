"""Shared pieces of the built-in scene generators: parameter checks, walls with doors,
local frames and dog-leg stair cores.

Conventions (see ``docs/scenes.md``): a floor's ``walkable`` polygon is the inside face of
its outer walls; interior walls are obstacle strips :data:`WALL` thick; a door is a gap
between two wall pieces; an exit is a strip just inside the outline at a door.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import Polygon

from sim.errors import ScenarioError

__all__ = [
    "WALL",
    "WORLD",
    "Core",
    "Frame",
    "check_bool",
    "check_float",
    "check_int",
    "check_seed",
    "dogleg_core",
    "dogleg_length",
    "flight_run",
    "rect",
    "split_widths",
]

WALL = 0.2
"""Thickness of interior walls and partitions, m."""
AREA_DEPTH = 1.2
"""Depth of a stair end area (where a flight starts or lands), m."""


# --------------------------------------------------------------------------- parameters


def check_int(name: str, value: object, lo: int, hi: int, why: str = "") -> int:
    """``value`` as an int in [lo, hi], else ScenarioError naming ``name`` and the range."""
    suffix = f" {why}" if why else ""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ScenarioError(f"must be an integer between {lo} and {hi}{suffix}, got {value!r}",
                            field=name)
    if not lo <= value <= hi:
        raise ScenarioError(f"must be between {lo} and {hi}{suffix}, got {value}", field=name)
    return int(value)


def check_float(name: str, value: object, lo: float, hi: float, why: str = "") -> float:
    """``value`` as a float in [lo, hi], else ScenarioError naming ``name`` and the range."""
    suffix = f" {why}" if why else ""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise ScenarioError(f"must be a number between {lo:g} and {hi:g}{suffix}, got {value!r}",
                            field=name)
    v = float(value)
    if not math.isfinite(v) or not lo <= v <= hi:
        raise ScenarioError(f"must be between {lo:g} and {hi:g}{suffix}, got {v:g}", field=name)
    return v


def check_bool(name: str, value: object) -> bool:
    """``value`` as a bool, else ScenarioError naming ``name``."""
    if not isinstance(value, bool | np.bool_):
        raise ScenarioError(f"must be true or false, got {value!r}", field=name)
    return bool(value)


def check_seed(value: object) -> int:
    """A seed for ``numpy.random.default_rng``: an integer between 0 and 2**63 - 1."""
    return check_int("seed", value, 0, 2**63 - 1)


# --------------------------------------------------------------------------- geometry


def rect(x0: float, y0: float, x1: float, y1: float) -> Polygon:
    """Axis-aligned rectangle between two corners (any order), m."""
    return shapely.box(min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))


@dataclass(frozen=True)
class Frame:
    """A local frame: ``u`` and ``v`` are axis-aligned unit vectors from ``origin``.

    Lets one piece of layout (a stair core, a shop band) be written once and placed on any
    facade, turned or mirrored.
    """

    origin: tuple[float, float]
    u: tuple[int, int]
    v: tuple[int, int]

    def point(self, u: float, v: float) -> tuple[float, float]:
        ox, oy = self.origin
        return (ox + u * self.u[0] + v * self.v[0], oy + u * self.u[1] + v * self.v[1])

    def box(self, u0: float, v0: float, u1: float, v1: float) -> Polygon:
        """The rectangle u in [u0, u1], v in [v0, v1], in world coordinates."""
        (x0, y0), (x1, y1) = self.point(u0, v0), self.point(u1, v1)
        return rect(x0, y0, x1, y1)

    def wall_u(self, u0: float, u1: float, v0: float, v1: float,
               doors: list[tuple[float, float]] = ()) -> list[Polygon]:
        """A wall running along u from u0 to u1 (v0..v1 thick) with door gaps (u intervals)."""
        return [self.box(a, v0, b, v1) for a, b in _pieces(u0, u1, doors)]

    def wall_v(self, v0: float, v1: float, u0: float, u1: float,
               doors: list[tuple[float, float]] = ()) -> list[Polygon]:
        """A wall running along v from v0 to v1 (u0..u1 thick) with door gaps (v intervals)."""
        return [self.box(u0, a, u1, b) for a, b in _pieces(v0, v1, doors)]


WORLD = Frame((0.0, 0.0), (1, 0), (0, 1))


def _pieces(a: float, b: float, gaps: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """The parts of [a, b] outside the gaps (pieces shorter than 1 mm dropped)."""
    out, at = [], a
    for g0, g1 in sorted(gaps):
        if g0 - at > 1e-3:
            out.append((at, g0))
        at = max(at, g1)
    if b - at > 1e-3:
        out.append((at, b))
    return out


def split_widths(rng: np.random.Generator, total: float, lo: float, hi: float) -> list[float]:
    """Random widths in about [lo, hi] that add up to ``total`` (one piece if it is short)."""
    if total < 1.5 * lo:
        return [total]
    widths: list[float] = []
    while sum(widths) < total:
        widths.append(float(rng.uniform(lo, hi)))
    # Drop or merge the last piece, then scale everything to the exact total.
    rest = total - sum(widths[:-1])
    if rest < lo and len(widths) > 1:
        widths.pop()
    scale = total / sum(widths)
    return [w * scale for w in widths]


# --------------------------------------------------------------------------- stairs


def flight_run(storey: float, riser_max: float, tread: float) -> tuple[int, float]:
    """Risers per flight and horizontal run of one flight of a two-flight (dog-leg) stair.

    ``storey`` is split into two equal flights of risers no higher than ``riser_max``; a
    flight of n risers has n - 1 treads.
    """
    risers = math.ceil(storey / riser_max / 2)
    return risers, (risers - 1) * tread


def dogleg_length(storey: float, width: float, riser_max: float, tread: float) -> float:
    """Walking length of one storey of a dog-leg stair: two sloping flights and the half-turn
    on the half landing (a semicircle through the middle of the flights), m."""
    _, run = flight_run(storey, riser_max, tread)
    return 2 * math.hypot(run, storey / 2) + math.pi * width / 2


@dataclass(frozen=True)
class Core:
    """One storey of a dog-leg stair core in world coordinates."""

    flights: Polygon
    """The flights and the half landing: an obstacle on the floor plan."""
    down: Polygon
    """End area where the flight down to the floor below starts (the upper end of that
    storey's Stair)."""
    arrive: Polygon
    """End area where the flight from the floor above lands (the lower end of the Stair of
    the storey above), beside :attr:`down`."""
    door: tuple[float, float]
    """v interval of the door in the wall at u = u0 (on the :attr:`down` side)."""


def dogleg_core(frame: Frame, u0: float, v0: float, v1: float, width: float,
                landing: float, run: float, back: float | None = None) -> Core:
    """A dog-leg stair core whose floor landing starts at u = u0 (the wall with the door).

    The landing is ``landing`` deep (u0 .. u0 + landing); beyond it lie the two flights side
    by side (v0 .. v0 + width going down, v1 - width .. v1 coming down from above) and the
    half landing, ``width`` deep. The end areas are :data:`AREA_DEPTH` deep at the foot of
    the flights; the door is on the side of the flight going down, so that people coming in
    never cross the area of the flight going up. ``back``, if given, is the u of the back
    wall: the flights block then reaches it (no sliver of floor behind the half landing).
    """
    u1 = u0 + landing
    return Core(
        flights=frame.box(u1, v0, max(u1 + run + width, back or 0.0), v1),
        down=frame.box(u1 - AREA_DEPTH, v0, u1, v0 + width),
        arrive=frame.box(u1 - AREA_DEPTH, v1 - width, u1, v1),
        door=(v0, v0 + width),
    )
