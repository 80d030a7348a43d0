"""The built-in environments at default parameters: everyone gets out in time, and closing
the busiest exit lengthens the evacuation and sends people elsewhere."""

from __future__ import annotations

import dataclasses
from functools import cache

import numpy as np
import pytest

from sim.drill import Drill
from sim.scenario import Event, Scenario, load

SCENES = ["mall", "school", "mine"]


@cache
def _run(name: str, closed: str | None = None) -> Drill:
    scenario: Scenario = load(name)
    if closed is not None:
        ei = scenario.scene.exit_index(closed)
        scenario = dataclasses.replace(
            scenario, events=(Event(time=0.0, action="close_exit", exit=ei),))
    drill = Drill(scenario)
    while not drill.done():
        drill.step()
    return drill


@pytest.mark.parametrize("name", SCENES)
def test_builtin_scene_evacuates_completely_within_its_max_time(name: str) -> None:
    drill = _run(name)
    assert drill.remaining == 0
    assert np.nanmax(drill.exit_time) < drill.scenario.settings.max_time
    # Every floor that held people was cleared.
    assert not np.isnan(drill.floor_last_occupied).all()


@pytest.mark.parametrize("name", SCENES)
def test_closing_the_busiest_exit_lengthens_the_evacuation_and_reroutes(name: str) -> None:
    base = _run(name)
    busiest = int(np.bincount(base.exit_used[base.exit_used >= 0]).argmax())
    exit_id = base.scene.exits[busiest].id
    closed = _run(name, exit_id)
    assert closed.remaining == 0
    assert not (closed.exit_used == busiest).any()
    # People walk further: the mean time out grows. (The last one out need not be later:
    # in the mall that is whoever comes down the stairs from 3F last, whatever the exits.)
    assert np.nanmean(closed.exit_time) > np.nanmean(base.exit_time)
    others = np.bincount(closed.exit_used, minlength=len(base.scene.exits))
    before = np.bincount(base.exit_used, minlength=len(base.scene.exits))
    others[busiest] = before[busiest] = 0
    assert others.sum() == base.total and (others >= before).all()


def test_upper_floors_clear_before_the_ground_floor_in_the_school() -> None:
    drill = _run("school")
    clear = drill.floor_last_occupied
    assert list(np.argsort(clear)) == list(range(len(clear)))[::-1]
