"""The instructor's console in headless Chromium against a real drill server on loopback:
start, speed, an inject placed by clicking the map and seen by a participant within a
second, refusals said next to the control that caused them, the scripted timeline (fire
now, skip), the live log, a new drill, and ending the drill with a confirmation and the
link to its evaluation report.

The scenario (``console_room.toml``): the network tests' hall, 20 m x 10 m, with a
scripted smoke at 300 s and a blocked exit at 420 s, so that the tests act before their
time. The tests of this module run in order on one drill.
"""

from __future__ import annotations

import re
import time
import urllib.request

import pytest
from webutil import (
    CJK,
    FACTOR,
    HERE,
    TIMEOUT,
    LiveServer,
    close_page,
    open_page,
    screenshot,
    state,
    wait_state,
)

ROOM = HERE / "console_room.toml"
LATIN = re.compile(r"[A-Za-z]")


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    with LiveServer(ROOM, record_dir=str(tmp_path_factory.mktemp("rec"))) as live:
        yield live


@pytest.fixture(scope="module")
def instructor(chromium, live):
    """The instructor's page, in the floor plan (the building fills the view)."""
    page = open_page(chromium, live.link("instructor", name="王导调"))
    page.evaluate("() => window.evacdrill.setCamera('plan')")
    wait_state(page, "s.camera === 'plan'")
    yield page
    close_page(page)


@pytest.fixture(scope="module")
def participant(chromium, live):
    page = open_page(chromium, live.link("participant", name="张三"))
    yield page
    close_page(page)


def _canvas_point(page, fx: float, fy: float) -> tuple[float, float]:
    """The page point at fractions (fx, fy) of the 3D view's canvas."""
    box = page.locator("canvas.view-canvas").bounding_box()
    return box["x"] + fx * box["width"], box["y"] + fy * box["height"]


def _place(page, kind: str, fx: float, fy: float, *, radius: str | None = None,
           note: str = "") -> float:
    """Pick ``kind`` in the palette, set its parameters, click the map; the click's time."""
    page.click(f".kind-btn[data-kind='{kind}']")
    if radius is not None:
        page.fill("#inject-radius", radius)
    page.fill("#inject-note", note)
    page.click("#inject-go")
    x, y = _canvas_point(page, fx, fy)
    clicked = time.monotonic()
    page.mouse.click(x, y)
    return clicked


def _msg(page, selector: str) -> dict:
    return page.evaluate("""(sel) => { const e = document.querySelector(sel);
        return {text: e.textContent, cls: e.className, key: e.dataset.i18n || null}; }""",
                         selector)


def _i18n_texts(page) -> list[tuple[str, str]]:
    texts = page.evaluate("""() => [...document.querySelectorAll('[data-i18n]')]
        .map(e => [e.dataset.i18n, (e.innerText || e.textContent || '').trim()])""")
    return [(k, t) for k, t in texts if not k.startswith("lang.")]


def test_the_console_starts_the_drill(instructor, participant, live):
    assert state(instructor)["role"] == "instructor"
    assert instructor.locator("#ctl-pause").is_disabled()
    instructor.click("#ctl-start")
    wait_state(instructor, "s.status === 'running'")
    wait_state(participant, "s.status === 'running'")
    assert live.room.status == "running"
    assert instructor.locator("#ctl-start").is_disabled()
    assert instructor.locator("#ctl-pause").is_enabled()


