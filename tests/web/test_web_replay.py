"""A recorded drill watched again in the browser: the replay bar's time slider seeks (the
page then holds exactly the recorded positions of that moment), play / pause and the
speed work for instructors, and everyone else sees the bar read-only.

The recording is made for real (``drill run``'s code on the recording tests' hall, 60
people, with pre-movement times spread over 25 s so that the crowd moves for about 30 s)
and served by a :class:`net.replay.ReplayRoom` on the live server, as ``drill replay
--serve`` does.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest
from webutil import (
    ROOT,
    TIMEOUT,
    LiveServer,
    close_page,
    open_page,
    screenshot,
    state,
    wait_state,
)

sys.path.insert(0, str(ROOT / "tests" / "record"))
from rec_util import hall_doc, recorded_run  # noqa: E402

from net.replay import ReplayRoom  # noqa: E402
from sim.recording import Player, Recording  # noqa: E402


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    doc = hall_doc()
    for g in doc["groups"]:
        g["premovement"] = {"min": 1.0, "max": 25.0}
    return recorded_run(tmp_path_factory.mktemp("rec"), doc, name="hall")


@pytest.fixture(scope="module")
def live(recording):
    with LiveServer() as live:
        rec = Recording(recording)
        live.replay = live.do(lambda: live.server.host(ReplayRoom(rec)))
        yield live
        rec.close()


@pytest.fixture(scope="module")
def instructor(chromium, live):
    page = open_page(chromium, live.link("instructor", room=live.replay))
    page.evaluate("() => window.evacdrill.setCamera('plan')")
    yield page
    close_page(page)


@pytest.fixture(scope="module")
def observer(chromium, live):
    page = open_page(chromium, live.link("observer", room=live.replay))
    yield page
    close_page(page)


def _frame(path, t: float):
    """The recorded frame shown at ``t`` (the last at or before it)."""
    with Recording(path) as rec:
        player = Player(rec)
        player.seek(t)
        return player.frame


def _slider_x(page, t: float) -> tuple[float, float]:
    """The page point of the slider's track at time ``t``."""
    box = page.locator("#replay-slider").bounding_box()
    lo, hi = (float(v) for v in page.evaluate(
        "() => { const s = document.querySelector('#replay-slider'); return [s.min, s.max]; }"))
    thumb = 16  # the thumb's width: its centre travels from thumb/2 to width - thumb/2
    x = box["x"] + thumb / 2 + (t - lo) / (hi - lo) * (box["width"] - thumb)
    return x, box["y"] + box["height"] / 2


def _matches(page, frame) -> None:
    got = page.evaluate("() => window.evacdrill.positions()")
    assert got["t"] == pytest.approx(frame.t, abs=1e-6)
    assert got["ids"] == frame.ids.tolist()
    assert np.array_equal(np.asarray(got["pos"]).reshape(-1, 3), frame.q)


def test_the_replay_page_has_the_recordings_time_range(instructor, recording):
    s = wait_state(instructor, "s.replay !== null")
    t0, t1 = Recording(recording).time_range()
    assert s["replay"] == {"start": pytest.approx(t0), "end": pytest.approx(t1)}
    lo, hi = instructor.evaluate(
        "() => { const s = document.querySelector('#replay-slider'); return [+s.min, +s.max]; }")
    assert (lo, hi) == (pytest.approx(t0), pytest.approx(t1))
    assert instructor.locator("#replay-slider").is_enabled()


def test_pause_then_the_slider_seeks_to_the_recorded_positions(instructor, observer, live,
                                                               recording, tmp_path):
    wait_state(instructor, "s.status === 'running'")
    instructor.click("#replay-play")
    wait_state(instructor, "s.status === 'paused'")
    assert live.replay.status == "paused"
    # Drag the slider's thumb to about 12 s and let go there: the page seeks.
    x0, y = _slider_x(instructor, state(instructor)["t"])
    x1, _ = _slider_x(instructor, 12.0)
    snaps = instructor.evaluate("() => window.evacdrill.stats().snapshots")
    instructor.mouse.move(x0, y)
    instructor.mouse.down()
    instructor.mouse.move(x1, y, steps=8)
    instructor.mouse.up()
    target = float(instructor.eval_on_selector("#replay-slider", "s => s.value"))
    assert abs(target - 12.0) < 1.5, target
    instructor.wait_for_function(f"() => window.evacdrill.stats().snapshots > {snaps}",
                                 polling=50, timeout=TIMEOUT * 1000)
    frame = _frame(recording, target)
    assert len(frame.ids) > 10 and frame.t <= target
    s = wait_state(instructor, f"Math.abs(s.t - {frame.t}) < 1e-6")
    assert s["status"] == "paused" and s["agents"] == len(frame.ids)
    _matches(instructor, frame)
    # Everyone watching jumps with it.
    wait_state(observer, f"Math.abs(s.t - {frame.t}) < 1e-6")
    _matches(observer, frame)
    screenshot(instructor, tmp_path, "replay")


def test_a_second_seek_goes_back_in_time(instructor, recording):
    x, y = _slider_x(instructor, 4.0)
    instructor.mouse.click(x, y)
    target = float(instructor.eval_on_selector("#replay-slider", "s => s.value"))
    assert target < 8.0
    frame = _frame(recording, target)
    wait_state(instructor, f"Math.abs(s.t - {frame.t}) < 1e-6")
    _matches(instructor, frame)


def test_the_speed_and_play_controls(instructor, live):
    instructor.select_option("#replay-speed", "4")
    wait_state(instructor, "document.querySelector('#hud-speed').textContent === '4×'")
    assert live.replay.speed == 4.0
    t = state(instructor)["t"]
    instructor.click("#replay-play")
    wait_state(instructor, f"s.status === 'running' && s.t > {t + 2}")
    slider = float(instructor.eval_on_selector("#replay-slider", "s => s.value"))
    assert slider > t + 1, "the slider does not follow the replay"


def test_the_replay_draws_the_recorded_curve_and_exits(instructor, recording):
    s = wait_state(instructor, "s.evacuated > 5")
    assert sum(s["exitCounts"]) == pytest.approx(s["evacuated"], abs=2)
    curve = instructor.evaluate("() => window.evacdrill.state().curveLen")
    assert curve >= int(s["t"])


def test_others_see_the_bar_read_only(observer, live):
    assert observer.locator("#replaybar").is_visible()
    for control in ("#replay-slider", "#replay-play", "#replay-speed"):
        assert observer.locator(control).is_disabled(), control
    assert "导调员" in observer.locator(".replay-ro").inner_text()
    try:
        observer.evaluate("() => window.evacdrill.setLang('en')")
        wait_state(observer, "s.lang === 'en'")
        bar = observer.locator("#replaybar").inner_text()
        assert "Only instructors control the replay" in bar and "Replay" in bar
    finally:
        observer.evaluate("() => window.evacdrill.setLang('zh')")
    reply = observer.evaluate("() => window.evacdrill.send('seek', {t: 1})")
    assert reply["type"] == "error" and reply["code"] == "forbidden"
