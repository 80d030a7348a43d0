"""Flow through a door of several widths: the table in docs/model.md.

150 agents in a 10 m x 10 m room leave through one door in its east wall; the flow is
counted at a line across the door between the 10th and 90th percentile passage.

    python tools/door_flow.py [--seeds 3]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path[:0] = [str(Path(__file__).resolve().parents[1]),
                str(Path(__file__).resolve().parents[1] / "tests")]

from scenes import door_room, run_to_end  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--widths", type=float, nargs="+", default=[0.8, 1.0, 1.2, 1.6, 2.0, 2.4])
    args = ap.parse_args()
    for w in args.widths:
        flows = []
        for seed in range(1, args.seeds + 1):
            t = np.sort(run_to_end(door_room(w, count=150, seed=seed)).measures[0].times)
            a, b = int(0.1 * len(t)), int(0.9 * len(t)) - 1
            flows.append((b - a) / (t[b] - t[a]))
        mean = float(np.mean(flows))
        print(f"door_flow {mean:.2f} 1/s width={w:g}m specific={mean / w:.2f}/(m*s) "
              f"seeds={','.join(f'{f:.2f}' for f in flows)}")


if __name__ == "__main__":
    main()