def test_a_fire_placed_on_the_map_shows_on_a_participant_page_within_a_second(
        instructor, participant, live, tmp_path):
    before = set(state(participant)["hazards"])
    # The plan view is centred on the floor: the canvas's middle is the hall's (10, 5).
    clicked = _place(instructor, "fire", 0.5, 0.5, radius="1.5", note="配电间起火")
    s = wait_state(participant, f"s.hazards.length > {len(before)}", timeout=2 * FACTOR)
    took = time.monotonic() - clicked
    assert took < 1.0 * FACTOR, f"the fire showed {took:.2f} s after the click"
    (new,) = set(s["hazards"]) - before
    (fire,) = [h for h in live.room.drill.hazards if h.id == new]
    assert fire.kind == "fire" and fire.floor == 0 and fire.radius == pytest.approx(1.5)
    assert abs(fire.x - 10.0) < 1.0 and abs(fire.y - 5.0) < 1.0, (fire.x, fire.y)
    wait_state(instructor, f"s.hazards.includes('{new}')")
    msg = _msg(instructor, "#inject-msg")
    assert msg["key"] == "inject.done.at" and "ctl-msg-ok" in msg["cls"], msg
    entry = [e for e in live.room.journal if e.get("type") == "inject"][-1]
    assert entry["event"]["note"] == "配电间起火" and entry["name"] == "王导调"
    screenshot(instructor, tmp_path, "console")


def test_a_fire_outside_the_building_is_refused_next_to_the_palette(instructor, live):
    n = len(live.room.drill.hazards)
    _place(instructor, "fire", 0.5, 0.03, radius="1")  # north of the hall, beyond its wall
    instructor.wait_for_function(
        "() => document.querySelector('#inject-msg').classList.contains('ctl-msg-error')",
        polling=50, timeout=TIMEOUT * 1000)
    msg = _msg(instructor, "#inject-msg")
    assert msg["key"] == "err.r.outside_floor", msg
    assert CJK.search(msg["text"]) and "lies outside" not in msg["text"], msg  # said in Chinese
    assert len(live.room.drill.hazards) == n
    assert state(instructor)["error"] == msg["text"]


def test_a_speed_out_of_range_is_refused_next_to_the_speed_control(instructor, live):
    instructor.fill("#speed-input", "1000")
    instructor.click("#speed-set")
    instructor.wait_for_function(
        "() => document.querySelector('#control-msg').classList.contains('ctl-msg-error')",
        polling=50, timeout=TIMEOUT * 1000)
    msg = _msg(instructor, "#control-msg")
    assert msg["key"] == "err.speed.range" and "0.1" in msg["text"] and "10" in msg["text"]
    assert live.room.speed == 1.0
    instructor.fill("#speed-input", "2")
    instructor.press("#speed-input", "Enter")
    wait_state(instructor, "document.querySelector('#hud-speed').textContent === '2×'")
    assert live.room.speed == 2.0
    assert _msg(instructor, "#control-msg")["key"] == "ctl.speed.done"
    instructor.fill("#speed-input", "1")
    instructor.click("#speed-set")
    wait_state(instructor, "document.querySelector('#hud-speed').textContent === '1×'")


def test_the_timeline_fires_an_inject_early_and_skips_one(instructor, participant, live):
    s = state(instructor)
    assert [e["state"] for e in s["script"]] == ["pending", "pending"]
    assert s["t"] < 300
    before = set(state(participant)["hazards"])
    instructor.click("#script li[data-index='0'] .script-fire")
    wait_state(instructor, "s.script[0].state === 'fired'")
    wait_state(participant, f"s.hazards.length > {len(before)}")
    smoke = [h for h in live.room.drill.hazards if h.kind == "smoke"]
    assert len(smoke) == 1 and (smoke[0].x, smoke[0].y) == (6.0, 5.0)
    assert live.room.drill.time < 300
    # The participants of this (not blind) drill follow the timeline too.
    wait_state(participant, "s.script.length === 2 && s.script[0].state === 'fired'")
    assert instructor.locator("#script li[data-index='0'] .script-fire").count() == 0
    instructor.click("#script li[data-index='1'] .script-skip")
    wait_state(instructor, "s.script[1].state === 'skipped'")
    assert live.room.drill.exit_open[1], "the skipped block_exit closed East"
    assert _msg(instructor, "#script-msg")["key"] == "script.skipped"
    # Firing it now is refused, with the reason in words.
    reply = instructor.evaluate("() => window.evacdrill.send('script_fire', {index: 1})")
    assert reply["type"] == "error" and reply["code"] == "state"
    err = state(instructor)["error"]
    assert err and CJK.search(err) and "2" in err


