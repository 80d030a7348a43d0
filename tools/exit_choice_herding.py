"""Herding in exit choice: the figures of docs/exit_choice_section.md.

80 agents on the quickest rule stand next to the narrow exit of a two-exit room
(``tests/scenes.py::herding_room``). For the threshold rule (the old one) and the logit rule
it prints, per seed, how many switches of exit there were, the largest share of them within
any 1 s (and how many agents that is), the most switches of one agent, how many left by each
exit and the evacuation time; then the means. ``threshold`` is the rule drills used before
(bit for bit), ``threshold_sequential`` the same rule with the slice-by-slice forced choice,
``logit`` the rule drills use now (or the one given by the options).

    python tools/exit_choice_herding.py [--seeds 8] [--scale S] [--relative R] [--inertia I]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path[:0] = [str(Path(__file__).resolve().parents[1]),
                str(Path(__file__).resolve().parents[1] / "tests")]

from scenes import TargetLog, herding_room, run_to_end, worst_window_share  # noqa: E402

import sim.drill  # noqa: E402
from sim.exit_choice import LogitChoice, ThresholdChoice  # noqa: E402


def measure(rule: LogitChoice | ThresholdChoice, seed: int) -> dict[str, float]:
    """One run of the herding room with ``rule``; its figures."""
    saved = sim.drill.EXIT_CHOICE
    sim.drill.EXIT_CHOICE = rule
    try:
        log = TargetLog()
        drill = run_to_end(herding_room(seed=seed), on_step=log)
    finally:
        sim.drill.EXIT_CHOICE = saved
    times, ids = log.switches(drill.total)
    used = np.bincount(drill.exit_used[drill.exit_used >= 0], minlength=2)
    share = worst_window_share(times)
    return {"switches": len(times), "share": share, "worst": round(share * len(times)),
            "per_agent": int(np.bincount(ids, minlength=1).max()),
            "A": int(used[0]), "B": int(used[1]), "time": float(np.nanmax(drill.exit_time))}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=8)
    now = sim.drill.EXIT_CHOICE
    ap.add_argument("--scale", type=float, default=now.scale)
    ap.add_argument("--relative", type=float, default=now.relative)
    ap.add_argument("--inertia", type=float, default=now.inertia)
    args = ap.parse_args()
    rules = {"threshold": ThresholdChoice(),
             "threshold_sequential": ThresholdChoice(rounds=now.rounds),
             "logit": LogitChoice(scale=args.scale, relative=args.relative,
                                  inertia=args.inertia)}
    for name, rule in rules.items():
        rows = [measure(rule, seed) for seed in range(1, args.seeds + 1)]
        for seed, r in enumerate(rows, 1):
            print(f"herding_{name} {r['share']:.2f} share_in_worst_1s seed={seed} "
                  f"switches={r['switches']} in_worst_1s={r['worst']} "
                  f"max_per_agent={r['per_agent']} "
                  f"exits=A:{r['A']},B:{r['B']} evacuation={r['time']:.2f}s")
        pooled = sum(r["worst"] for r in rows) / max(1, sum(r["switches"] for r in rows))
        print(f"herding_{name}_mean {np.mean([r['share'] for r in rows]):.2f} "
              f"share_in_worst_1s max={max(r['share'] for r in rows):.2f} "
              f"pooled={pooled:.2f} "
              f"switches={np.mean([r['switches'] for r in rows]):.1f} "
              f"in_worst_1s={np.mean([r['worst'] for r in rows]):.1f} "
              f"(max {max(r['worst'] for r in rows)}) "
              f"max_per_agent={max(r['per_agent'] for r in rows)} "
              f"evacuation={np.mean([r['time'] for r in rows]):.2f}s "
              f"worst={max(r['time'] for r in rows):.2f}s")


if __name__ == "__main__":
    main()
