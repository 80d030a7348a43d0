"""Agents coloured by state in one vectorised geom; hazards and power cuts drawn."""

from __future__ import annotations

import numpy as np
from pictures import drill_of, is_red, near_colour, window

from render.agents import BODY_HEIGHT, SIDES
from render.palette import AGENT_COLOURS, HAZARD_COLOURS, INJURED
from render.state import AgentFrame, SceneState, snapshot
from sim.agents.crowd import State
from sim.hazards import Hazard

SIZE = (600, 400)


def office_state(agents: AgentFrame, hazards: tuple = ()) -> SceneState:
    return SceneState(time=0.0, agents=agents, exit_open=np.ones(2, bool), hazards=hazards)


def agents_at(xy: np.ndarray, state: np.ndarray, injured: np.ndarray | None = None) -> AgentFrame:
    n = len(xy)
    return AgentFrame(id=np.arange(n), xyz=np.column_stack([xy, np.zeros(n)]),
                      state=np.asarray(state, np.uint8), heading=np.tile([1.0, 0.0], (n, 1)),
                      radius=np.full(n, 0.3),
                      injured=np.zeros(n, bool) if injured is None else injured)


def test_each_state_is_drawn_in_its_colour_and_injured_in_red(renderer_of) -> None:  # noqa: ANN001
    r = renderer_of("office")
    xy = np.array([[3.0, 3.0], [7.0, 3.0], [13.0, 3.0], [17.0, 3.0], [23.0, 3.0]])
    states = [State.WAITING, State.MOVING, State.ON_STAIRS, State.EVACUATED, State.MOVING]
    injured = np.array([False, False, False, False, True])
    img = r.render(office_state(agents_at(xy, states, injured)), "floor:0", SIZE)
    pix, ok = r.project(np.column_stack([xy, np.full(len(xy), BODY_HEIGHT)]))
    assert ok.all()
    expected = [AGENT_COLOURS[s] for s in states[:4]] + [INJURED]
    for p, colour in zip(pix, expected, strict=True):
        assert near_colour(window(img, p, 1), colour, 12).any(), (p, colour)


def test_ten_thousand_agents_are_one_geom_rewritten_in_place(renderer_of) -> None:  # noqa: ANN001
    r = renderer_of("office")
    rng = np.random.default_rng(0)
    n = 10_000
    xy = rng.uniform([0.5, 0.5], [29.5, 19.5], (n, 2))
    r.render(office_state(agents_at(xy, np.ones(n))), "overview", SIZE)
    node = r.agents.node.node()
    assert node.get_num_geoms() == 1
    assert len(r.root.find_all_matches("**/agents")) == 1
    geom = node.get_geom(0)
    assert geom.get_vertex_data().get_num_rows() == n * 2 * SIDES
    assert geom.get_primitive(0).get_num_primitives() == n * (2 * SIDES + SIDES - 2)
    r.render(office_state(agents_at(xy[:10], np.ones(10))), "overview", SIZE)
    assert node.get_geom(0).get_vertex_data().get_num_rows() == 10 * 2 * SIDES


def test_fire_smoke_and_flood_show_where_they_were_injected(renderer_of) -> None:  # noqa: ANN001
    r = renderer_of("office")
    hazards = (Hazard("f", "fire", 0, 5.0, 4.0, 1.5), Hazard("s", "smoke", 0, 15.0, 4.0, 2.5),
               Hazard("w", "flood", 0, 25.0, 15.0, 2.5))
    empty = agents_at(np.zeros((0, 2)), [])
    bare = r.render(office_state(empty), "floor:0", SIZE).copy()
    img = r.render(office_state(empty, hazards), "floor:0", SIZE)
    pix, ok = r.project(np.array([[5.0, 4.0, 2.5], [15.0, 4.0, 3.3], [25.0, 15.0, 0.31]]))
    assert ok.all()
    assert is_red(window(img, pix[0])).all()        # the flame
    for p in pix[1:]:                                # translucent: changed, not replaced
        assert np.abs(window(img, p) - window(bare, p)).sum(axis=1).min() > 30
    flood = window(img, pix[2])
    assert (flood[:, 2] > flood[:, 0] + 40).all()    # bluish water
    assert HAZARD_COLOURS["smoke"][3] < 255


def test_blocked_exit_and_power_cut_are_visible(renderer_of) -> None:  # noqa: ANN001
    drill = drill_of("office")
    r = renderer_of("office")
    state = snapshot(drill)
    lit = r.render(state, "floor:0", SIZE).astype(int)
    dark_state = SceneState(time=state.time, agents=state.agents, exit_open=state.exit_open,
                            hazards=(Hazard("p", "power_cut", 0),
                                     Hazard("b", "blocked_exit", 0, exit="East")))
    dark = r.render(dark_state, "floor:0", SIZE).astype(int)
    assert dark.mean() < lit.mean() - 20
    pix, _ = r.project(np.array([[29.85, 10.0, 2.0]]))
    assert is_red(window(dark, pix[0])).any()


def test_fire_injected_into_a_live_drill_closes_the_exit_and_shows_both(
        renderer_of) -> None:  # noqa: ANN001
    from sim.drill import Drill
    from sim.scenario import load

    drill = Drill(load("office"))
    drill.inject(Hazard("fire1", "fire", 0, 28.5, 10.0, 2.0))  # beside the East exit
    state = snapshot(drill)
    assert not state.exit_open[drill.scene.exit_index("East")]
    r = renderer_of("office")
    img = r.render(state, "floor:0", SIZE)
    pix, ok = r.project(np.array([[28.5, 10.0, 2.5], [29.85, 9.2, 2.4], [0.15, 10.0, 2.4]]))
    assert ok.all()
    assert is_red(window(img, pix[0])).all()       # flame
    assert is_red(window(img, pix[1])).any()       # East exit lintel, closed
    assert not is_red(window(img, pix[2])).any()   # West exit still open (green)


def test_hazards_in_a_run_folders_event_log_are_replayed(tmp_path) -> None:  # noqa: ANN001
    import json
    import shutil

    from render.recording import open_run

    src = tmp_path / "run"
    src.mkdir()
    (src / "summary.json").write_text(json.dumps({"scenario": "office", "agents": 1,
                                                  "evacuated": 0, "sim_time_s": 1.0}))
    (src / "trajectories.txt").write_text(
        "#framerate: 10\n" + "".join(f"0 {k} 5.0 5.0 0.0\n" for k in range(11)))
    events = [{"t": 0.2, "type": "hazard", "hazard": {"id": "H1", "kind": "smoke", "floor": 0,
                                                     "x": 5, "y": 5, "radius": 2}},
              {"t": 0.5, "type": "exit_closed", "exit": "West"},
              {"t": 0.7, "type": "hazard_cleared", "id": "H1"}]
    (src / "events.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))
    rec = open_run(src)
    assert [h.id for h in rec.state_at(0.3).hazards] == ["H1"]
    assert rec.state_at(0.8).hazards == ()
    assert list(rec.state_at(0.6).exit_open) == [False, True]
    assert rec.state_at(0.3).agents.state.tolist() == [State.WAITING]
    shutil.rmtree(src)
