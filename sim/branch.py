"""Branching a recorded drill: the same drill again, with a decision changed at time T.

The recording holds the scenario, the seed and every command with its tick, and a drill
is deterministic, so re-simulating them reproduces the recorded drill exactly up to T
(``drill replay --verify`` checks the same). At T the changes are applied — an exit
closed or opened, an evacuation order, an inject — and from there the branch runs on its
own; the recorded commands after T are kept unless dropped. The branch is written as a
full run (``drill.rec`` and the rest), which ``drill compare`` sets against the original.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sim.errors import RecordingError, SimError
from sim.recording import Recording

__all__ = ["branch"]


def branch(rec: Recording, at: float, changes: Sequence[dict[str, Any]], out: str | Path, *,
           drop: Sequence[str] = (), drop_later: bool = False) -> dict[str, Any]:
    """Re-simulate ``rec`` with ``changes`` (commands) applied at ``at`` seconds and write
    the branch into ``out``; returns its summary.

    ``drop``: types of the recorded commands after ``at`` to leave out (e.g.
    ``order_evacuation`` when the branch orders it earlier); ``drop_later``: all of them.
    Raises :class:`RecordingError` for a time outside the recording or a change that does
    not fit the drill (naming it).
    """
    from sim.run import run

    t0, t1 = rec.time_range()
    if not t0 <= at <= t1:
        raise RecordingError(f"--at {at:g}: the recording runs from {t0:g} s to {t1:g} s")
    tick = round(at / rec.dt)
    try:
        scenario = rec.scenario()
    except SimError as exc:
        raise RecordingError(f"cannot rebuild the recorded drill: {exc}") from None
    schedule: dict[int, list[dict[str, Any]]] = {}
    for t, cmd in rec.commands():
        if t >= tick and (drop_later or cmd.get("type") in drop):
            continue
        schedule.setdefault(t, []).append(cmd)
    _check(scenario, rec.seed, schedule, tick, changes)
    schedule.setdefault(tick, []).extend(changes)
    meta = {"mode": "branch", "branch_of": str(rec.path), "at": round(tick * rec.dt, 6),
            "changes": list(changes)}
    return run(scenario, out, seed=rec.seed, commands=schedule, meta=meta)


def _check(scenario: Any, seed: int, schedule: dict[int, list[dict[str, Any]]], tick: int,
           changes: Sequence[dict[str, Any]]) -> None:
    """Raise RecordingError naming the first change that the drill at ``tick`` refuses."""
    from sim.drill import Drill

    try:
        drill = Drill(scenario, seed=seed)
        while drill.tick < tick and not drill.done():
            for cmd in schedule.get(drill.tick, []):
                drill.apply(cmd)
            drill.step()
        for cmd in schedule.get(tick, []):
            drill.apply(cmd)
    except SimError as exc:
        raise RecordingError(f"cannot re-simulate the recorded drill to tick {tick}: "
                             f"{exc}") from None
    for change in changes:
        try:
            drill.apply(change)
        except (SimError, KeyError, TypeError, ValueError) as exc:
            raise RecordingError(f"the change {change} cannot be made at "
                                 f"{tick * drill.dt:g} s: {exc}") from None
