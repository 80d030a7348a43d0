"""Registry of built-in scene generators, by the name a scenario gives in ``scene = "..."``."""

from __future__ import annotations

from collections.abc import Callable

from sim.scenes.model import Scene

__all__ = ["BUILDERS"]

BUILDERS: dict[str, Callable[..., Scene]] = {}
"""Built-in scene name -> generator taking the ``[scene_params]`` as keyword arguments."""