def test_the_live_log_shows_participants_actions_and_reports(instructor, participant):
    participant.fill("#report-text", "二号楼梯口有人摔倒")
    participant.click("#report-send")
    instructor.wait_for_function(
        "() => document.querySelector('#reports').textContent.includes('二号楼梯口有人摔倒')",
        polling=50, timeout=TIMEOUT * 1000)
    participant.select_option("#order-target", "all:")
    participant.click("#order-send")
    instructor.wait_for_function(
        "() => document.querySelector('#log').textContent.includes('张三: 疏散指令')",
        polling=50, timeout=TIMEOUT * 1000)
    log = instructor.locator("#log").inner_text()
    assert "王导调: 注入 火灾" in log and "提前发出预设事件" in log


def test_the_console_is_translated(instructor, tmp_path):
    texts = _i18n_texts(instructor)
    assert len(texts) >= 30
    untranslated = [(k, t) for k, t in texts
                    if t and not CJK.search(t) and not re.fullmatch(r"[\d\s.:%/+\-–—()×]*", t)]
    assert untranslated == []
    try:
        instructor.evaluate("() => window.evacdrill.setLang('en')")
        wait_state(instructor, "s.lang === 'en'")
        texts = _i18n_texts(instructor)
        chinese = [(k, t) for k, t in texts if CJK.search(t)]
        assert chinese == []
        assert instructor.locator("#ctl-end").inner_text() == "End drill"
        screenshot(instructor, tmp_path, "console-en", doc=True)
    finally:
        instructor.evaluate("() => window.evacdrill.setLang('zh')")
    wait_state(instructor, "s.lang === 'zh'")


def test_the_console_creates_a_new_drill(instructor, live):
    instructor.click("#panel-create > summary")
    instructor.fill("#create-scenario", "no-such-scenario")
    instructor.click("#create-go")
    instructor.wait_for_function(
        "() => document.querySelector('#create-msg').classList.contains('ctl-msg-error')",
        polling=50, timeout=TIMEOUT * 1000)
    instructor.fill("#create-scenario", "corridor")
    instructor.click("#create-go")
    instructor.wait_for_selector("#create-links a.link-observer", timeout=TIMEOUT * 1000)
    href = instructor.get_attribute("#create-links a.link-observer", "href")
    drill = re.search(r"/drills/([^/]+)/\?token=", href).group(1)
    assert drill in live.server.hosted and drill != live.room.id
    # The drill list shows both drills with a link per role.
    instructor.click("#drills-refresh")
    instructor.wait_for_selector("#drill-list li.drill-item >> nth=1", timeout=TIMEOUT * 1000)
    hrefs = [a.get_attribute("href") for a in instructor.query_selector_all(
        "#drill-list a.link-participant")]
    assert {re.search(r"/drills/([^/]+)/", h).group(1) for h in hrefs} == {live.room.id, drill}


def test_ending_asks_first_then_links_the_report(instructor, participant, live, tmp_path):
    instructor.click("#ctl-end")
    assert instructor.locator("#end-confirm").is_visible()
    instructor.click("#end-no")
    assert not instructor.locator("#end-confirm").is_visible()
    assert live.room.status == "running"
    instructor.click("#ctl-end")
    instructor.click("#end-yes")
    wait_state(instructor, "s.status === 'ended'")
    wait_state(participant, "s.status === 'ended'")
    assert live.room.status == "ended"
    s = wait_state(instructor, "s.reportUrl !== null", timeout=6 * TIMEOUT)
    assert s["reportUrl"].startswith(live.origin) and s["reportUrl"].endswith("/report/")
    assert instructor.locator("#report-link").is_visible()
    with urllib.request.urlopen(s["reportUrl"], timeout=TIMEOUT) as res:
        assert res.status == 200 and "text/html" in res.headers["Content-Type"]
    screenshot(instructor, tmp_path, "console-ended")
