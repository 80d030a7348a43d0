"""Crowd benchmark: the same rooms and populations in this engine and in JuPedSim.

A square room at ~1 person/m², doors spread along all four walls (2.4 m leaves, 40 % of
the wall length... see ``room``). Both engines get the same agents (positions, desired
speeds, radius 0.2 m), the collision-free speed model with the same parameters (this
engine's defaults: JuPedSim's repulsion parameters, time gap 0.5 s), and each agent heads
for its nearest door. Prints one ``name value unit`` line per figure.

    python tools/bench_crowd.py [--sizes 1000 10000 50000 100000] [--jps-budget 900]
                                [--repeat 3]

JuPedSim (PyPI ``jupedsim``, the ``bench`` extra) runs at its default dt = 0.01 s and at
ours, 0.05 s (``--jps-dt``), so that the comparison is fair either way. A JuPedSim run that
would exceed ``--jps-budget`` seconds of wall time is stopped and its figures are reported
from the steps it made (``jps_complete 0``).
"""

from __future__ import annotations

import argparse
import gc
import math
import resource
import sys
import time
from pathlib import Path

import numpy as np
from shapely.geometry import MultiPolygon, Polygon, box

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sim.agents.kernels import warm_up  # noqa: E402
from sim.drill import Drill  # noqa: E402
from sim.nav import clear_cache  # noqa: E402
from sim.scenario import Group, Scenario, Settings  # noqa: E402
from sim.scenes.model import Exit, Floor, Scene  # noqa: E402

DOOR = 2.4
"""Door leaf width, m."""
DEPTH = 0.3
"""Depth of the exit strip inside the room, m."""
DOOR_SHARE = 0.4
"""Fraction of each wall that is door."""


def room(n: int, density: float = 1.0) -> tuple[Scenario, list[Polygon]]:
    """A square room holding ``n`` agents at ``density`` /m², doors on every wall."""
    side = math.sqrt(n / density) + 2.0
    k = max(1, round(DOOR_SHARE * side / DOOR))
    centres = (np.arange(k) + 0.5) * side / k
    doors: list[list[Polygon]] = [[], [], [], []]
    for c in centres:
        a, b = c - DOOR / 2, c + DOOR / 2
        doors[0].append(box(a, 0, b, DEPTH))  # south
        doors[1].append(box(a, side - DEPTH, b, side))  # north
        doors[2].append(box(0, a, DEPTH, b))  # west
        doors[3].append(box(side - DEPTH, a, side, b))  # east
    floor = Floor(id="G", elevation=0.0, walkable=box(0, 0, side, side))
    exits = tuple(
        Exit(id=name, floor=0, polygon=MultiPolygon(d), width=DOOR * k)
        for name, d in zip(("S", "N", "W", "E"), doors, strict=True)
    )
    scene = Scene(name=f"bench-room-{n}", floors=(floor,), exits=exits)
    group = Group(id="all", floor=0, area=box(0.6, 0.6, side - 0.6, side - 0.6), count=n,
                  speed_mean=1.34, speed_sd=0.26, speed_min=0.5, speed_max=2.0,
                  exit_choice="nearest")
    settings = Settings(max_time=1800.0, seed=42)
    scen = Scenario(name=scene.name, scene=scene, groups=(group,), settings=settings,
                    source="<bench>")
    return scen, [p for d in doors for p in d]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def run_ours(scen: Scenario) -> dict[str, float]:
    t0 = time.perf_counter()
    drill = Drill(scen)
    setup = time.perf_counter() - t0
    steps, t1 = 0, time.perf_counter()
    agent_steps = 0
    elapsed = []  # wall time of the loop at the end of each step, s
    while not drill.done():
        agent_steps += drill.remaining
        drill.step()
        steps += 1
        elapsed.append(time.perf_counter() - t1)
    loop = time.perf_counter() - t1
    full = min(len(elapsed), max(1, round(1.0 / drill.dt)))
    return {
        "setup_s": setup, "loop_s": loop, "wall_s": setup + loop, "steps": steps,
        "dt": drill.dt, "ms_per_step": 1e3 * loop / max(steps, 1),
        "agent_steps_per_s": agent_steps / loop, "evac_s": drill.time if drill.remaining == 0
        else float("nan"), "left": drill.remaining,
        "ms_per_step_full": 1e3 * elapsed[full - 1] / full,
        "elapsed": np.array(elapsed),
    }


def run_jps(scen: Scenario, doors: list[Polygon], pos: np.ndarray, v0: np.ndarray,
            budget: float, dt: float) -> dict[str, float]:
    """The same agents in JuPedSim (sim/verify/jps.py), each heading for its nearest door."""
    from sim.verify.jps import simulate

    centres = np.array([[d.centroid.x, d.centroid.y] for d in doors])
    nearest = np.argmin(((pos[:, None, :] - centres[None]) ** 2).sum(-1), axis=1)
    r = simulate(scen.scene.floors[0].walkable, doors, pos, v0, np.full(len(pos), 0.2),
                 nearest, scen.model, max_time=scen.settings.max_time, budget=budget, dt=dt)
    return {
        "setup_s": r.setup_s, "loop_s": r.loop_s, "wall_s": r.setup_s + r.loop_s,
        "steps": r.steps, "dt": r.dt, "ms_per_step": 1e3 * r.loop_s / max(r.steps, 1),
        "agent_steps_per_s": r.agent_steps / max(r.loop_s, 1e-9),
        "evac_s": r.sim_s if r.complete else float("nan"),
        "left": r.left, "complete": float(r.complete), "sim_s": r.sim_s,
    }


