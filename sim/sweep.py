"""Sweeps: many runs of one scenario with varied seeds and populations, and their spread.

This module holds what a sweep computes, free of any scheduler: the ``--vary`` syntax
(:func:`parse_vary`), the scenario of run *i* (:func:`run_scenario`), one run
(:func:`run_one`, what a worker executes) and the aggregate (:func:`aggregate`:
P50 / P95 / max of the evacuation time with a bootstrap confidence interval for P95,
per-exit usage, floor clear times and the running P95 against the number of runs).
``tools/sweep.py`` distributes the runs on Dask.

``--vary`` specs (each ``KEY=SPEC``; a range ``A:B`` is drawn uniformly per run):

- ``seed=START`` — run *i* uses seed ``START + i`` (default: the scenario's seed);
- ``scale=A:B`` — every group's count times a factor in [A, B] (0.1–10);
- ``speed=A:B`` — every group's mean desired speed set in [A, B] m/s (0.3–2.5);
- ``premovement=A:B`` — every group's pre-movement drawn from [0, P] with P in [A, B] s;
- ``close=EXIT@T`` or ``close=EXIT@T1:T2`` — the exit closes at T (or a time in
  [T1, T2]) s; repeatable.
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sim.errors import ScenarioError
from sim.scenario import Event, Scenario

__all__ = ["VARY_KEYS", "Vary", "aggregate", "compare_p95", "load_runs", "parse_vary", "run_one",
           "run_scenario"]

VARY_KEYS = ("seed", "scale", "speed", "premovement", "close")
_RANGES = {"scale": (0.1, 10.0), "speed": (0.3, 2.5), "premovement": (0.0, 3600.0)}


@dataclass(frozen=True)
class Vary:
    """What changes from run to run."""

    seed: int | None = None
    scale: tuple[float, float] | None = None
    speed: tuple[float, float] | None = None
    premovement: tuple[float, float] | None = None
    close: tuple[tuple[str, float, float], ...] = ()


def _range(key: str, spec: str) -> tuple[float, float]:
    parts = spec.split(":")
    try:
        lo, hi = (float(parts[0]), float(parts[-1])) if len(parts) in (1, 2) else (None, None)
    except ValueError:
        lo = hi = None
    if lo is None or not (math.isfinite(lo) and math.isfinite(hi)) or lo > hi:
        raise ScenarioError(f"--vary {key}={spec}: expected a number or a range A:B with A <= B")
    if key in _RANGES:
        a, b = _RANGES[key]
        if lo < a or hi > b:
            raise ScenarioError(f"--vary {key}={spec}: out of range ({a:g} to {b:g})")
    return lo, hi


def parse_vary(specs: list[str], scenario: Scenario) -> Vary:
    """``KEY=SPEC`` strings as a :class:`Vary`; raises ScenarioError naming a bad one."""
    out: dict[str, Any] = {"close": []}
    exits = [e.id for e in scenario.scene.exits]
    for text in specs:
        key, sep, spec = text.partition("=")
        key = key.strip()
        if not sep or key not in VARY_KEYS:
            raise ScenarioError(f"--vary {text!r}: unknown key (known: {', '.join(VARY_KEYS)})")
        if key == "seed":
            try:
                out["seed"] = int(spec)
            except ValueError:
                raise ScenarioError(f"--vary seed={spec}: expected an integer") from None
        elif key == "close":
            eid, at, when = spec.partition("@")
            if not at or eid not in exits:
                raise ScenarioError(f"--vary close={spec}: expected EXIT@T with EXIT one of "
                                    f"{', '.join(exits)}")
            lo, hi = _range("close", when)
            if lo < 0:
                raise ScenarioError(f"--vary close={spec}: the time must be >= 0 s")
            out["close"].append((eid, lo, hi))
        else:
            out[key] = _range(key, spec)
    out["close"] = tuple(out["close"])
    return Vary(**out)


def run_scenario(base: Scenario, vary: Vary, i: int) -> tuple[Scenario, dict[str, Any]]:
    """The scenario of run ``i`` and the parameters drawn for it (for the run's record)."""
    seed = (vary.seed if vary.seed is not None else base.settings.seed) + i
    rng = np.random.default_rng([seed, 7])  # the draws of this run, apart from placing
    params: dict[str, Any] = {"run": i, "seed": seed}
    groups = list(base.groups)
    if vary.scale is not None:
        f = round(float(rng.uniform(*vary.scale)), 4)  # as recorded: a run can be redone
        params["scale"] = f
        groups = [dataclasses.replace(g, count=max(0, round(g.count * f))) for g in groups]
    if vary.speed is not None:
        v = round(float(rng.uniform(*vary.speed)), 4)
        params["speed"] = v
        groups = [dataclasses.replace(g, speed_mean=v) for g in groups]
    if vary.premovement is not None:
        p = round(float(rng.uniform(*vary.premovement)), 3)
        params["premovement"] = p
        groups = [dataclasses.replace(g, premovement_min=0.0, premovement_max=p)
                  for g in groups]
    events = list(base.events)
    for eid, lo, hi in vary.close:
        t = round(float(rng.uniform(lo, hi)), 3)
        params.setdefault("close", {})[eid] = t
        events.append(Event(time=t, action="close_exit", exit=base.scene.exit_index(eid)))
    events.sort(key=lambda e: e.time)
    scen = dataclasses.replace(base, groups=tuple(groups), events=tuple(events),
                               settings=dataclasses.replace(base.settings, seed=seed))
    return scen, params


def run_one(base: Scenario, vary: Vary, i: int) -> dict[str, Any]:
    """Run ``i`` to the end: its parameters and summary, or its parameters and the error."""
    from sim.drill import Drill
    from sim.output import summary

    t0 = time.perf_counter()
    params: dict[str, Any] = {"run": i}
    try:
        scen, params = run_scenario(base, vary, i)
        drill = Drill(scen)
        while not drill.done():
            drill.step()
        return {**params, "ok": True, **summary(drill, time.perf_counter() - t0)}
    except Exception as exc:  # a failed run is reported with its parameters
        return {**params, "ok": False, "error": f"{type(exc).__name__}: {exc}",
                "wall_time_s": round(time.perf_counter() - t0, 3)}


def _p95_ci(times: np.ndarray, rng: np.random.Generator, n_boot: int = 2000,
            level: float = 0.95) -> tuple[float, float]:
    """Bootstrap (percentile) interval of the 95th percentile, s."""
    idx = rng.integers(0, len(times), size=(n_boot, len(times)))
    boot = np.percentile(times[idx], 95, axis=1)
    a = (1 - level) / 2
    return float(np.quantile(boot, a)), float(np.quantile(boot, 1 - a))


def aggregate(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """P50 / P95 / max of the evacuation time (with a 95 % interval for P95), the runs that
    did not finish, per-exit usage and floor clear times (P50, P95), the running P95."""
    ok = [r for r in runs if r.get("ok")]
    failed = [r for r in runs if not r.get("ok")]
    done = [r for r in ok if r.get("evacuation_time_s") is not None]
    t = np.array([r["evacuation_time_s"] for r in sorted(done, key=lambda r: r["run"])])
    out: dict[str, Any] = {"runs": len(runs), "finished": len(done), "failed": len(failed),
                           "not_everyone_out": len(ok) - len(done),
                           "failures": [{k: r[k] for k in r if k != "ok"} for r in failed]}
    if len(t):
        lo, hi = _p95_ci(t, np.random.default_rng(0)) if len(t) > 1 else (t[0], t[0])
        out["evacuation_s"] = {"p50": round(float(np.percentile(t, 50)), 2),
                               "p95": round(float(np.percentile(t, 95)), 2),
                               "p95_ci": [round(lo, 2), round(hi, 2)],
                               "max": round(float(t.max()), 2), "mean": round(float(t.mean()), 2),
                               "sd": round(float(t.std(ddof=1)), 2) if len(t) > 1 else 0.0}
        out["running_p95"] = [round(float(np.percentile(t[:k], 95)), 2)
                              for k in range(1, len(t) + 1)]
    exits = sorted({e for r in ok for e in r.get("exits", {})})
    out["exits"] = {e: {"mean": round(float(np.mean([r["exits"].get(e, 0) for r in ok])), 1),
                        "min": int(min(r["exits"].get(e, 0) for r in ok)),
                        "max": int(max(r["exits"].get(e, 0) for r in ok))} for e in exits}
    floors = sorted({f for r in ok for f in r.get("floors_clear_s", {})})
    out["floors_clear_s"] = {}
    for f in floors:
        v = np.array([r["floors_clear_s"][f] for r in ok
                      if r.get("floors_clear_s", {}).get(f) is not None])
        if len(v):
            out["floors_clear_s"][f] = {"p50": round(float(np.percentile(v, 50)), 2),
                                        "p95": round(float(np.percentile(v, 95)), 2)}
    walls = [r["wall_time_s"] for r in runs if "wall_time_s" in r]
    out["run_wall_s"] = {"mean": round(float(np.mean(walls)), 3) if walls else None,
                         "total": round(float(np.sum(walls)), 3)}
    return out


def load_runs(folder: str | Path) -> list[dict[str, Any]]:
    """The runs of a sweep folder (its ``runs.jsonl``); raises ScenarioError naming it."""
    import json

    path = Path(folder) / "runs.jsonl"
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
        runs = [json.loads(x) for x in lines if x.strip()]
    except FileNotFoundError:
        raise ScenarioError("not a sweep folder (no runs.jsonl)", source=str(folder)) from None
    except json.JSONDecodeError as exc:
        raise ScenarioError(f"runs.jsonl line {exc.lineno}: not JSON", source=str(path)) \
            from None
    return runs


def compare_p95(a: list[dict[str, Any]], b: list[dict[str, Any]], *, n_boot: int = 2000,
                seed: int = 0) -> dict[str, Any]:
    """P95 of B minus P95 of A, s, with a 95 % bootstrap interval (the runs of each sweep
    resampled apart), and the runs behind it."""
    ta = np.array([r["evacuation_time_s"] for r in a if r.get("ok")
                   and r.get("evacuation_time_s") is not None])
    tb = np.array([r["evacuation_time_s"] for r in b if r.get("ok")
                   and r.get("evacuation_time_s") is not None])
    if len(ta) < 2 or len(tb) < 2:
        raise ScenarioError(f"each sweep needs at least 2 finished runs (have {len(ta)} and "
                            f"{len(tb)})")
    rng = np.random.default_rng(seed)
    pa = np.percentile(ta[rng.integers(0, len(ta), (n_boot, len(ta)))], 95, axis=1)
    pb = np.percentile(tb[rng.integers(0, len(tb), (n_boot, len(tb)))], 95, axis=1)
    d = pb - pa
    diff = float(np.percentile(tb, 95) - np.percentile(ta, 95))
    lo, hi = (float(x) for x in np.quantile(d, [0.025, 0.975]))
    return {"p95_a": round(float(np.percentile(ta, 95)), 2),
            "p95_b": round(float(np.percentile(tb, 95)), 2), "diff": round(diff, 2),
            "ci": [round(lo, 2), round(hi, 2)], "half_width": round((hi - lo) / 2, 2),
            "runs_a": len(ta), "runs_b": len(tb)}
