"""Registry of built-in scene generators, by the name a scenario gives in ``scene = "..."``.

A generator is a function of documented keyword parameters (and a ``seed``) that returns a
:class:`Built`: the scene, a population suited to it and a sensible max_time. A parameter
out of range raises :class:`~sim.errors.ScenarioError` with ``field`` set to its name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sim.scenes.model import Scene

if TYPE_CHECKING:
    from sim.scenario import Group

__all__ = ["BUILDERS", "Built", "builders", "register"]


@dataclass(frozen=True, kw_only=True)
class Built:
    """What a generator returns."""

    scene: Scene
    groups: tuple[Group, ...]
    """Default population; a scenario's own [[groups]] replace it."""
    max_time: float = 600.0
    """Default simulated time limit, s."""


BUILDERS: dict[str, Callable[..., Built]] = {}
"""Built-in scene name -> generator taking the ``[scene_params]`` as keyword arguments."""


def register(name: str) -> Callable[[Callable[..., Built]], Callable[..., Built]]:
    """Decorator adding a generator to :data:`BUILDERS` under ``name``."""

    def add(fn: Callable[..., Built]) -> Callable[..., Built]:
        BUILDERS[name] = fn
        return fn

    return add


GENERATOR_MODULES = ("sim.scenes.mall", "sim.scenes.school", "sim.scenes.mine")
"""Modules that register generators when imported."""


def builders() -> dict[str, Callable[..., Built]]:
    """Every registered generator (importing the generator modules on first use)."""
    import importlib

    for mod in GENERATOR_MODULES:
        try:
            importlib.import_module(mod)
        except ModuleNotFoundError as exc:
            if exc.name != mod:
                raise
    return BUILDERS
