"""The same case in JuPedSim (PyPI ``jupedsim`` 1.x), for comparison: the only module that
imports it, and only when a run asks for it.

A case scenario is expressed in JuPedSim as: the floor's walkable area (outline less
obstacles) as geometry, every exit as an exit stage with a journey of its own, the same
agents (the positions, desired speeds and radii this engine placed for the same seed,
each heading for the exit this engine's agent chose at the start) and
``CollisionFreeSpeedModel`` with the scenario's ``[model]`` parameters
(:class:`sim.scenario.ModelParams`), at JuPedSim's dt of 0.01 s. Scenarios with several
floors, stairs, speed zones, timed exit events or pre-movement times have no counterpart
there (:func:`not_expressible`).

An exit strip drawn along the outline is a gap in the wall to this engine; JuPedSim's
walls stop an agent's centre one radius short of the outline, so the geometry given to
JuPedSim is extended 0.6 m beyond the outline around every exit.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from shapely.geometry import Polygon

from sim.errors import ScenarioError
from sim.scenario import ModelParams, Scenario
from sim.verify.engine import SAMPLE_DT, Frames, Outcome, scenario
from sim.verify.record import Text, tx

__all__ = ["MISSING", "JpsRun", "JuPedSim", "not_expressible", "require", "simulate",
           "version"]

MISSING = "--jupedsim: JuPedSim is not installed (pip install jupedsim)"
"""The one-line message when ``--jupedsim`` is given and ``import jupedsim`` fails."""
DT = 0.01
"""JuPedSim's time step, s (its default)."""
EXIT_MARGIN = 0.6
"""How far the geometry is extended beyond the outline around exits, m."""
STALL = 60.0
"""A case's JuPedSim run stops when nobody has left for this long (simulated s): the
crowd is stuck (the model's known deadlock at doors), and running on to max_time at
dt = 0.01 s only costs time. The record then shows who is still inside."""


def version() -> str | None:
    """The installed JuPedSim version, or None when it cannot be imported."""
    try:
        import jupedsim
    except ImportError:
        return None
    return str(getattr(jupedsim, "__version__", "?"))


def require() -> str:
    """The JuPedSim version; raises ScenarioError (:data:`MISSING`) when not importable."""
    v = version()
    if v is None:
        raise ScenarioError(MISSING)
    return v


def not_expressible(scen: Scenario) -> Text | None:
    """Why ``scen`` has no JuPedSim counterpart here, or None when it has one."""
    scene = scen.scene
    if len(scene.floors) > 1 or scene.stairs:
        return tx("多楼层/楼梯：JuPedSim 1.x 只有单层平面几何", "several floors or stairs: "
                  "JuPedSim 1.x takes one planar geometry")
    if any(f.zones for f in scene.floors):
        return tx("减速区（烟气等）：JuPedSim 1.x 的 CollisionFreeSpeedModel 没有速度区",
                  "speed zones (smoke etc.): JuPedSim 1.x's CollisionFreeSpeedModel has none")
    if scen.events:
        return tx("定时开关出口：JuPedSim 1.x 没有对应的事件", "timed exit closures: "
                  "JuPedSim 1.x has no such events")
    if any(g.premovement_max > 0 for g in scen.groups):
        return tx("预动作时间：JuPedSim 1.x 没有预动作时间", "pre-movement times: "
                  "JuPedSim 1.x has none")
    return None


@dataclass
class JpsRun:
    """A JuPedSim run: exit times and the figures of its cost."""

    exit_time: np.ndarray
    """(n,) time each agent was removed at its exit stage, s (NaN: still inside)."""
    exit_used: np.ndarray
    """(n,) index into the ``exits`` given to :func:`simulate` (-1: still inside)."""
    setup_s: float
    loop_s: float
    steps: int
    agent_steps: int
    dt: float
    sim_s: float
    left: int
    complete: bool
    frames: Frames | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def simulate(geometry: Any, exits: list[Polygon], pos: np.ndarray, v0: np.ndarray,
             radius: np.ndarray, target: np.ndarray, params: ModelParams, *,
             max_time: float, budget: float | None = None, stall: float | None = None,
             frames: bool = False, dt: float = DT) -> JpsRun:
    """Run agents at ``pos`` (n, 2) m with desired speeds ``v0`` (n,) m/s and radii (n,) m,
    each heading for ``exits[target[i]]``, in JuPedSim's CollisionFreeSpeedModel.

    Stops when everyone is out, at ``max_time`` simulated seconds, after ``budget``
    seconds of wall time, or when nobody has left for ``stall`` simulated seconds.
    ``frames``: keep positions every 0.1 s. ``dt``: JuPedSim's time step, s.
    """
    import jupedsim as jps

    t0 = time.perf_counter()
    model = jps.CollisionFreeSpeedModel(
        strength_neighbor_repulsion=params.neighbour_strength,
        range_neighbor_repulsion=params.neighbour_range,
        strength_geometry_repulsion=params.wall_strength,
        range_geometry_repulsion=params.wall_range)
    sim = jps.Simulation(model=model, geometry=geometry, dt=dt)
    stages, journeys = [], []
    for poly in exits:
        stage = sim.add_exit_stage(poly)
        stages.append(stage)
        journeys.append(sim.add_journey(jps.JourneyDescription([stage])))
    index: dict[int, int] = {}
    for i, (p, v, r, e) in enumerate(zip(pos, v0, radius, target, strict=True)):
        agent = sim.add_agent(jps.CollisionFreeSpeedModelAgentParameters(  # one by one
            position=(float(p[0]), float(p[1])), desired_speed=float(v), radius=float(r),
            time_gap=params.time_gap, journey_id=journeys[e], stage_id=stages[e]))
        index[agent] = i
    n = len(pos)
    exit_time = np.full(n, np.nan)
    exit_used = np.full(n, -1)
    every = max(1, round(SAMPLE_DT / dt))
    ts: list[float] = []
    xys: list[np.ndarray] = []

    def sample() -> None:
        xy = np.full((n, 2), np.nan)
        for a in sim.agents():
            xy[index[a.id]] = a.position
        ts.append(sim.elapsed_time())
        xys.append(xy)

    setup = time.perf_counter() - t0
    t1 = time.perf_counter()
    steps = agent_steps = 0
    last_out = 0.0
    if frames:
        sample()
    while sim.agent_count() > 0 and sim.elapsed_time() < max_time - 1e-9:
        agent_steps += sim.agent_count()
        sim.iterate()
        steps += 1
        gone = sim.removed_agents()
        if gone:
            rows = [index[a] for a in gone]
            exit_time[rows] = sim.elapsed_time()
            exit_used[rows] = target[rows]
            last_out = sim.elapsed_time()
        elif stall is not None and sim.elapsed_time() - last_out > stall:
            break
        if frames and steps % every == 0:
            sample()
        if budget is not None and steps % 100 == 0 and time.perf_counter() - t0 > budget:
            break
    loop = time.perf_counter() - t1
    left = int(np.count_nonzero(exit_used < 0))
    return JpsRun(exit_time=exit_time, exit_used=exit_used, setup_s=setup, loop_s=loop,
                  steps=steps, agent_steps=agent_steps, dt=sim.delta_time(),
                  sim_s=sim.elapsed_time(), left=left, complete=left == 0,
                  frames=Frames(np.asarray(ts), np.stack(xys)) if frames else None)


