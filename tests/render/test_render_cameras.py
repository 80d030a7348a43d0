"""Cameras: first-person, follow, and clear errors for impossible ones."""

from __future__ import annotations

import numpy as np
import pytest
from pictures import drill_of, is_green, near_colour, window

from render.agents import BODY_HEIGHT
from render.building import LINTEL
from render.camera import Follow, Pose, parse_camera
from render.errors import CameraError, SizeError
from render.palette import AGENT_COLOURS
from render.renderer import parse_size
from render.state import snapshot

SIZE = (480, 320)


def test_first_person_view_down_the_corridor_sees_the_exit(renderer_of) -> None:  # noqa: ANN001
    drill = drill_of("office")
    r = renderer_of("office")
    # Office corridor: y 9..11; the West exit is at x 0..0.3. Eye 1.6 m up, looking west.
    img = r.render(snapshot(drill), "pose:20,10,1.6,180,0", SIZE)
    xy, ok = r.project(np.array([[0.15, 10.0, LINTEL[0] + 0.15]]))
    assert ok[0]
    assert abs(xy[0, 0] - SIZE[0] / 2) < 5  # straight ahead
    assert is_green(window(img, xy[0], 2)).any()


def test_follow_camera_keeps_its_agent_in_the_middle_of_the_picture(
        renderer_of) -> None:  # noqa: ANN001
    drill = drill_of("office")
    r = renderer_of("office")
    state = snapshot(drill)
    agent = int(state.agents.id[len(state.agents) // 2])
    img = r.render(state, f"follow:{agent}", SIZE)
    row = np.flatnonzero(state.agents.id == agent)[0]
    xy, ok = r.project(state.agents.xyz[row] + np.array([0, 0, BODY_HEIGHT]))
    assert ok[0]
    assert np.hypot(*(xy[0] - np.array(SIZE) / 2)) < 0.15 * SIZE[1]
    colour = AGENT_COLOURS[state.agents.state[row]]
    assert near_colour(window(img, xy[0], 3), colour, 150).any()


@pytest.mark.parametrize("spec", ["pose:100,5,1.6,0,0", "pose:15,10,40,0,0",
                                  "pose:15,-3,1.6,0,0"])
def test_pose_outside_the_building_is_refused(spec: str, renderer_of) -> None:  # noqa: ANN001
    with pytest.raises(CameraError, match="outside the building"):
        renderer_of("office").render(snapshot(drill_of("office")), spec, SIZE)


def test_unknown_floor_is_refused_naming_the_floors(renderer_of) -> None:  # noqa: ANN001
    with pytest.raises(CameraError, match=r"floor:7.*no such floor.*0 \(G\)"):
        renderer_of("office").render(snapshot(drill_of("office")), "floor:7", SIZE)


def test_following_an_absent_agent_is_refused(renderer_of) -> None:  # noqa: ANN001
    with pytest.raises(CameraError, match="agent 99999 is not in the building"):
        renderer_of("office").render(snapshot(drill_of("office")), "follow:99999", SIZE)


@pytest.mark.parametrize("size", [(0, 0), (20000, 20000), (640, -1)])
def test_image_size_out_of_range_is_refused(size, renderer_of) -> None:  # noqa: ANN001
    with pytest.raises(SizeError, match="out of range"):
        renderer_of("office").render(snapshot(drill_of("office")), "overview", size)


@pytest.mark.parametrize("text,message", [("0x0", "out of range"),
                                          ("20000x20000", "out of range"),
                                          ("1280", "not WIDTHxHEIGHT"),
                                          ("axb", "not WIDTHxHEIGHT")])
def test_size_text_is_checked(text: str, message: str) -> None:
    with pytest.raises(SizeError, match=message):
        parse_size(text)


@pytest.mark.parametrize("spec,message", [
    ("pose:1,2,3", "five numbers"), ("pose:1,2,3,0,120", "pitch"),
    ("pose:1,2,nan,0,0", "five numbers"), ("follow:x", "agent id"), ("orbit", "unknown"),
    ("floor:", "floor index"), ("overview:sideways", "overview takes")])
def test_malformed_camera_specs_are_refused(spec: str, message: str) -> None:
    with pytest.raises(CameraError, match=message):
        parse_camera(spec)


def test_camera_specs_parse_to_their_cameras() -> None:
    assert parse_camera("pose:1,2,1.6,90,-10") == Pose(1, 2, 1.6, 90, -10)
    assert parse_camera("follow:12") == Follow(12)
    assert parse_camera("floor:G:oblique").top is False
    assert parse_camera("floor:1").floor == "1"
    assert parse_camera("overview:top").top