def report(n: int, rep: str, ours: dict, jr: dict | None, *, own: bool = True
           ) -> float | None:
    """Print the figures of one run pair (``own``: this engine's too); returns the wall-time
    speedup if JuPedSim finished."""
    tag = f"n={n}{rep}"
    if own:
        _report_ours(tag, ours)
    if jr is None:
        return None
    tag += f" jps_dt={jr['dt']}"
    return _report_jps(tag, ours, jr)


def _report_ours(tag: str, ours: dict) -> None:
    per_005 = ours["ms_per_step"] * 0.05 / ours["dt"]
    full_005 = ours["ms_per_step_full"] * 0.05 / ours["dt"]
    print(f"ours_ms_per_step {ours['ms_per_step']:.2f} ms {tag} dt={ours['dt']}")
    print(f"ours_ms_per_0.05s_sim {per_005:.2f} ms {tag} (mean over the whole evacuation)")
    print(f"ours_ms_per_0.05s_sim_all_present {full_005:.2f} ms {tag} (first second)")
    print(f"ours_agent_steps_per_s {ours['agent_steps_per_s']:.4g} 1/s {tag}")
    print(f"ours_setup {ours['setup_s']:.2f} s {tag}")
    print(f"ours_wall {ours['wall_s']:.2f} s {tag}")
    print(f"ours_evacuation_time {ours['evac_s']:.2f} s {tag} left={ours['left']}")
    print(f"ours_peak_rss {peak_rss_mb():.0f} MB {tag}")


def _report_jps(tag: str, ours: dict, jr: dict) -> float | None:
    print(f"jps_ms_per_step {jr['ms_per_step']:.2f} ms {tag} dt={jr['dt']}")
    print(f"jps_ms_per_0.05s_sim {jr['ms_per_step'] * 0.05 / jr['dt']:.2f} ms {tag}")
    print(f"jps_agent_steps_per_s {jr['agent_steps_per_s']:.4g} 1/s {tag}")
    print(f"jps_setup {jr['setup_s']:.2f} s {tag}")
    print(f"jps_complete {int(jr['complete'])} - {tag} simulated={jr['sim_s']:.1f}s "
          f"left={jr['left']}")
    if jr["complete"]:
        speedup = jr["wall_s"] / ours["wall_s"]
        print(f"jps_wall {jr['wall_s']:.2f} s {tag}")
        print(f"jps_evacuation_time {jr['evac_s']:.2f} s {tag}")
        print(f"speedup_wall {speedup:.2f} x {tag}")
        print(f"evacuation_time_ratio {ours['evac_s'] / jr['evac_s']:.3f} - {tag}")
        return speedup
    # Compare over the span JuPedSim managed: our wall time to the same simulated time.
    k = min(len(ours["elapsed"]), max(1, int(jr["sim_s"] / ours["dt"])))
    print(f"ours_wall_to_same_time {ours['elapsed'][k - 1]:.2f} s {tag} "
          f"simulated={k * ours['dt']:.1f}s")
    print(f"speedup_same_span {jr['loop_s'] / ours['elapsed'][k - 1]:.2f} x {tag}")
    return None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 50000, 100000])
    ap.add_argument("--jps-budget", type=float, default=900.0,
                    help="wall-time limit of one JuPedSim run, s")
    ap.add_argument("--repeat", type=int, default=1,
                    help="run each size this many times, alternating the engines, and print "
                         "the median speedup (this machine's speed varies between runs)")
    ap.add_argument("--no-jps", action="store_true", help="run only this engine")
    ap.add_argument("--jps-dt", type=float, nargs="+", default=[0.01, 0.05],
                    help="JuPedSim time steps to run, s (default: its own 0.01 and ours 0.05)")
    args = ap.parse_args()
    warm_up()  # the compiled kernels load once per process, before any timing
    for n in args.sizes:
        scen, doors = room(n)
        speedups: dict[float, list[float]] = {dt: [] for dt in args.jps_dt}
        for r in range(args.repeat):
            clear_cache()  # every repeat pays for its own navigation fields
            gc.collect()
            ours = run_ours(scen)
            rep = f" run={r + 1}/{args.repeat}" if args.repeat > 1 else ""
            report(n, rep, ours, None)
            if not args.no_jps:
                d = Drill(scen)
                pos, v0 = d.crowd.pos.copy(), d.crowd.v0.copy()
                del d
                for dt in args.jps_dt:
                    jr = run_jps(scen, doors, pos, v0, args.jps_budget, dt)
                    s = report(n, rep, ours, jr, own=False)
                    if s is not None:
                        speedups[dt].append(s)
                    sys.stdout.flush()
            sys.stdout.flush()
        for dt, ups in speedups.items():
            if len(ups) > 1:
                print(f"speedup_wall_median {float(np.median(ups)):.2f} x n={n} jps_dt={dt} "
                      f"runs={','.join(f'{x:.2f}' for x in ups)}")
                sys.stdout.flush()


if __name__ == "__main__":
    main()
