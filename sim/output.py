"""Writers of a run's results: PedPy-readable trajectories, an event log and the summary."""

from __future__ import annotations

import json
from pathlib import Path
from typing import IO, Any

import numpy as np

from sim.drill import Drill

__all__ = ["EventLog", "TrajectoryWriter", "summary"]


def _fixed(values: np.ndarray, decimals: int) -> np.ndarray:
    """Format numbers as fixed-point decimal strings, vectorised: (n,) bytes array."""
    scale = 10**decimals
    q = np.rint(values * scale).astype(np.int64)
    neg = q < 0
    q = np.abs(q)
    whole = (q // scale).astype("U20")
    frac = np.char.zfill((q % scale).astype("U20"), decimals)
    sign = np.where(neg, "-", "")
    return np.char.add(np.char.add(sign, whole), np.char.add(".", frac))


class TrajectoryWriter:
    """Writes ``id frame x y z`` rows for every k-th step, with a ``#framerate`` header.

    The file is the text format PedPy's ``load_trajectory_from_txt`` reads; x, y and z are
    in metres with millimetre precision, frames count written frames from 0.
    """

    def __init__(self, path: Path, drill: Drill, every: int):
        self.every = every
        self.frame = 0
        self._elev = np.array([f.elevation for f in drill.scene.floors])
        self._fh: IO[str] = open(path, "w", encoding="utf-8")  # noqa: SIM115 - closed in close()
        fps = 1.0 / (drill.dt * every)
        self._fh.write(f"#framerate: {fps:g}\n")
        self._fh.write(f"# scenario: {drill.scenario.name}  seed: {drill.seed}  "
                       f"dt: {drill.dt:g} s  written every {every} steps\n")
        self._fh.write("#ID\tFR\tX/m\tY/m\tZ/m\n")

    def maybe_write(self, drill: Drill) -> None:
        """Write the current state if this step is one to keep."""
        if drill.tick % self.every:
            return
        c = drill.crowd
        rows = drill.active()
        if rows.any():
            cols = [
                c.id[rows].astype("U12"),
                np.full(np.count_nonzero(rows), str(self.frame)),
                _fixed(c.pos[rows, 0], 3),
                _fixed(c.pos[rows, 1], 3),
                _fixed(self._elev[c.floor[rows]], 3),
            ]
            line = cols[0]
            for col in cols[1:]:
                line = np.char.add(np.char.add(line, "\t"), col)
            self._fh.write("\n".join(line.tolist()))
            self._fh.write("\n")
        self.frame += 1

    def close(self) -> None:
        self._fh.close()


class EventLog:
    """Appends events as JSON lines (``{"t": s, "type": ..., ...}``)."""

    def __init__(self, path: Path):
        self._fh: IO[str] = open(path, "w", encoding="utf-8")  # noqa: SIM115

    def write(self, events: list[dict[str, Any]]) -> None:
        for ev in events:
            self._fh.write(json.dumps(ev, ensure_ascii=False))
            self._fh.write("\n")

    def close(self) -> None:
        self._fh.close()


def summary(drill: Drill, wall_time: float) -> dict[str, Any]:
    """The figures of a finished (or stopped) run, as written to ``summary.json``."""
    scene = drill.scene
    exits = {e.id: int(np.count_nonzero(drill.exit_used == i)) for i, e in enumerate(scene.exits)}
    measures = {}
    for m, log in zip(scene.measures, drill.measures, strict=True):
        n = len(log.times)
        span = (log.times[-1] - log.times[0]) if n > 1 else 0.0
        measures[m.id] = {
            "count": n,
            "flow_per_s": round((n - 1) / span, 4) if span > 0 else None,
            "first_s": round(log.times[0], 3) if n else None,
            "last_s": round(log.times[-1], 3) if n else None,
        }
    all_out = drill.remaining == 0
    return {
        "scenario": drill.scenario.name,
        "seed": drill.seed,
        "agents": drill.total,
        "evacuated": drill.evacuated,
        "evacuation_time_s": round(float(np.nanmax(drill.exit_time)), 3)
        if all_out and drill.total else None,
        "exits": exits,
        "measures": measures,
        "sim_time_s": round(drill.time, 3),
        "wall_time_s": round(wall_time, 3),
        "dt_s": drill.dt,
    }
