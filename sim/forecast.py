"""Forecasts of a running drill: fork its state into copies, run them ahead, sum them up.

A forecast answers an instructor's question in the middle of a drill: how long will the
evacuation still take, which exits will saturate, which floors will clear last. The drill's
state (:meth:`sim.drill.Drill.snapshot`) is forked into copies (:func:`fork`); each copy
keeps what the instructor can see — where everyone is, who has started, hazards, exits,
the injects still to come — and redraws, from its own seed, what nobody can see:

- when each person still waiting will start, from their group's pre-movement range,
  knowing they have not started yet (a person held until the alarm keeps their delay);
- how fast each person still inside wants to walk, from their group's speed distribution;
- participants' avatars are handed to the simulation and walk to their nearest exit.

:func:`run_ahead` runs one copy to the end (or to a horizon) and returns what it saw;
:func:`summarise` turns the copies into P50 / P95 of the remaining time, the exits that
run at capacity and the floors in the order they clear. This module is what a Dask worker
executes (:mod:`net.forecast` distributes it); it imports no scheduler.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from sim.agents.crowd import Choice, State
from sim.drill import SPECIFIC_FLOW, Drill

__all__ = ["SATURATION", "SATURATION_WINDOW_S", "fork", "run_ahead", "summarise"]

SATURATION = 0.8
"""An exit saturates when it passes at least this fraction of its capacity
(``SPECIFIC_FLOW`` x width) ..."""
SATURATION_WINDOW_S = 10.0
"""... over this many seconds in a row."""


def fork(snapshot: bytes, seed: int) -> Drill:
    """A copy of the drill of ``snapshot`` whose unseen future is drawn from ``seed``."""
    d = Drill.restore(snapshot)
    rng = np.random.default_rng([seed, 11])  # apart from the streams of the drill itself
    c, present = d.crowd, d.active()
    groups = d.scenario.groups
    gi = c.group.astype(np.int64)
    ok = present & (gi >= 0) & (gi < len(groups))
    if ok.any():
        mean, sd, lo, hi = (np.array([getattr(g, k) for g in groups]) for k in (
            "speed_mean", "speed_sd", "speed_min", "speed_max"))
        g = gi[ok]
        c.v0[ok] = np.clip(rng.normal(mean[g], sd[g]), lo[g], hi[g])
        pmin = np.array([gr.premovement_min for gr in groups])[gi]
        pmax = np.array([gr.premovement_max for gr in groups])[gi]
        wait = ok & (c.state == State.WAITING) & np.isfinite(c.premovement) \
            & (c.premovement > d.time) & (pmax > d.time)
        if wait.any():  # uniform on what is left of the range: not started by now
            a = np.maximum(pmin[wait], d.time)
            c.premovement[wait] = a + rng.random(int(wait.sum())) * (pmax[wait] - a)
    for agent in d.steering.ids.tolist():  # avatars: the simulation walks them out
        d.apply({"type": "release", "agent": int(agent)})
    steered = c.choice == Choice.STEERED
    c.choice[steered] = Choice.NEAREST
    return d


def run_ahead(snapshot: bytes, seed: int, *, horizon: float = 3600.0,
              commands: list[tuple[float, dict[str, Any]]] | tuple = (),
              order: bool = False) -> dict[str, Any]:
    """Run one copy of ``snapshot`` (seed ``seed``) until everyone is out, the scenario's
    ``max_time`` or ``horizon`` s after the fork; ``commands`` are (simulated time s,
    command) applied when their time comes (the scripted injects still ahead), ``order``
    orders everyone out at the fork. Returns the copy's figures, or its error."""
    t_wall = time.perf_counter()
    out: dict[str, Any] = {"seed": seed}
    try:
        d = fork(snapshot, seed)
        t0 = d.time
        out["t0"] = round(t0, 3)
        out_before = d.exit_used >= 0
        if order:
            d.apply({"type": "order_evacuation"})
        todo = sorted(commands, key=lambda tc: tc[0])
        stop = min(t0 + horizon, d.scenario.settings.max_time)
        while not d.done() and d.time < stop - 1e-9:
            while todo and todo[0][0] <= d.time + 1e-9:
                d.apply(dict(todo.pop(0)[1]))
            d.step()
        out.update(_figures(d, t0, out_before), ok=True)
    except Exception as exc:  # noqa: BLE001 - a copy that fails is reported, not hidden
        out.update(ok=False, error=f"{type(exc).__name__}: {exc}")
    out["wall_s"] = round(time.perf_counter() - t_wall, 3)
    return out


