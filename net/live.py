"""What instructors and evaluators follow while a drill runs: the scripted timeline's
progress, the evacuation curve, people out per exit and the plan's steps met or missed.

:class:`LiveTrack` is fed by the room once per tick (in the tick's worker thread) and
returns plain data for snapshots and deltas (docs/protocol.md, "Following a drill").
"""

from __future__ import annotations

import math
from types import SimpleNamespace
from typing import Any

import numpy as np
import shapely

from sim.agents.crowd import State
from sim.metrics import check_plan

__all__ = ["LiveTrack", "exit_counts"]

PLAN_EVERY_S = 1.0
"""Plan steps are re-evaluated once per this many simulated seconds (and after commands)."""


def exit_counts(exit_used: np.ndarray, n_exits: int) -> list[int]:
    """People out by each exit, from the per-agent exit index (-1 while inside)."""
    out = exit_used[exit_used >= 0]
    return [int(v) for v in np.bincount(out, minlength=n_exits)[:n_exits]]


class LiveTrack:
    """Timeline states, curve and plan progress of one live drill."""

    def __init__(self, room: Any):
        self.room = room
        self.script_state = ["pending"] * len(room.script.injects)
        """Per scripted inject: "pending", "fired" or "skipped"."""
        self.script_changed = False
        self.curve: list[list[float]] = [[0.0, 0]]
        """[t s, evacuated] once per simulated second."""
        self._plan: list[dict[str, Any]] = []
        self._plan_at = -math.inf
        self._zones = [(g.id, g.floor, g.area) for g in room.scenario.groups]
        for _, _, poly in self._zones:
            shapely.prepare(poly)
        self._zone_last = [math.nan] * len(self._zones)
        """Per zone, the last time (s) anyone was seen in it."""

    # ------------------------------------------------------------------ timeline

    def script(self) -> list[dict[str, Any]]:
        """The scripted timeline with each inject's index and state."""
        return [{"index": i, "time": t, **e, "state": self.script_state[i]}
                for i, (t, e) in enumerate(self.room.script.injects)]

    def mark(self, index: int, state: str) -> None:
        """Set the state of scripted inject ``index`` (it fired or was skipped)."""
        self.script_state[index] = state
        self.script_changed = True

    def due(self, now: float) -> list[int]:
        """Indices of pending scripted injects whose time has come (simulated ``now``, s)."""
        return [i for i, (t, _) in enumerate(self.room.script.injects)
                if self.script_state[i] == "pending" and t <= now + 1e-9]

    # ------------------------------------------------------------------ curve, plan

    def after_step(self, drill: Any) -> None:
        """Note the evacuated count at every whole simulated second."""
        while self.curve[-1][0] + 1.0 <= drill.time + 1e-9:
            self.curve.append([self.curve[-1][0] + 1.0, int(drill.evacuated)])

    def plan(self, drill: Any, *, force: bool = False) -> list[dict[str, Any]]:
        """The scenario's plan steps with their state now: pending, met or missed."""
        steps = self.room.scenario.plan
        if not steps:
            return []
        if not force and drill.time < self._plan_at + PLAN_EVERY_S:
            return self._plan
        self._plan_at = drill.time
        over = self.room.status in ("finished", "ended")
        m = self._measures(drill)
        out = []
        for p in check_plan(steps, m):  # type: ignore[arg-type]
            late = p["deadline_s"] is not None and drill.time > p["deadline_s"] + 1e-9
            state = "met" if p["met"] else "missed" if (late or over) else "pending"
            out.append({k: p[k] for k in ("id", "role", "text", "action", "within", "after",
                                          "deadline_s", "achieved_s")} | {"state": state})
        self._plan = out
        return out

    def _measures(self, drill: Any) -> SimpleNamespace:
        """The figures :func:`sim.metrics.check_plan` reads, taken from the live drill."""
        cmds = drill.commands
        dt = drill.dt
        alarm = next((tick * dt for tick, c in cmds if c.get("type") == "inject"
                      and c.get("event", {}).get("kind") == "alarm"), None)
        if alarm is None and self.room.script.alarm != "inject":
            alarm = 0.0
        orders = [tick * dt for tick, c in cmds if c.get("type") == "order_evacuation"]
        reports = [float(r["t"]) for r in self.room.reports]
        out_t = drill.exit_time[np.isfinite(drill.exit_time)]
        c = drill.crowd
        on = drill.on_plan()
        floors_clear: dict[str, float | None] = {}
        for fi, f in enumerate(drill.scene.floors):
            last = drill.floor_last_occupied[fi]
            busy = bool(np.any(on & (c.floor == fi)))
            floors_clear[f.id] = (0.0 if np.isnan(last) else None if busy
                                  else float(last) + dt)
        zones_clear: dict[str, float | None] = {}
        for i, (name, fi, poly) in enumerate(self._zones):
            here = on & (c.floor == fi) & (c.state != State.ON_STAIRS)
            busy = bool(np.any(shapely.contains_xy(poly, c.pos[here, 0], c.pos[here, 1])))
            if busy:
                self._zone_last[i] = drill.time
            last = self._zone_last[i]
            zones_clear[name] = None if busy else 0.0 if math.isnan(last) else last + dt
        timeline = {"alarm": alarm, "first_report": min(reports) if reports else None,
                    "evacuation_order": min(orders) if orders else None,
                    "first_out": float(out_t.min()) if len(out_t) else None}
        commands = [{"t": e.get("t"), "type": e.get("type")} for e in self.room.journal]
        return SimpleNamespace(timeline=timeline, commands=commands, agents=drill.total,
                               exit_time=drill.exit_time, floors_clear=floors_clear,
                               zones_clear=zones_clear)
