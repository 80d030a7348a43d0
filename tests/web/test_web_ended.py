"""The end of a drill in headless Chromium: when the instructor ends it the server sends
``ended`` and closes the connection; the page says so in words (why, at what simulated
time), links the evaluation report when the drill is recorded (and says why there is none
when not), and does not reconnect. A page opened on a drill that has ended says the same.
"""

from __future__ import annotations

import time
import urllib.error
import urllib.request

import pytest
from webutil import (
    CJK,
    HALL,
    TIMEOUT,
    LiveServer,
    close_page,
    open_page,
    screenshot,
    state,
    stats,
    wait_state,
)


def _end(live: LiveServer, *, run_for: float = 1.0) -> None:
    """Start the drill, let it run ``run_for`` simulated seconds, end it (a Python instructor)."""
    ins = live.client("instructor")
    try:
        assert live.request(ins, "start")["type"] == "ack"
        live.call(lambda: ins.until(lambda c: c.t >= run_for))
        assert live.request(ins, "end")["type"] == "ack"
    finally:
        live.call(ins.close)


def _websockets(page) -> list[str]:
    return page.websockets  # type: ignore[attr-defined]


def _open(chromium, url: str, **kw):
    sockets: list[str] = []
    console: list[str] = []
    page = open_page(chromium, url, console=console, **kw)
    # Sockets opened before this listener (the first) are counted by the page itself.
    page.on("websocket", lambda ws: sockets.append(ws.url))
    page.websockets, page.console_errors = sockets, console  # type: ignore[attr-defined]
    return page


def _text(page, sel: str) -> str:
    return page.locator(sel).inner_text().strip()


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    with LiveServer(HALL, record_dir=str(tmp_path_factory.mktemp("rec"))) as live:
        yield live


def test_when_the_instructor_ends_the_drill_the_page_says_so_links_the_report_and_stays_closed(
        chromium, recorded, tmp_path):
    live = recorded
    page = _open(chromium, live.link("participant", name="李四"))
    try:
        _end(live)
        s = wait_state(page, "s.ended !== null")
        ended = s["ended"]
        assert ended["reason"] == "instructor" and ended["t"] >= 1.0
        assert ended["report"] == f"{live.origin}/drills/{live.room.id}/report/"
        assert ended["recording"] and ended["recording"].endswith(".rec")
        assert s["status"] == "ended" and s["errorCode"] == "ended"
        card = page.locator("#ended")
        assert card.is_visible()
        assert _text(page, "#ended-title") == "演练已结束"
        text = _text(page, "#ended-text")
        assert "导调员已结束演练" in text and live.room.id in text and "仿真时间 00:0" in text, text
        link = page.locator("#ended-report-link")
        assert link.is_visible() and link.get_attribute("href") == ended["report"]
        assert _text(page, "#ended-report-link") == "打开评估报告"
        assert "正在生成" in _text(page, "#ended-report-note") or "已生成" in _text(
            page, "#ended-report-note")
        screenshot(page, tmp_path, "ended", doc=True)
        # The server closed the connection: the page stays closed, no reconnection.
        joins, opened = live.server.metrics.joins, stats(page)["sockets"]
        assert opened == 1
        time.sleep(3.0)
        assert live.server.metrics.joins == joins, "the page joined again"
        assert stats(page)["sockets"] == 1 and _websockets(page) == []
        s = state(page)
        assert not s["connected"] and s["ended"] is not None and card.is_visible()
        # Once the report is written the card says so, and the link serves it.
        wait_state(page, "s.reportUrl !== null", timeout=6 * TIMEOUT)
        page.wait_for_function(
            "() => document.querySelector('#ended-report-note').textContent.includes('已生成')",
            polling=100, timeout=TIMEOUT * 1000)
        with urllib.request.urlopen(ended["report"], timeout=TIMEOUT) as res:
            assert res.status == 200 and "text/html" in res.headers["Content-Type"]
        screenshot(page, tmp_path, "ended-report-ready")
        # The last picture of the drill stays behind the card.
        page.click("#ended-close")
        assert not card.is_visible() and page.locator("canvas.view-canvas").is_visible()
        assert page.console_errors == []  # type: ignore[attr-defined]
    finally:
        close_page(page)


def test_a_page_opened_on_an_ended_drill_says_it_has_ended_and_does_not_retry(
        chromium, recorded, tmp_path):
    live = recorded
    assert live.room.id in live.server.ended  # ended by the test above
    joins = live.server.metrics.joins
    page = _open(chromium, live.link("observer"), wait=False)
    try:
        s = wait_state(page, "s.ended !== null")
        assert s["ended"]["reason"] == "instructor" and not s["joined"]
        assert page.locator("#ended").is_visible() and not page.locator("#app").is_visible()
        assert not page.locator("#ended-close").is_visible()
        assert "导调员已结束演练" in _text(page, "#ended-text")
        assert page.locator("#ended-report-link").get_attribute("href") == s["ended"]["report"]
        screenshot(page, tmp_path, "ended-page")
        time.sleep(2.0)
        # One socket, opened before or after the listener was attached.
        assert stats(page)["sockets"] == 1 and len(_websockets(page)) <= 1
        assert live.server.metrics.joins == joins  # an ended drill's join is not counted
        # In English with the language switch.
        page.evaluate("() => window.evacdrill.setLang('en')")
        wait_state(page, "s.lang === 'en'")
        assert _text(page, "#ended-title") == "The drill has ended"
        text = _text(page, "#ended-text")
        assert text.startswith("The instructor ended drill") and "simulated time" in text
        assert not CJK.search(page.locator("#ended").inner_text())
    finally:
        close_page(page)


def test_a_drill_not_recorded_ends_without_a_report_link(chromium, tmp_path):
    with LiveServer(HALL) as live:
        page = _open(chromium, live.link("instructor", name="王导调"))
        try:
            _end(live)
            s = wait_state(page, "s.ended !== null")
            assert s["ended"]["report"] is None and s["ended"]["recording"] is None
            assert page.locator("#ended").is_visible()
            assert not page.locator("#ended-report-link").is_visible()
            assert _text(page, "#ended-report-note") == "本次演练没有录制，因此没有评估报告。"
            screenshot(page, tmp_path, "ended-unrecorded")
            joins = live.server.metrics.joins
            time.sleep(2.0)
            assert live.server.metrics.joins == joins and stats(page)["sockets"] == 1
            with pytest.raises(urllib.error.HTTPError):
                urllib.request.urlopen(f"{live.origin}/drills/{live.room.id}/report/",
                                       timeout=TIMEOUT)
        finally:
            close_page(page)
