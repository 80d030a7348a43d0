"""Scenario documents for verification tests, and a helper that runs a drill to the end."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sim.drill import Drill
from sim.scenario import parse

SPEED_134 = {"mean": 1.34, "sd": 0.26, "min": 0.5, "max": 2.0}


def door_room(width: float = 1.0, count: int = 150, seed: int = 1) -> dict[str, Any]:
    """A 10 m x 10 m room whose east wall has a door of ``width`` m, an exit 3.5 m beyond.

    The measuring line ``door`` lies across the door opening.
    """
    y0, y1 = 5 - width / 2, 5 + width / 2
    return {
        "name": "door",
        "simulation": {"dt": 0.05, "max_time": 400, "seed": seed},
        "floors": [{
            "id": "G",
            "walkable": [[0, 0], [14, 0], [14, 10], [0, 10]],
            "obstacles": [
                [[10, 0], [10.2, 0], [10.2, y0], [10, y0]],
                [[10, y1], [10.2, y1], [10.2, 10], [10, 10]],
            ],
        }],
        "exits": [{"id": "out", "polygon": [[13.7, 0], [14, 0], [14, 10], [13.7, 10]],
                   "width": width}],
        "groups": [{"area": [[0.5, 0.5], [9.5, 0.5], [9.5, 9.5], [0.5, 9.5]], "count": count,
                    "speed": SPEED_134, "exit": "out"}],
        "measure": [{"id": "door", "line": [[10.2, y0], [10.2, y1]]}],
    }


def corner(count: int = 20, seed: int = 1) -> dict[str, Any]:
    """RiMEA test 6: a 2 m wide corridor that turns left after 12 m, exit at the top."""
    return {
        "name": "corner",
        "simulation": {"dt": 0.05, "max_time": 120, "seed": seed},
        "floors": [{"id": "G", "walkable": [[0, 0], [12, 0], [12, 12], [10, 12], [10, 2],
                                            [0, 2]]}],
        "exits": [{"id": "top", "polygon": [[10, 11.7], [12, 11.7], [12, 12], [10, 12]]}],
        "groups": [{"area": [[0, 0], [6, 0], [6, 2], [0, 2]], "count": count,
                    "speed": SPEED_134, "exit": "top"}],
    }


def run_to_end(doc: dict[str, Any], on_step: Callable[[Drill], None] | None = None,
               seed: int | None = None) -> Drill:
    """Parse ``doc`` and step a drill until everyone is out or max_time."""
    drill = Drill(parse(doc, source="<test>"), seed=seed)
    while not drill.done():
        drill.step()
        if on_step is not None:
            on_step(drill)
    return drill
