"""Capacity of narrow passages, counterflow and the fundamental diagram, on the cases that
``drill verify`` ships (sim/verify/cases): the figures docs/model.md quotes."""

from __future__ import annotations

import numpy as np
import pytest

from sim.scenario import ModelParams
from sim.verify.case import steady_flow
from sim.verify.engine import Engine
from sim.verify.periodic import fd_point, weidmann
from sim.verify.validity import counterflow_doc, passage_doc

RUN = Engine()


@pytest.mark.slow
@pytest.mark.parametrize("length", [0.2, 0.5, 1.0, 3.0, 5.0])
def test_passages_of_08_to_12_m_pass_13_to_20_per_metre_and_second_growing_with_width(
        length: float) -> None:
    """SFPE design 1.3 /(m·s); Seyfried et al. 2009 and Kretz et al. 2006 measured up to
    about 2 /(m·s). A door in a 0.2-0.5 m wall and corridors up to 5 m long alike."""
    flows = []
    for width in (0.8, 1.0, 1.2):
        out = RUN(passage_doc(width, length), seed=1)
        times = out.line_times[0]
        # Everyone crosses the line at the passage's end (a few step back and cross again).
        assert out.everyone_out and out.total <= len(times) <= out.total + 10
        assert np.diff(times).max() < 5.0  # no standoff
        flows.append(steady_flow(times))
        assert 1.3 <= flows[-1] / width <= 2.0, (width, flows[-1] / width)
    assert flows[0] < flows[1] < flows[2]


@pytest.mark.slow
@pytest.mark.parametrize(("width", "each"), [(2.0, 25), (3.0, 40), (4.0, 50)])
def test_opposing_streams_all_pass_each_other_by_the_far_exit(
        width: float, each: int) -> None:
    """Lanes form (evasion to the keeping side) and everyone gets through. Each person's
    travel time over their own free-walking time has a median of 1.58-1.81 (before the
    evasion rule: 1.75-2.18); the 1.5 of issue 15 is not reached yet (drill verify says
    so), this bounds what the model does today."""
    out = RUN(counterflow_doc(width, each))
    east = out.group == 0
    x0 = out.start[:, 0]
    free = np.where(east, 29.7 - x0, x0 - 0.3) / out.v0
    assert out.everyone_out
    assert np.all(out.exit_used == np.where(east, 1, 0))  # each by the far exit
    assert np.median(out.exit_time / free) <= 1.85


@pytest.mark.slow
def test_opposing_streams_form_lanes_on_their_right() -> None:
    """Mid-corridor, eastbound people walk on the south (right) half, westbound on the
    north: the keeping side of mainland China."""
    ys: dict[int, list[float]] = {0: [], 1: []}

    def look(drill) -> None:
        rows = drill.active()
        mid = rows & (np.abs(drill.crowd.pos[:, 0] - 15.0) < 3.0)
        for g in (0, 1):
            ys[g].extend(drill.crowd.pos[mid & (drill.crowd.group == g), 1].tolist())

    RUN(counterflow_doc(4.0, 50), observe=look)
    assert np.mean(ys[0]) < 1.6 and np.mean(ys[1]) > 2.4


@pytest.mark.parametrize("density", [0.5, 1.0, 2.0, 3.0, 4.0])
def test_speed_at_a_density_is_within_20_percent_of_weidmann(density: float) -> None:
    """RiMEA 4 on a periodic corridor: Weidmann (1993) ±20 % for 0.5-4 persons/m²."""
    point = fd_point(density, ModelParams(), np.random.default_rng(7))
    assert abs(point.speed / float(weidmann(point.density)) - 1.0) <= 0.2, point
