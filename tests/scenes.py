"""Scenario documents for verification tests, and a helper that runs a drill to the end."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

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


def herding_room(count: int = 80, seed: int = 1) -> dict[str, Any]:
    """Two exits, a crowd on the quickest rule next to the narrower one (exit choice).

    A 10 m x 10 m room; exit ``A`` lies beyond a 1 m door in the east wall, exit ``B``
    beyond a 2 m door in the west wall. ``count`` agents stand in the east third, next to
    A, but most of them are out sooner by B: a drill that lets them all first head for A
    sees them change exit together (the herding of ``test_exit_choice_herding.py``).
    """
    return {
        "name": "herding",
        "simulation": {"dt": 0.05, "max_time": 300, "seed": seed},
        "floors": [{"id": "G", "walkable": [
            [0, 0], [10, 0], [10, 4.5], [11, 4.5], [11, 5.5], [10, 5.5], [10, 10], [0, 10],
            [0, 6], [-1, 6], [-1, 4], [0, 4]]}],
        "exits": [
            {"id": "A", "polygon": [[10.7, 4.5], [11, 4.5], [11, 5.5], [10.7, 5.5]], "width": 1.0},
            {"id": "B", "polygon": [[-1, 4], [-0.7, 4], [-0.7, 6], [-1, 6]], "width": 2.0},
        ],
        "groups": [{"area": [[6.5, 1], [9.5, 1], [9.5, 9], [6.5, 9]], "count": count,
                    "speed": SPEED_134, "exit_choice": "quickest"}],
    }


class TargetLog:
    """Records the exit every agent heads for after each step (pass as ``on_step``)."""

    def __init__(self) -> None:
        self.steps: list[tuple[float, np.ndarray, np.ndarray]] = []
        """(time s, agent ids, their targets) after every step."""

    def __call__(self, drill: Drill) -> None:
        self.steps.append((drill.time, drill.crowd.id.copy(), drill.crowd.target.copy()))

    def switches(self, total: int) -> tuple[np.ndarray, np.ndarray]:
        """Times (s) and agent ids of every change from one exit to another, in order."""
        last = np.full(total, -1)
        times: list[float] = []
        ids: list[np.ndarray] = []
        for t, agent, target in self.steps:
            # Rows are compacted when agents leave: map them by id, not by row.
            changed = (last[agent] >= 0) & (target >= 0) & (target != last[agent])
            times += [t] * int(changed.sum())
            ids.append(agent[changed])
            last[agent] = target
        return np.array(times), np.concatenate(ids) if ids else np.zeros(0, int)


def worst_window_share(times: np.ndarray, window: float = 1.0) -> float:
    """Largest fraction of ``times`` (s) inside any interval of ``window`` s; 0 if none."""
    t = np.sort(np.asarray(times, float))
    if not len(t):
        return 0.0
    inside = np.searchsorted(t, t + window - 1e-9) - np.arange(len(t))
    return float(inside.max() / len(t))
