"""Sweep benchmark: wall time of N runs with 1 and with 2 Dask workers on this machine.

    python tools/bench_sweep.py [--scenario school] [--runs 20] [--workers 1 2]

Prints one JSON line per worker count: wall time of the runs (the cluster's start-up
apart), the sum of the runs' own wall times, the speed-up against one worker, and the
scheduling overhead per run, (wall x workers - busy) / busy.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sim.scenario import load  # noqa: E402
from tools.sweep import sweep  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default="school")
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    a = ap.parse_args()
    first = None
    for w in a.workers:
        with tempfile.TemporaryDirectory() as tmp:
            agg = sweep(load(a.scenario), a.runs, [], tmp, workers=w, progress=False)
        row = {"scenario": a.scenario, "runs": a.runs, "workers": w, "wall_s": agg["wall_s"],
               "cluster_start_s": agg["cluster_start_s"], "busy_s": agg["run_wall_s"]["total"],
               "overhead_per_run": agg["overhead_per_run"],
               "p50_s": agg["evacuation_s"]["p50"], "p95_s": agg["evacuation_s"]["p95"]}
        if first is None:
            first = agg["wall_s"]
        else:
            row["speedup"] = round(first / agg["wall_s"], 2)
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
