"""Writers of a run's results: PedPy-readable trajectories, an event log and the summary."""

from __future__ import annotations

import json
from pathlib import Path
from typing import IO, Any

import numpy as np

from sim.drill import Drill

__all__ = ["EventLog", "TrajectoryWriter", "format_rows", "summary"]


def _digits(q: np.ndarray, width: int, pad: int) -> np.ndarray:
    """Right-aligned decimal digits of non-negative ints ``q``: (n, width) uint8 ASCII.

    Leading zeros become ``pad`` (a space, or ``ord("0")`` to keep them); the last digit
    is always written.
    """
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    out = ((q[:, None] // powers) % 10 + ord("0")).astype(np.uint8)
    lead = q[:, None] < powers
    lead[:, -1] = False
    out[lead] = pad
    return out


def _int_field(v: np.ndarray) -> np.ndarray:
    """Non-negative integers as space-padded text columns: (n, w) uint8."""
    width = len(str(int(v.max(initial=0))))
    return _digits(v.astype(np.int64), width, ord(" "))


def _fixed_field(v: np.ndarray, decimals: int) -> np.ndarray:
    """Numbers as fixed-point text with ``decimals`` places, sign included: (n, w) uint8."""
    scale = 10**decimals
    q = np.rint(np.abs(v) * scale).astype(np.int64)
    whole = q // scale
    neg = (v < 0) & (q > 0)
    width = len(str(int(whole.max(initial=0)))) + 1  # one place for a sign
    ip = _digits(whole, width, ord(" "))
    ndig = np.maximum(1, np.floor(np.log10(np.maximum(whole, 1))).astype(np.int64) + 1)
    rows = np.flatnonzero(neg)
    ip[rows, width - ndig[rows] - 1] = ord("-")
    dot = np.full((len(v), 1), ord("."), np.uint8)
    return np.hstack([ip, dot, _digits(q % scale, decimals, ord("0"))])


def format_rows(fields: list[np.ndarray]) -> bytes:
    """Lines of space-separated columns from (n, w) uint8 text fields, as bytes."""
    n = len(fields[0])
    space = np.full((n, 1), ord(" "), np.uint8)
    parts: list[np.ndarray] = []
    for i, f in enumerate(fields):
        if i:
            parts.append(space)
        parts.append(f)
    parts.append(np.full((n, 1), ord("\n"), np.uint8))
    return np.hstack(parts).tobytes()


class TrajectoryWriter:
    """Writes ``id frame x y z`` rows for every k-th step, with a ``#framerate`` header.

    The file is the text format PedPy's ``load_trajectory_from_txt`` reads; x, y and z are
    in metres with millimetre precision, frames count written frames from 0.
    """

    def __init__(self, path: Path, drill: Drill, every: int):
        self.every = every
        self.frame = 0
        self._fh: IO[bytes] = open(path, "wb")  # noqa: SIM115 - closed in close()
        fps = 1.0 / (drill.dt * every)
        self._fh.write(
            f"#framerate: {fps:g}\n"
            f"# scenario: {drill.scenario.name}  seed: {drill.seed}  "
            f"dt: {drill.dt:g} s  written every {every} steps\n"
            "#ID FR X/m Y/m Z/m\n".encode()
        )

    def maybe_write(self, drill: Drill) -> None:
        """Write the current state if this step is one to keep."""
        if drill.tick % self.every:
            return
        rows, xyz = drill.positions()
        if len(rows):
            n = len(rows)
            self._fh.write(format_rows([
                _int_field(drill.crowd.id[rows]),
                _int_field(np.full(n, self.frame)),
                _fixed_field(xyz[:, 0], 3),
                _fixed_field(xyz[:, 1], 3),
                _fixed_field(xyz[:, 2], 3),
            ]))
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
    floors_clear = {}
    for f, last in zip(scene.floors, drill.floor_last_occupied, strict=True):
        if np.isnan(last):
            floors_clear[f.id] = 0.0  # nobody was ever there
        elif last < drill.time - 1e-9 or all_out:
            floors_clear[f.id] = round(float(last) + drill.dt, 3)
        else:
            floors_clear[f.id] = None  # still occupied when the run stopped
    return {
        "scenario": drill.scenario.name,
        "seed": drill.seed,
        "agents": drill.total,
        "evacuated": drill.evacuated,
        "evacuation_time_s": round(float(np.nanmax(drill.exit_time)), 3)
        if all_out and drill.total else None,
        "exits": exits,
        "measures": measures,
        "floors_clear_s": floors_clear,
        "sim_time_s": round(drill.time, 3),
        "wall_time_s": round(wall_time, 3),
        "dt_s": drill.dt,
    }
