"""Helpers of the renderer tests: drills of each scene, shared, and pixel tests."""

from __future__ import annotations

import numpy as np

from sim.drill import Drill
from sim.scenario import load

SCENES = ("mall", "school", "mine", "office")
"""Built-in scene scenarios (assets/*.toml) every picture test runs on."""


_DRILLS: dict[str, Drill] = {}


def drill_of(name: str, steps: int = 60) -> Drill:
    """A drill of scenario ``name`` advanced ``steps`` steps (3 s), shared across tests."""
    if name not in _DRILLS:
        d = Drill(load(name))
        for _ in range(steps):
            d.step()
        _DRILLS[name] = d
    return _DRILLS[name]


def window(img: np.ndarray, xy: np.ndarray, half: int = 2) -> np.ndarray:
    """Pixels (k, 3) int of the (2 half + 1)² window around pixel (column, row) ``xy``."""
    h, w = img.shape[:2]
    c, r = int(round(xy[0])), int(round(xy[1]))
    part = img[max(r - half, 0):min(r + half + 1, h), max(c - half, 0):min(c + half + 1, w)]
    return part.reshape(-1, 3).astype(int)


def is_green(px: np.ndarray) -> np.ndarray:
    """Which pixels (k, 3) look like an exit's green (lit or not)."""
    r, g, b = px.T
    return (g > r + 50) & (g > b + 40)


def is_red(px: np.ndarray) -> np.ndarray:
    """Which pixels look like the closed-exit / injured / fire red-orange."""
    r, g, b = px.T
    return (r > g + 60) & (r > b + 60)


def is_refuge_blue(px: np.ndarray) -> np.ndarray:
    """Which pixels look like the refuge chamber's blue (lit or not)."""
    r, g, b = px.T
    return (b > r + 60) & (g > r + 30)


def near_colour(px: np.ndarray, rgb: tuple[int, ...], tol: int = 40) -> np.ndarray:
    """Which pixels are within ``tol`` (sum of |differences|) of ``rgb``."""
    return np.abs(px - np.asarray(rgb[:3])[None, :]).sum(axis=1) <= tol
