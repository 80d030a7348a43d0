"""Evacuation metrics from a recording: curves, exits, clear times, densities, timings.

:func:`compute` makes one pass over the recorded frames (vectorised over agents; the
only Python loops are over frames, floors, zones and exits) and returns a
:class:`Metrics` whose :meth:`~Metrics.to_dict` is what ``report.json`` holds. Units:
seconds, metres, persons per m², persons per second.

Densities are kernel estimates on a square grid (:data:`DENSITY_CELL` m) per floor,
every :data:`SAMPLE_S` s of simulated time: agents counted per cell, smoothed with a
Gaussian of :data:`KERNEL_M` m and divided by the equally smoothed walkable area, so
walls do not dilute the density next to them. The Fruin levels of service for walkways
(Fruin 1971, *Pedestrian planning and design*) classify them; a bottleneck is a place
where the density stays above :data:`BOTTLENECK_DENSITY` for more than
:data:`BOTTLENECK_S` s.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import shapely
from scipy import ndimage

from sim.recording import Recording
from sim.scenario import PlanStep, Scenario

__all__ = [
    "BOTTLENECK_DENSITY",
    "BOTTLENECK_S",
    "DENSITY_CELL",
    "FRUIN_LOS",
    "Metrics",
    "check_plan",
    "compute",
]

DENSITY_CELL = 0.5
"""Side of a density cell, m."""
COARSE_CELL = 2.0
"""Side of the cells of the second density measure, m: people counted per 2 m × 2 m cell
over its walkable area (at least 1 m²). A 1 m cell overstates a tight crowd: centres
0.4 m apart put 9 people in it, 9 /m², where they stand at 6.25 /m²."""
KERNEL_M = 0.5
"""Standard deviation of the Gaussian that smooths the counts, m."""
SAMPLE_S = 0.5
"""Simulated seconds between the frames used for densities and zone occupancy."""
FLOW_BIN_S = 5.0
"""Width of the bins of the flow-over-time curves, s."""
FRUIN_LOS = (("A", 0.0), ("B", 0.31), ("C", 0.43), ("D", 0.72), ("E", 1.08), ("F", 2.17))
"""Fruin walkway levels of service: (level, lowest density of the level, persons/m²)."""
BOTTLENECK_DENSITY = 4.0
"""Persons per m² above which a place counts as congested."""
BOTTLENECK_S = 10.0
"""Congested for longer than this (s, without a break) makes a bottleneck."""
SMOOTH_S = 1.0
"""Time constant of the moving average the congestion test applies to densities, s
(one agent stepping across a cell edge must not break a queue's congestion)."""


@dataclass
class DensityMap:
    """Per-floor density statistics on a grid (row = y, column = x)."""

    floor: str
    origin: tuple[float, float]
    """x, y of the grid's lower-left corner, m."""
    cell: float
    peak: np.ndarray
    """(ny, nx) highest density seen, persons/m²."""
    time_above: dict[str, np.ndarray]
    """Fruin level (C..F) -> (ny, nx) seconds at or above that level's lower bound."""
    longest_congested: np.ndarray
    """(ny, nx) longest unbroken time above BOTTLENECK_DENSITY, s."""
    peak_1m2: float = 0.0
    """Highest density counted on the :data:`COARSE_CELL` grid, people per cell / max(its
    walkable area, 1 m²): never over an area below 1 m², persons/m²."""


@dataclass
class Metrics:
    """Everything measured in one recording (see the module docstring for units)."""

    name: str
    agents: int
    evacuated: int
    end_t: float
    """Last recorded time, s."""
    complete: bool
    """Whether everyone was out by the end of the recording."""
    curve_t: np.ndarray
    curve_out: np.ndarray
    """Agents out by time curve_t (1 s steps)."""
    exits: list[dict[str, Any]]
    """Per exit: id, width, count, share, first, last, mean_flow, peak_flow, flow."""
    flow_t: np.ndarray
    """Bin centres of the flow curves, s."""
    floors_clear: dict[str, float | None]
    """Floor id -> time it became clear, s (0: never occupied; None: still occupied)."""
    zones_clear: dict[str, float | None]
    """Zone (group area, or floor speed zone) -> time it became clear, s."""
    density: list[DensityMap]
    bottlenecks: list[dict[str, Any]]
    premovement: np.ndarray
    """(agents,) time from the alarm to the first move, s (NaN if never moved)."""
    travel: np.ndarray
    """(agents,) time from the first move to leaving, s (NaN if still inside)."""
    exit_time: np.ndarray
    """(agents,) time each agent left, s (NaN if still inside)."""
    timeline: dict[str, float | None]
    """alarm, first_report, evacuation_order, first_out, p95_out, last_out, s."""
    commands: list[dict[str, Any]] = field(default_factory=list)
    """Journal (or command log) entries: t, type, role, name, detail."""
    plan: list[dict[str, Any]] = field(default_factory=list)
    """Plan steps with their deadline, achieved time and met / missed."""
    people: list[dict[str, Any]] = field(default_factory=list)
    """Participants who walked in the crowd: name, agent, joined_s, out_s, exit, walked_s."""
    damage: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready figures (arrays summarised or listed; NaN as None)."""
        def dist(a: np.ndarray) -> dict[str, Any]:
            v = a[np.isfinite(a)]
            if not len(v):
                return {"n": 0}
            p = np.percentile(v, [5, 50, 95])
            return {"n": int(len(v)), "mean": _r(v.mean()), "min": _r(v.min()), "p5": _r(p[0]),
                    "median": _r(p[1]), "p95": _r(p[2]), "max": _r(v.max())}

        return {
            "name": self.name, "agents": self.agents, "evacuated": self.evacuated,
            "end_t": _r(self.end_t), "complete": self.complete,
            "evacuated_curve": {"t": self.curve_t.tolist(), "out": self.curve_out.tolist()},
            "exits": [{k: (_r(v) if isinstance(v, float) else v) for k, v in e.items()
                       if k != "flow"} | {"flow": [_r(x) for x in e["flow"]]}
                      for e in self.exits],
            "flow_t": self.flow_t.tolist(),
            "floors_clear_s": {k: _r(v) for k, v in self.floors_clear.items()},
            "zones_clear_s": {k: _r(v) for k, v in self.zones_clear.items()},
            "density": [{"floor": d.floor, "cell_m": d.cell,
                         "peak": _r(float(d.peak.max(initial=0))),
                         "peak_1m2": _r(d.peak_1m2),
                         "area_above_s": {lv: {"area_m2": _r(np.count_nonzero(a > 0) * d.cell ** 2),
                                               "max_s": _r(float(a.max(initial=0)))}
                                          for lv, a in d.time_above.items()}}
                        for d in self.density],
            "bottlenecks": self.bottlenecks,
            "premovement_s": dist(self.premovement),
            "travel_s": dist(self.travel),
            "evacuation_s": dist(self.exit_time),
            "timeline_s": {k: _r(v) for k, v in self.timeline.items()},
            "commands": self.commands,
            "plan": self.plan,
            "people": self.people,
            "damage": self.damage,
        }


def _r(v: float | None, nd: int = 2) -> float | None:
    if v is None or not np.isfinite(v):
        return None
    return round(float(v), nd)


def _first_after(last: np.ndarray, t_now: float, occupied: np.ndarray,
                 clear: np.ndarray) -> None:
    """Track, per area, the first frame time with nobody in it after its last occupant."""
    clear[occupied] = np.nan
    newly = ~occupied & np.isnan(clear) & np.isfinite(last)
    clear[newly] = t_now
    last[occupied] = t_now


def compute(rec: Recording, scenario: Scenario | None = None, *,
            cell: float = DENSITY_CELL, sample_s: float = SAMPLE_S) -> Metrics:
    """Measure a recording (one pass over its frames). ``scenario``: the recorded one."""
    sc = scenario or rec.scenario()
    scene = sc.scene
    total = rec.total
    elev = np.array([f.elevation for f in scene.floors])
    nf = len(scene.floors)
    exit_t = np.full(total, np.nan)
    exit_i = np.full(total, -1, np.int64)
    start_t = np.full(total, np.nan)
    floor_last, floor_clear = np.full(nf, np.nan), np.full(nf, np.nan)
    zones = _zones(sc)
    zone_last, zone_clear = np.full(len(zones), np.nan), np.full(len(zones), np.nan)
    grids = [_grid(f.walkable.bounds, cell) for f in scene.floors]
    sigma = KERNEL_M / cell
    norms = []
    for f, (x0, y0, nx, ny) in zip(scene.floors, grids, strict=True):
        gx, gy = np.meshgrid(x0 + (np.arange(nx) + 0.5) * cell, y0 + (np.arange(ny) + 0.5) * cell)
        walk = shapely.contains_xy(f.area, gx, gy)
        area = ndimage.gaussian_filter(walk.astype(float), sigma, mode="constant") * cell * cell
        norms.append(np.where(walk, 1.0 / np.maximum(area, 1e-9), 0.0))
    peak = [np.zeros(g[2] * g[3]) for g in grids]
    coarse = [_grid(f.walkable.bounds, COARSE_CELL) for f in scene.floors]
    coarse_area = [_cell_areas(f.area, g) for f, g in zip(scene.floors, coarse, strict=True)]
    peak_1m2 = np.zeros(nf)
    levels = [(lv, lo) for lv, lo in FRUIN_LOS if lv in ("C", "D", "E", "F")]
    above = [{lv: np.zeros(g[2] * g[3]) for lv, _ in levels} for g in grids]
    run = [np.zeros(g[2] * g[3]) for g in grids]
    ema = [np.zeros(g[2] * g[3]) for g in grids]
    longest = [np.zeros(g[2] * g[3]) for g in grids]
    prev_t, next_sample, last_sample = 0.0, 0.0, None
    end_t, n_inside = 0.0, total
    for fr in rec.frames():
        if len(fr.gone):
            exit_t[fr.gone] = fr.gone_t
            exit_i[fr.gone] = fr.gone_exit
            unseen = fr.gone[np.isnan(start_t[fr.gone])]
            start_t[unseen] = prev_t  # started and left between two frames
        moving = fr.ids[(fr.state != 0) & np.isnan(start_t[fr.ids])]
        start_t[moving] = fr.t
        on_plan = fr.state != 3
        z = fr.xyz[:, 2]
        fidx = np.abs(z[:, None] - elev[None, :]).argmin(axis=1) if nf > 1 else np.zeros(
            len(z), np.int64)
        counts = np.bincount(fidx[on_plan], minlength=nf)
        _first_after(floor_last, fr.t, counts > 0, floor_clear)
        if fr.t >= next_sample - 1e-9:
            interval = 0.0 if last_sample is None else fr.t - last_sample
            last_sample = fr.t
            next_sample = fr.t + sample_s
            xy = fr.xyz[:, :2]
            occ = np.array([bool(np.any(on_plan & (fidx == zf) & shapely.contains_xy(
                poly, xy[:, 0], xy[:, 1]))) for _, zf, poly in zones], bool)
            if len(zones):
                _first_after(zone_last, fr.t, occ, zone_clear)
            for fi, (x0, y0, nx, ny) in enumerate(grids):
                on = on_plan & (fidx == fi)
                ix = np.clip(((xy[on, 0] - x0) / cell).astype(np.int64), 0, nx - 1)
                iy = np.clip(((xy[on, 1] - y0) / cell).astype(np.int64), 0, ny - 1)
                counts = np.bincount(iy * nx + ix, minlength=nx * ny).reshape(ny, nx)
                smooth = ndimage.gaussian_filter(counts.astype(float), sigma, mode="constant")
                dens = (smooth * norms[fi]).ravel()
                np.maximum(peak[fi], dens, out=peak[fi])
                for lv, lo in levels:
                    above[fi][lv] += interval * (dens >= lo)
                ema[fi] += (dens - ema[fi]) * (1.0 - np.exp(-interval / SMOOTH_S))
                run[fi] = np.where(ema[fi] > BOTTLENECK_DENSITY, run[fi] + interval, 0.0)
                np.maximum(longest[fi], run[fi], out=longest[fi])
                cx0, cy0, cnx, cny = coarse[fi]
                jx = np.clip(((xy[on, 0] - cx0) / COARSE_CELL).astype(np.int64), 0, cnx - 1)
                jy = np.clip(((xy[on, 1] - cy0) / COARSE_CELL).astype(np.int64), 0, cny - 1)
                per_cell = np.bincount(jy * cnx + jx, minlength=cnx * cny)
                peak_1m2[fi] = max(peak_1m2[fi], float((per_cell / coarse_area[fi]).max(
                    initial=0.0)))
        prev_t, end_t, n_inside = fr.t, fr.t, len(fr.ids)
    out_mask = np.isfinite(exit_t)
    evacuated = int(out_mask.sum())
    complete = n_inside == 0 and evacuated == total
    floors_clear: dict[str, float | None] = {}
    for fi, f in enumerate(scene.floors):
        floors_clear[f.id] = (0.0 if np.isnan(floor_last[fi]) else
                              None if np.isnan(floor_clear[fi]) else float(floor_clear[fi]))
    zones_clear = {name: (0.0 if np.isnan(zone_last[i]) else
                          None if np.isnan(zone_clear[i]) else float(zone_clear[i]))
                   for i, (name, _, _) in enumerate(zones)}
    dmaps = [DensityMap(floor=f.id, origin=(g[0], g[1]), cell=cell,
                        peak=peak[fi].reshape(g[3], g[2]),
                        time_above={lv: above[fi][lv].reshape(g[3], g[2]) for lv, _ in levels},
                        longest_congested=longest[fi].reshape(g[3], g[2]),
                        peak_1m2=float(peak_1m2[fi]))
             for fi, (f, g) in enumerate(zip(scene.floors, grids, strict=True))]
    timeline = _timeline(rec, exit_t, complete)
    alarm = timeline["alarm"] or 0.0
    flow_t, exits = _exits(sc, exit_t, exit_i, end_t)
    horizon = np.arange(0.0, np.ceil(end_t) + 1.0)
    m = Metrics(
        name=sc.name, agents=total, evacuated=evacuated, end_t=end_t, complete=complete,
        curve_t=horizon, curve_out=np.searchsorted(np.sort(exit_t[out_mask]), horizon,
                                                   side="right"),
        exits=exits, flow_t=flow_t, floors_clear=floors_clear, zones_clear=zones_clear,
        density=dmaps, bottlenecks=_bottlenecks(sc, dmaps), premovement=start_t - alarm,
        travel=exit_t - start_t, exit_time=exit_t, timeline=timeline,
        commands=_commands(rec), damage=rec.damage)
    m.plan = check_plan(sc.plan, m)
    m.people = _people(rec, sc, exit_t, exit_i, start_t)
    return m


def _people(rec: Recording, sc: Scenario, exit_t: np.ndarray, exit_i: np.ndarray,
            start_t: np.ndarray) -> list[dict[str, Any]]:
    """Who of the participants got out, when and by which exit (their avatars' agents)."""
    out = []
    for p in rec.people():  # a handful of people
        a = p["agent"]
        gone = bool(np.isfinite(exit_t[a]))
        out.append({**p, "out_s": _r(float(exit_t[a])) if gone else None,
                    "exit": sc.scene.exits[int(exit_i[a])].id if gone else None,
                    "walked_s": _r(float(exit_t[a] - p["joined_s"])) if gone else None})
    return out


def _cell_areas(area: Any, grid: tuple[float, float, int, int]) -> np.ndarray:
    """Walkable area of each cell of the coarse grid, at least 1 m² (flattened, row = y)."""
    x0, y0, nx, ny = grid
    gx, gy = np.meshgrid(x0 + np.arange(nx) * COARSE_CELL, y0 + np.arange(ny) * COARSE_CELL)
    boxes = shapely.box(gx.ravel(), gy.ravel(), gx.ravel() + COARSE_CELL,
                        gy.ravel() + COARSE_CELL)
    return np.maximum(shapely.area(shapely.intersection(boxes, area)), 1.0)


def _grid(bounds: tuple[float, float, float, float], cell: float) -> tuple[float, float, int,
                                                                            int]:
    x0, y0, x1, y1 = bounds
    return x0, y0, max(1, int(np.ceil((x1 - x0) / cell))), max(1, int(np.ceil((y1 - y0) / cell)))


def _zones(sc: Scenario) -> list[tuple[str, int, Any]]:
    """(name, floor index, polygon) of the zones an order can name, then speed zones."""
    out = [(g.id, g.floor, g.area) for g in sc.groups]
    for fi, f in enumerate(sc.scene.floors):
        for zi, z in enumerate(f.zones):
            out.append((f"{f.id}:{z.reason}:{zi + 1}", fi, z.polygon))
    for _, _, poly in out:
        shapely.prepare(poly)
    return out


def _exits(sc: Scenario, exit_t: np.ndarray, exit_i: np.ndarray,
           end_t: float) -> tuple[np.ndarray, list[dict[str, Any]]]:
    edges = np.arange(0.0, max(end_t, FLOW_BIN_S) + FLOW_BIN_S, FLOW_BIN_S)
    out_total = max(int(np.isfinite(exit_t).sum()), 1)
    exits = []
    for ei, e in enumerate(sc.scene.exits):
        t = np.sort(exit_t[exit_i == ei])
        n = len(t)
        flow = np.histogram(t, edges)[0] / FLOW_BIN_S
        span = float(t[-1] - t[0]) if n > 1 else 0.0
        exits.append({"id": e.id, "kind": e.kind, "width": float(e.width), "count": n,
                      "share": n / out_total,
                      "first": float(t[0]) if n else None, "last": float(t[-1]) if n else None,
                      "mean_flow": (n - 1) / span if span > 0 else None,
                      "peak_flow": float(flow.max(initial=0)),
                      "specific_flow": float(flow.max(initial=0)) / max(e.width, 1e-9),
                      "flow": flow})
    return (edges[:-1] + edges[1:]) / 2, exits


def _bottlenecks(sc: Scenario, dmaps: list[DensityMap]) -> list[dict[str, Any]]:
    out = []
    for fi, d in enumerate(dmaps):
        mask = d.longest_congested > BOTTLENECK_S
        labels, n = ndimage.label(mask)
        if not n:
            continue
        idx = np.arange(1, n + 1)
        cy, cx = np.array(ndimage.center_of_mass(mask, labels, idx)).reshape(-1, 2).T
        dur = ndimage.maximum(d.longest_congested, labels, idx)
        pk = ndimage.maximum(d.peak, labels, idx)
        size = ndimage.sum(mask, labels, idx)
        # The way out of this floor: its exits, else (an upper floor) its stair ends.
        ways = [(e.id, "exit", e.polygon) for e in sc.scene.exits if e.floor == fi] or [
            (s.id, "stair", area) for s in sc.scene.stairs
            for f, area in zip(s.floors, s.areas, strict=True) if f == fi]
        for k in range(n):
            x = d.origin[0] + (cx[k] + 0.5) * d.cell
            y = d.origin[1] + (cy[k] + 0.5) * d.cell
            near, dist, kind = None, None, None
            if ways:
                ds = [poly.distance(shapely.Point(x, y)) for _, _, poly in ways]
                j = int(np.argmin(ds))
                near, kind, dist = ways[j][0], ways[j][1], round(float(ds[j]), 1)
            out.append({"floor": d.floor, "x": round(float(x), 1), "y": round(float(y), 1),
                        "area_m2": round(float(size[k]) * d.cell ** 2, 1),
                        "longest_s": round(float(dur[k]), 1),
                        "peak_density": round(float(pk[k]), 2),
                        "nearest_exit": near, "nearest_kind": kind, "exit_distance_m": dist})
    out.sort(key=lambda b: -b["longest_s"])
    return out


def _timeline(rec: Recording, exit_t: np.ndarray, complete: bool) -> dict[str, float | None]:
    dt = rec.dt
    cmds = rec.commands()
    alarm: float | None = None
    held = any(c.get("type") == "hold_premovement" for _, c in cmds)
    for tick, c in cmds:
        if c.get("type") == "inject" and c.get("event", {}).get("kind") == "alarm":
            alarm = tick * dt
            break
    if alarm is None and not held:
        alarm = 0.0  # pre-movement counts from the start: the alarm sounded at t = 0
    orders = [tick * dt for tick, c in cmds if c.get("type") == "order_evacuation"]
    reports = [float(e["t"]) for e in rec.journal()
               if e.get("type") == "report" and not e.get("auto")]  # bots' messages: no
    out = exit_t[np.isfinite(exit_t)]
    return {"alarm": alarm, "first_report": min(reports) if reports else None,
            "evacuation_order": min(orders) if orders else None,
            "first_out": float(out.min()) if len(out) else None,
            "p95_out": float(np.percentile(out, 95)) if len(out) and complete else None,
            "last_out": float(out.max()) if len(out) and complete else None}


def _commands(rec: Recording) -> list[dict[str, Any]]:
    journal = rec.journal()
    if journal:
        return [{"t": e.get("t"), "type": e.get("type"), "role": e.get("role"),
                 "name": e.get("name"),
                 "detail": {k: v for k, v in e.items()
                            if k not in ("t", "type", "role", "name", "tick", "by")}}
                for e in journal if e.get("type") not in ("pose",)]
    return [{"t": round(tick * rec.dt, 3), "type": c.get("type"), "role": None, "name": None,
             "detail": {k: v for k, v in c.items() if k != "type"}}
            for tick, c in rec.commands()]


def _achieved(step: PlanStep, m: Metrics, rec_cmds: list[dict[str, Any]]) -> float | None:
    tl = m.timeline
    a = step.action
    if a == "alarm":
        return tl["alarm"]
    if a == "report":
        return tl["first_report"]
    if a == "order_evacuation":
        return tl["evacuation_order"]
    if a == "door":
        times = [c["t"] for c in rec_cmds if c["type"] == "door" and c["t"] is not None]
        return min(times) if times else None
    if a == "first_out":
        return tl["first_out"]
    if a == "evacuated":
        need = int(np.ceil(step.fraction * m.agents - 1e-9))
        out = np.sort(m.exit_time[np.isfinite(m.exit_time)])
        return float(out[need - 1]) if 0 < need <= len(out) else None
    if a == "floor_clear":
        vals = ([m.floors_clear.get(step.floor)] if step.floor is not None
                else list(m.floors_clear.values()))
        return None if any(v is None for v in vals) else max(vals)  # type: ignore[type-var]
    if a == "zone_clear":
        return m.zones_clear.get(step.zone or "")
    return None


def check_plan(plan: tuple[PlanStep, ...], m: Metrics) -> list[dict[str, Any]]:
    """Each plan step with its reference time, deadline, achieved time and verdict (s)."""
    out = []
    for step in plan:
        ref = m.timeline["alarm"] if step.after == "alarm" else 0.0
        got = _achieved(step, m, m.commands)
        deadline = None if ref is None else ref + step.within
        met = got is not None and deadline is not None and got <= deadline + 1e-9
        reason = ("no alarm was given" if ref is None else
                  "not done in the recording" if got is None else
                  "in time" if met else "late")
        out.append({**asdict(step), "reference_s": _r(ref), "deadline_s": _r(deadline),
                    "achieved_s": _r(got), "elapsed_s": _r(None if got is None or ref is None
                                                           else got - ref),
                    "met": bool(met), "reason": reason})
    return out
