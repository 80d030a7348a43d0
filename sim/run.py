"""Running a scenario to the end and writing its results to a folder."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sim.drill import Drill
from sim.output import EventLog, TrajectoryWriter, summary
from sim.recording import FRAME_HZ, Recorder
from sim.scenario import Scenario

__all__ = ["run"]


def run(
    scenario: Scenario,
    out: str | Path,
    *,
    seed: int | None = None,
    progress: Callable[[Drill], None] | None = None,
    commands: dict[int, list[dict[str, Any]]] | None = None,
    meta: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Run ``scenario`` until everyone has left or max_time; write results into ``out``.

    ``commands`` (tick → commands, as :meth:`Drill.apply` takes them) are applied before
    the step of their tick, as a recording's are; ``meta`` goes into the recording's
    header. Writes ``summary.json``, ``trajectories.txt`` (PedPy text format),
    ``events.jsonl`` and the recording ``drill.rec`` (docs/recording.md); returns the
    summary.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    drill = Drill(scenario, seed=seed)
    traj = TrajectoryWriter(out / "trajectories.txt", drill, scenario.settings.trajectory_every)
    log = EventLog(out / "events.jsonl")
    rec = Recorder(out / "drill.rec", drill, meta={"mode": "run", **(meta or {})})
    pending = {t: list(c) for t, c in (commands or {}).items()}
    every = max(1, round(1.0 / (FRAME_HZ * drill.dt)))  # recorded steps: 10 per second
    try:
        log.write([{"t": 0.0, "type": "run_started", "scenario": scenario.name,
                    "seed": drill.seed, "agents": drill.total}])
        traj.maybe_write(drill)
        rec.frame(drill)
        while not drill.done():
            events = [e for cmd in pending.pop(drill.tick, []) for e in drill.apply(cmd)]
            events += drill.step()
            log.write(events)
            traj.maybe_write(drill)
            # Frames at 10 per simulated second, and whenever something besides departures
            # happened (an exit closed), so that its effect is in a frame of its own.
            if (drill.tick % every == 0 or drill.done()
                    or any(e["type"] != "evacuated" for e in events)):
                rec.frame(drill, events)
            if progress is not None:
                progress(drill)
        log.write([{"t": round(drill.time, 6), "type": "run_ended",
                    "evacuated": drill.evacuated, "remaining": drill.remaining}])
    finally:
        traj.close()
        log.close()
        result = summary(drill, time.perf_counter() - t0)
        rec.close(result)
    (out / "summary.json").write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    return result


def terminal_progress(stream: Any = sys.stderr) -> Callable[[Drill], None]:
    """A progress bar on ``stream`` (simulated time against max_time, agents out)."""
    state = {"last": -1.0}

    def show(drill: Drill) -> None:
        now = time.perf_counter()
        if now - state["last"] < 0.2 and not drill.done():
            return
        state["last"] = now
        frac = min(1.0, max(drill.time / drill.scenario.settings.max_time,
                            drill.evacuated / max(drill.total, 1)))
        if drill.done():
            frac = 1.0
        bar = "#" * int(30 * frac)
        stream.write(f"\r[{bar:<30}] t={drill.time:7.1f} s  out {drill.evacuated}/{drill.total}")
        if drill.done():
            stream.write("\n")
        stream.flush()

    return show
