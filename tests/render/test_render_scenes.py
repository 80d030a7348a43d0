"""Each built-in scene rendered headless: a picture, exits in green where they project,
agents where the crowd is."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from pictures import SCENES, drill_of, is_green, is_red, is_refuge_blue, near_colour, window

from render.agents import BODY_HEIGHT
from render.building import LINTEL
from render.palette import AGENT_COLOURS, INJURED, SKY
from render.state import snapshot

SIZE = (640, 400)


def exit_points(scene, floor: int) -> tuple[list, np.ndarray]:  # noqa: ANN001
    """Exits on ``floor`` and the top centre of their lintels, (k, 3) m."""
    exits = [e for e in scene.exits if e.floor == floor]
    z = scene.floors[floor].elevation + LINTEL[1]
    pts = [shapely.get_coordinates(shapely.point_on_surface(e.polygon))[0] for e in exits]
    return exits, np.array([[x, y, z] for x, y in pts]).reshape(-1, 3)


@pytest.mark.parametrize("name", SCENES)
def test_overview_is_a_picture_not_a_blank(name: str, renderer_of) -> None:  # noqa: ANN001
    img = renderer_of(name).render(snapshot(drill_of(name)), "overview", SIZE)
    assert img.shape == (SIZE[1], SIZE[0], 3)
    background = near_colour(img.reshape(-1, 3).astype(int), SKY, 6)
    assert 0.05 < background.mean() < 0.99, "the building should fill part of the frame"
    assert len(np.unique(img.reshape(-1, 3), axis=0)) > 10


@pytest.mark.parametrize("name", SCENES)
def test_exits_show_in_their_colour_where_the_plan_camera_projects_them(
        name: str, renderer_of) -> None:  # noqa: ANN001
    drill = drill_of(name)
    r = renderer_of(name)
    scene = drill.scene
    for fi in sorted({e.floor for e in scene.exits}):
        img = r.render(snapshot(drill), f"floor:{fi}", SIZE)
        exits, pts = exit_points(scene, fi)
        xy, ok = r.project(pts)
        assert ok.all()
        for e, p in zip(exits, xy, strict=True):
            px = window(img, p, 2)
            if e.kind == "refuge":
                found = is_refuge_blue(px).any()
            else:
                found = is_green(px).any()
            assert found, f"{name}: exit {e.id} not drawn in its colour at pixel {p}"


@pytest.mark.parametrize("name", SCENES)
def test_agents_are_drawn_where_the_crowd_stands(name: str, renderer_of) -> None:  # noqa: ANN001
    drill = drill_of(name)
    r = renderer_of(name)
    state = snapshot(drill)
    floor = int(np.bincount(drill.crowd.floor[drill.on_plan()]).argmax())
    img = r.render(state, f"floor:{floor}", SIZE)
    a = state.agents
    elev = drill.scene.floors[floor].elevation
    on = np.flatnonzero(np.isclose(a.xyz[:, 2], elev))
    pick = on[np.linspace(0, len(on) - 1, min(40, len(on))).astype(int)]
    tops = a.xyz[pick] + np.array([0.0, 0.0, BODY_HEIGHT])
    xy, ok = r.project(tops)
    assert ok.all()
    colours = [*AGENT_COLOURS.values(), INJURED]
    hits = [any(near_colour(window(img, p, 1), c, 40).any() for c in colours) for p in xy]
    assert np.mean(hits) >= 0.9, f"{name}: agents missing at {np.flatnonzero(~np.array(hits))}"


def test_a_closed_exit_turns_red(renderer_of) -> None:  # noqa: ANN001
    drill = drill_of("office")
    r = renderer_of("office")
    state = snapshot(drill)
    state.exit_open[0] = False
    img = r.render(state, "floor:0", SIZE)
    _, pts = exit_points(drill.scene, 0)
    xy, _ = r.project(pts)
    assert is_red(window(img, xy[0])).any()
    assert not is_green(window(img, xy[0])).any()
    assert is_green(window(img, xy[1])).any()


def test_floors_above_the_viewed_one_are_cut_away(renderer_of) -> None:  # noqa: ANN001
    drill = drill_of("school")
    r = renderer_of("school")
    state = snapshot(drill)
    elev = np.array([f.elevation for f in drill.scene.floors])
    r.render(state, "floor:0", SIZE)
    assert r.agents.count == int(np.count_nonzero(state.agents.xyz[:, 2] < elev[1] - 0.05))
    assert [n.is_hidden() for n in r.building.floors] == [False] + [True] * (len(elev) - 1)
    r.render(state, "overview", SIZE)
    assert r.agents.count == len(state.agents)
    assert not any(n.is_hidden() for n in r.building.floors)