def _crossings(frames: Frames, line: Any) -> np.ndarray:
    """Times agents' sampled paths cross ``line`` (either direction), interpolated, s."""
    (ax, ay), (bx, by) = np.asarray(line.coords)[[0, -1]]
    p, q = frames.xy[:-1], frames.xy[1:]
    side_p = (bx - ax) * (p[..., 1] - ay) - (by - ay) * (p[..., 0] - ax)
    side_q = (bx - ax) * (q[..., 1] - ay) - (by - ay) * (q[..., 0] - ax)
    with np.errstate(invalid="ignore"):
        cross = (np.sign(side_p) != np.sign(side_q)) & (side_p != 0) & np.isfinite(side_q)
        k, i = np.nonzero(cross)
        f = side_p[k, i] / (side_p[k, i] - side_q[k, i])
        x = p[k, i] + (q[k, i] - p[k, i]) * f[:, None]
        s = ((x[:, 0] - ax) * (bx - ax) + (x[:, 1] - ay) * (by - ay)) / (
            (bx - ax) ** 2 + (by - ay) ** 2)
    on = (s >= 0) & (s <= 1)
    t = frames.t[k] + (frames.t[k + 1] - frames.t[k]) * f
    return np.sort(t[on])


class JuPedSim:
    """Runs case documents in JuPedSim with this engine's agents; see the module doc."""

    name = "jupedsim"

    def __call__(self, doc: dict[str, Any], *, seed: int | None = None, frames: bool = False,
                 observe: Any = None) -> Outcome:
        """Run ``doc`` in JuPedSim; raises ScenarioError if it has no counterpart there."""
        from sim.drill import Drill

        if observe is not None:
            raise ScenarioError("JuPedSim runs cannot be observed step by step")
        scen = scenario(doc)
        reason = not_expressible(scen)
        if reason is not None:
            raise ScenarioError(reason["en"])
        t0 = time.perf_counter()
        drill = Drill(scen, seed=seed)  # the same agents as this engine's run
        c = drill.crowd
        floor = scen.scene.floors[0]
        polys = [shapely.intersection(e.polygon, floor.area) for e in scen.scene.exits]
        grow = [shapely.difference(p.buffer(EXIT_MARGIN, join_style="mitre"), floor.walkable)
                for p in polys]  # mitre: few vertices, JuPedSim steps faster
        geometry = shapely.union_all([floor.area, *grow]).buffer(0)
        target = c.target.astype(int)
        use = sorted(set(target.tolist()))
        keep = [polys[i] for i in use]
        run = simulate(geometry, keep, c.pos, c.v0, c.radius,
                       np.searchsorted(use, target), scen.model,
                       max_time=scen.settings.max_time, stall=STALL,
                       frames=frames or bool(scen.scene.measures))
        used = np.where(run.exit_used >= 0, np.asarray(use)[np.maximum(run.exit_used, 0)], -1)
        lines = [_crossings(run.frames, m.line) if run.frames is not None else np.zeros(0)
                 for m in scen.scene.measures]
        return Outcome(engine=self.name, total=len(c), exit_time=run.exit_time,
                       exit_used=used, line_times=lines, end_time=run.sim_s, v0=c.v0.copy(),
                       start=c.pos.copy(), group=c.group.astype(int),
                       frames=run.frames if frames else None,
                       wall_s=time.perf_counter() - t0, seed=drill.seed, source=scen.source)
