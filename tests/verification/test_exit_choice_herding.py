"""Exit choice without herding: 80 agents on the quickest rule next to the narrow exit of a
two-exit room (``scenes.herding_room``), under the logit rule and under the threshold rule
drills used before it (``ThresholdChoice()``: the same choices, bit for bit)."""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest
from scenes import TargetLog, herding_room, run_to_end, worst_window_share

import sim.drill
from sim.drill import Drill
from sim.exit_choice import ThresholdChoice

SEEDS = (1, 2, 3, 4)
CROWD = 80


@cache
def _run(seed: int, old: bool = False) -> tuple[Drill, np.ndarray, np.ndarray]:
    """A run of the herding room: the drill, and the times (s) and ids of every switch."""
    saved = sim.drill.EXIT_CHOICE
    sim.drill.EXIT_CHOICE = ThresholdChoice() if old else saved
    try:
        log = TargetLog()
        drill = run_to_end(herding_room(count=CROWD, seed=seed), on_step=log)
    finally:
        sim.drill.EXIT_CHOICE = saved
    return drill, *log.switches(drill.total)


def _worst_second(times: np.ndarray) -> int:
    """Most switches within any 1 s."""
    return round(worst_window_share(times) * len(times))


@pytest.mark.parametrize("seed", SEEDS)
def test_the_old_rule_herds_in_this_room(seed: int) -> None:
    """The reference: most of the crowd changes exit within the same second."""
    _, times, _ = _run(seed, old=True)
    assert _worst_second(times) >= 0.5 * CROWD
    assert worst_window_share(times) >= 0.7


@pytest.mark.parametrize("seed", SEEDS)
def test_no_second_sees_more_than_a_tenth_of_the_crowd_switch(seed: int) -> None:
    drill, times, _ = _run(seed)
    assert drill.evacuated == CROWD
    assert _worst_second(times) <= 0.1 * CROWD


def test_a_tenth_of_the_old_switches_or_fewer() -> None:
    """Choosing slice by slice at the start leaves few agents a reason to switch."""
    new = sum(len(_run(seed)[1]) for seed in SEEDS)
    old = sum(len(_run(seed, old=True)[1]) for seed in SEEDS)
    assert new <= 0.1 * old


@pytest.mark.parametrize("seed", SEEDS)
def test_no_agent_switches_more_than_twice_and_both_exits_are_used(seed: int) -> None:
    drill, _, ids = _run(seed)
    assert np.bincount(ids, minlength=CROWD).max(initial=0) <= 2
    used = np.bincount(drill.exit_used, minlength=2)
    assert (used >= 20).all()


def test_the_evacuation_is_not_slower_than_with_the_old_rule() -> None:
    new = [float(np.nanmax(_run(seed)[0].exit_time)) for seed in SEEDS]
    old = [float(np.nanmax(_run(seed, old=True)[0].exit_time)) for seed in SEEDS]
    assert np.mean(new) <= 1.1 * np.mean(old)
    assert max(new) <= 1.1 * max(old)


def test_the_same_seed_gives_the_same_choices() -> None:
    a, b = TargetLog(), TargetLog()
    da = run_to_end(herding_room(seed=5), on_step=a)
    db = run_to_end(herding_room(seed=5), on_step=b)
    assert np.array_equal(da.exit_time, db.exit_time, equal_nan=True)
    assert np.array_equal(da.exit_used, db.exit_used)
    assert all(np.array_equal(x[2], y[2]) for x, y in zip(a.steps, b.steps, strict=True))
