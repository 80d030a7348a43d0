"""Running a case's scenario document to the end in this engine, and what comes out.

A case measures on an :class:`Outcome` (exit times, line crossings, positions sampled
every 0.1 s) so that the same measuring code reads a run of this engine and one of
JuPedSim (:mod:`sim.verify.jps`). The scenario documents are the TOML files in
``sim/verify/cases/`` (:func:`case_doc`), edited for the variants of a case.
"""

from __future__ import annotations

import copy
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sim.errors import ScenarioError
from sim.scenario import Scenario, parse

__all__ = ["CASES_DIR", "Engine", "Frames", "Outcome", "case_doc", "case_path", "scenario"]

CASES_DIR = Path(__file__).resolve().parent / "cases"
"""Folder of the case scenarios (TOML), shipped with the package."""
SAMPLE_DT = 0.1
"""Interval of the positions kept in :attr:`Outcome.frames`, s."""


def case_path(name: str) -> Path:
    """Path of the case scenario ``name`` (without ``.toml``)."""
    return CASES_DIR / f"{name}.toml"


def case_doc(name: str) -> dict[str, Any]:
    """A fresh copy of the case scenario ``name`` as a TOML document (dict)."""
    path = case_path(name)
    try:
        return copy.deepcopy(_read(path))
    except FileNotFoundError:
        raise ScenarioError("verification case file not found", source=str(path)) from None


def _read(path: Path) -> dict[str, Any]:
    return tomllib.loads(path.read_text(encoding="utf-8"))


def scenario(doc: dict[str, Any]) -> Scenario:
    """Validate a case document; messages name its case file (the file of its ``name``)."""
    return parse(doc, source=str(case_path(str(doc.get("name", "case")).replace("-", "_"))))


@dataclass
class Frames:
    """Positions every :data:`SAMPLE_DT` seconds: ``t`` (T,) s, ``xy`` (T, N, 2) m by agent
    id, NaN where the agent is not on a floor plan (not yet placed, on a stair, out)."""

    t: np.ndarray
    xy: np.ndarray
    floor: np.ndarray | None = None
    """(T, N) floor index of each agent, -1 where absent (None: a single floor)."""

    def speeds(self) -> np.ndarray:
        """(T-1, N) speed between consecutive samples, m/s (NaN where unknown)."""
        d = np.diff(self.xy, axis=0)
        return np.hypot(d[..., 0], d[..., 1]) / np.diff(self.t)[:, None]

    def count_in(self, box: tuple[float, float, float, float], floor: int = 0) -> np.ndarray:
        """(T,) number of agents inside the box (x0, y0, x1, y1), m, on ``floor``."""
        x, y = self.xy[..., 0], self.xy[..., 1]
        x0, y0, x1, y1 = box
        with np.errstate(invalid="ignore"):
            inside = (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)
        if self.floor is not None:
            inside &= self.floor == floor
        return np.count_nonzero(inside, axis=1)

    def peak_density(self, box: tuple[float, float, float, float], floor: int = 0,
                     window: float = 2.0) -> float:
        """Highest density in the box averaged over ``window`` seconds, persons/m²."""
        x0, y0, x1, y1 = box
        n = self.count_in(box, floor).astype(float)
        k = max(1, round(window / SAMPLE_DT))
        if len(n) < k:
            return float(n.max(initial=0.0)) / ((x1 - x0) * (y1 - y0))
        mean = np.convolve(n, np.ones(k) / k, mode="valid")
        return float(mean.max()) / ((x1 - x0) * (y1 - y0))


@dataclass
class Outcome:
    """A finished run of one engine on one scenario."""

    engine: str
    """``"evacdrill"`` (this engine) or ``"jupedsim"``."""
    total: int
    exit_time: np.ndarray
    """(total,) time each agent left, s (NaN: still inside at the end)."""
    exit_used: np.ndarray
    """(total,) index of the exit each agent left by (-1: still inside)."""
    line_times: list[np.ndarray]
    """Per measuring line of the scenario, the sorted crossing times, s."""
    end_time: float
    """Simulated time when the run stopped, s."""
    v0: np.ndarray
    """(total,) desired speeds, m/s."""
    start: np.ndarray
    """(total, 2) start positions, m."""
    group: np.ndarray
    """(total,) index of the group each agent was placed by."""
    frames: Frames | None = None
    wall_s: float = 0.0
    seed: int = 1
    source: str = ""
    """The case file the scenario came from (or was varied from)."""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def evacuated(self) -> int:
        """Number of agents that left."""
        return int(np.count_nonzero(self.exit_used >= 0))

    @property
    def everyone_out(self) -> bool:
        """Whether every agent left before the run stopped."""
        return self.evacuated == self.total

    @property
    def evacuation_time(self) -> float | None:
        """Time the last agent left, s; None if someone is still inside."""
        return float(np.nanmax(self.exit_time)) if self.everyone_out and self.total else None


Observer = Callable[[Any], None]
"""Called with the drill before the first step and after every step (this engine only)."""


class Engine:
    """Runs case documents in this engine (:class:`sim.drill.Drill`)."""

    name = "evacdrill"

    def __init__(self) -> None:
        self.seeds: list[tuple[str, int]] = []
        """(scenario name, seed) of every run, for the report."""

    def __call__(self, doc: dict[str, Any], *, seed: int | None = None, frames: bool = False,
                 observe: Observer | None = None) -> Outcome:
        """Run ``doc`` until everyone is out or its max_time; ``frames``: keep positions."""
        from sim.drill import Drill

        t0 = time.perf_counter()
        scen = scenario(doc)
        drill = Drill(scen, seed=seed)
        self.seeds.append((scen.name, drill.seed))
        # Rows are agent ids until the first agents leave (then rows are compacted).
        start, v0, group = (drill.crowd.pos.copy(), drill.crowd.v0.copy(),
                            drill.crowd.group.astype(int))
        every = max(1, round(SAMPLE_DT / drill.dt))
        ts: list[float] = []
        xys: list[np.ndarray] = []
        fls: list[np.ndarray] = []

        def sample() -> None:
            xy = np.full((drill.total, 2), np.nan)
            fl = np.full(drill.total, -1, np.int16)
            rows = drill.on_plan()
            xy[drill.crowd.id[rows]] = drill.crowd.pos[rows]
            fl[drill.crowd.id[rows]] = drill.crowd.floor[rows]
            ts.append(drill.time)
            xys.append(xy)
            fls.append(fl)

        if frames:
            sample()
        if observe is not None:
            observe(drill)
        while not drill.done():
            drill.step()
            if observe is not None:
                observe(drill)
            if frames and drill.tick % every == 0:
                sample()
        out = Outcome(
            engine=self.name, total=drill.total, exit_time=drill.exit_time.copy(),
            exit_used=drill.exit_used.astype(int), end_time=drill.time,
            line_times=[np.sort(np.asarray(m.times)) for m in drill.measures],
            v0=v0, start=start, group=group,
            frames=Frames(np.asarray(ts), np.stack(xys), np.stack(fls)) if frames else None,
            seed=drill.seed, source=scen.source)
        out.wall_s = time.perf_counter() - t0
        return out

