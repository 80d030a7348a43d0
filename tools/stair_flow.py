"""Flow, speed and density on a walked stair, against the SFPE handbook's stair data.

Usage: python tools/stair_flow.py [--widths 1.0 1.2 1.5 1.8 2.4] [--count 200]
       [--time-gap T] [--way down|up] [--stairs walked|queue]

A room of ``count`` people above (or below) one stair of 15 m walking length; everyone
leaves by it. Per width it prints the steady flow off the stair (persons/s, and per metre
of SFPE effective width, width - 0.3 m), and the speed and density on the middle third of
the flight sampled every second while it is busy, beside SFPE's relation for stairs
``S = k (1 - 0.266 D)`` (k = 1.08 for 7/11 in risers/treads; largest specific flow
0.94 k = 1.01 /(m·s)).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sim.agents.crowd import State  # noqa: E402
from sim.drill import Drill  # noqa: E402
from sim.scenario import parse  # noqa: E402
from sim.verify.case import steady_flow  # noqa: E402
from sim.verify.crowds import SFPE_STAIR_FLOW, stair_flow_doc  # noqa: E402
from sim.verify.observe import StairLog  # noqa: E402

SFPE_K = 1.08
"""SFPE speed constant for stairs of 7 in risers and 11 in treads (m/s)."""
LENGTH = 15.0


def stair_doc(width: float, count: int, way: str) -> dict:
    """The stair-flow case with a 15 m stair of ``width`` m, walked ``way``."""
    doc = stair_flow_doc(width, count, LENGTH)
    doc["simulation"]["max_time"] = 1200
    if way == "up":  # the room is on the ground floor, the exit upstairs
        doc["floors"][0]["elevation"], doc["floors"][1]["elevation"] = 3.0, 0.0
    return doc


def measure(width: float, count: int, way: str, stairs: str, time_gap: float | None
            ) -> dict[str, float]:
    """Steady flow off the stair and (density, speed) samples on its middle third."""
    scen = parse(stair_doc(width, count, way), source="<stair_flow>")
    model = dataclasses.replace(scen.model, stairs=stairs)
    if time_gap is not None:
        model = dataclasses.replace(model, stair_time_gap=time_gap)
    drill = Drill(dataclasses.replace(scen, model=model))
    log = StairLog()
    samples: list[tuple[float, float]] = []
    log(drill)
    while not drill.done():
        drill.step()
        log(drill)
        c = drill.crowd
        if stairs == "walked" and drill.tick % 20 == 0:
            on = (c.state == State.ON_STAIRS) & drill.active()
            s = c.stair_pos[on, 0]
            mid = (s > LENGTH / 3) & (s < 2 * LENGTH / 3)
            if mid.sum() >= 2:
                samples.append((mid.sum() / (LENGTH / 3 * width), float(c.speed[on][mid].mean())))
    landed = np.sort(log.landed[log.ids])
    flow = steady_flow(landed)
    out = {"flow": flow, "specific": flow / max(width - 0.3, 0.3), "time": drill.time,
           "out": drill.remaining == 0}
    if samples:
        d, v = np.array(samples).T
        out["density"], out["speed"] = float(np.median(d)), float(np.median(v))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--widths", type=float, nargs="+", default=[1.0, 1.2, 1.5, 1.8, 2.4])
    ap.add_argument("--count", type=int, default=200)
    ap.add_argument("--time-gap", type=float, default=None)
    ap.add_argument("--way", choices=("down", "up"), default="down")
    ap.add_argument("--stairs", choices=("walked", "queue"), default="walked")
    a = ap.parse_args()
    print(f"{a.stairs} stair, {a.way}, {a.count} people, 15 m; SFPE largest specific flow "
          f"{SFPE_STAIR_FLOW:.2f} /(m·s)")
    print(f"{'width m':>8} {'flow /s':>8} {'/(m·s)':>7} {'D /m²':>6} {'v m/s':>6} "
          f"{'SFPE v':>7} {'all out':>7}")
    for w in a.widths:
        r = measure(w, a.count, a.way, a.stairs, a.time_gap)
        d = r.get("density", float("nan"))
        sfpe = SFPE_K * (1 - 0.266 * d) if d >= 0.54 else 0.85 * SFPE_K
        print(f"{w:8.2f} {r['flow']:8.2f} {r['specific']:7.2f} {d:6.2f} "
              f"{r.get('speed', float('nan')):6.2f} {sfpe:7.2f} {str(r['out']):>7}")


if __name__ == "__main__":
    main()
