"""Small scenario documents built in code, for unit and verification tests."""

from __future__ import annotations

from typing import Any

from sim.scenario import Scenario, parse


def corridor(length: float = 40.0, width: float = 2.0, **group: Any) -> dict[str, Any]:
    """A straight corridor scenario document with one exit strip at the far end."""
    g = {
        "floor": "G",
        "area": [[0.2, 0.2], [1.0, 0.2], [1.0, width - 0.2], [0.2, width - 0.2]],
        "count": 1,
        "speed": {"mean": 1.33, "sd": 0.0, "min": 0.3, "max": 2.5},
        "premovement": {"min": 0.0, "max": 0.0},
        "radius": 0.2,
        "exit": "E1",
    }
    g.update(group)
    return {
        "name": "corridor",
        "simulation": {"dt": 0.05, "max_time": 300, "seed": 1},
        "floors": [{"id": "G", "elevation": 0.0,
                    "walkable": [[0, 0], [length, 0], [length, width], [0, width]]}],
        "exits": [{"id": "E1", "floor": "G", "polygon": [
            [length - 0.2, 0], [length, 0], [length, width], [length - 0.2, width]]}],
        "groups": [g],
    }


def scenario(doc: dict[str, Any]) -> Scenario:
    """Parse a scenario document built in a test."""
    return parse(doc, source="<test>")
