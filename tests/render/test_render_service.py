"""The render service: encoded frames from any thread, rendered in its own thread."""

from __future__ import annotations

import threading

import pytest
from pictures import drill_of

from render.errors import CameraError, DisplayError, RenderError
from render.headless import open_display
from render.renderer import Renderer
from render.service import RenderService
from render.state import snapshot


@pytest.fixture(scope="module")
def service():  # noqa: ANN201
    with RenderService(drill_of("office").scene) as svc:
        yield svc


def test_frames_come_back_as_jpeg_and_png_bytes(service: RenderService) -> None:
    drill = drill_of("office")
    jpeg = service.frame(drill, "overview", (320, 200), "jpeg")
    png = service.frame(snapshot(drill), "floor:0", (320, 200), "png")
    assert jpeg[:3] == b"\xff\xd8\xff" and len(jpeg) > 2000
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 1000
    assert service.info()["module"] in ("p3headlessgl", "p3tinydisplay")


def test_frames_requested_from_many_threads_are_all_served(service: RenderService) -> None:
    state = snapshot(drill_of("office"))
    out: dict[int, bytes] = {}

    def ask(i: int) -> None:
        out[i] = service.frame(state, "overview" if i % 2 else "floor:0", (160, 100), "png")

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(out) == list(range(6))
    assert all(b[:4] == b"\x89PNG" for b in out.values())
    assert out[0] == out[2]  # same state, same camera: the same picture


def test_bad_requests_raise_in_the_callers_thread(service: RenderService) -> None:
    state = snapshot(drill_of("office"))
    with pytest.raises(RenderError, match="'gif' is not one of png, jpeg"):
        service.frame(state, "overview", (160, 100), "gif")
    with pytest.raises(CameraError, match="no such floor"):
        service.frame(state, "floor:3", (160, 100))
    assert service.frame(state, "overview", (160, 100))[:2] == b"\xff\xd8"  # still serving


def test_software_pipe_is_the_fallback_when_egl_is_unavailable() -> None:
    display = open_display(("p3nosuchdisplay", "p3tinydisplay"))
    assert display.module == "p3tinydisplay"
    drill = drill_of("office")
    img = Renderer(drill.scene, display=display).render(snapshot(drill), "overview", (320, 200))
    assert len({tuple(p) for p in img.reshape(-1, 3)[::7]}) > 20


def test_no_usable_pipe_is_a_display_error() -> None:
    with pytest.raises(DisplayError, match="p3nosuchdisplay"):
        open_display(("p3nosuchdisplay",))