def _figures(d: Drill, t0: float, out_before: np.ndarray) -> dict[str, Any]:
    """What one copy saw from ``t0`` on: its end, its exits and its floors."""
    scene = d.scene
    all_out = d.remaining == 0
    later = (d.exit_used >= 0) & ~out_before
    t_out, used = d.exit_time[later], d.exit_used[later]
    exits = {}
    for ei, ex in enumerate(scene.exits):
        times = np.sort(t_out[used == ei])
        exits[ex.id] = {"people": len(times),
                        "last_s": round(float(times[-1]), 2) if len(times) else None,
                        **_saturation(times, SPECIFIC_FLOW * ex.width, t0)}
    floors = {}
    for f, last in zip(scene.floors, d.floor_last_occupied, strict=True):
        if np.isnan(last) or last < t0 - 1e-9:
            floors[f.id] = t0 if not np.isnan(last) else 0.0  # already clear at the fork
        elif last < d.time - 1e-9 or all_out:
            floors[f.id] = round(float(last) + d.dt, 2)
        else:
            floors[f.id] = None  # still occupied when the copy stopped
    return {"all_out": bool(all_out), "t_end": round(d.time, 3), "left": int(d.remaining),
            "remaining_s": round(float(np.nanmax(d.exit_time)) - t0, 2)
            if all_out and d.total and later.any() else (0.0 if all_out else None),
            "exits": exits, "floors_clear_s": floors,
            "held": int(np.count_nonzero(d.active() & np.isinf(d.crowd.premovement)))}


def _saturation(times: np.ndarray, capacity: float, t0: float) -> dict[str, Any]:
    """When an exit passing people at ``times`` (sorted, s) first runs at
    :data:`SATURATION` of ``capacity`` /s over :data:`SATURATION_WINDOW_S`, and for how
    long in all (s); ``{saturated_from_s: None, saturated_s: 0}`` if it never does."""
    none = {"saturated_from_s": None, "saturated_s": 0.0}
    if capacity <= 0 or len(times) < 2:
        return none
    bins = np.arange(t0, times[-1] + 1.0, 1.0)
    per_s = np.histogram(times, np.append(bins, bins[-1] + 1.0))[0]
    w = int(SATURATION_WINDOW_S)
    if len(per_s) < w:
        return none
    window = np.convolve(per_s, np.ones(w), "valid")  # people in [t, t + w)
    full = window >= SATURATION * capacity * w
    if not full.any():
        return none
    covered = np.zeros(len(per_s), bool)  # seconds inside some saturated window
    for k in range(w):  # w shifts, not a loop over agents
        covered[k:k + len(full)] |= full
    covered &= per_s > 0  # ... in which someone passed
    return {"saturated_from_s": round(float(bins[np.argmax(covered)]), 1),
            "saturated_s": float(covered.sum())}


def _pct(v: list[float], q: float) -> float:
    return round(float(np.percentile(v, q)), 1)


def summarise(runs: list[dict[str, Any]], *, t0: float) -> dict[str, Any]:
    """The copies of one forecast summed up: remaining evacuation time P50 / P95 / min /
    max (s after ``t0``), exits (most saturated first) and floors (last to clear first)."""
    ok = [r for r in runs if r.get("ok")]
    done = [r["remaining_s"] for r in ok if r.get("all_out")]
    walls = [r["wall_s"] for r in runs if "wall_s" in r]
    out: dict[str, Any] = {
        "t": round(t0, 2), "runs": len(runs), "finished": len(done),
        "not_out": len(ok) - len(done),
        "failed": [{"seed": r["seed"], "error": r.get("error", "")} for r in runs
                   if not r.get("ok")],
        "held": max((r.get("held", 0) for r in ok), default=0),
        "remaining_s": None, "exits": [], "floors": [],
        "run_wall_s": {"mean": round(float(np.mean(walls)), 2), "max": round(max(walls), 2)}
        if walls else None}
    if done:
        out["remaining_s"] = {"p50": _pct(done, 50), "p95": _pct(done, 95),
                              "min": round(min(done), 1), "max": round(max(done), 1)}
    if not ok:
        return out
    for eid in ok[0]["exits"]:
        ex = [r["exits"][eid] for r in ok]
        sat = [e["saturated_from_s"] for e in ex if e["saturated_from_s"] is not None]
        out["exits"].append({
            "id": eid,
            "people_p50": _pct([e["people"] for e in ex], 50),
            "saturated_runs": len(sat),
            "saturated_from_s": _pct(sat, 50) if sat else None,
            "saturated_s_p50": _pct([e["saturated_s"] for e in ex], 50),
            "last_out_p50": _pct([e["last_s"] for e in ex if e["last_s"] is not None], 50)
            if any(e["last_s"] is not None for e in ex) else None})
    out["exits"].sort(key=lambda e: (-e["saturated_runs"], -e["saturated_s_p50"],
                                     -e["people_p50"]))
    for fid in ok[0]["floors_clear_s"]:
        v = [r["floors_clear_s"][fid] for r in ok]
        known = [x for x in v if x is not None]
        out["floors"].append({
            "id": fid,
            "clear_p50": _pct(known, 50) if known else None,
            "clear_p95": _pct(known, 95) if len(known) == len(v) else None,
            "cleared_runs": len(known), "clear_now": all(x is not None and x <= t0 for x in v)})
    out["floors"].sort(key=lambda f: (f["clear_p95"] is not None, -(f["clear_p50"] or 0.0)))
    return out
