"""Interest management in headless Chromium: the page receives the people of the floor
it shows (``subscribe {floors: [k]}``), of every floor when it shows them all (no
``floors``), and says how many people are on each floor (``floor_counts``), drawn or not.

The scenario: the built-in ``two_storey`` (floors G and 1F, 20 people on G with ids 60 to
79, 60 on 1F with ids 0 to 59, who come down a stair to G), so that people walking into
the ground floor's view have ids below those the page holds and are merged into its
order. The tests of this module run in order on one drill.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from webutil import (
    CJK,
    TIMEOUT,
    LiveServer,
    close_page,
    open_page,
    screenshot,
    state,
    stats,
    wait_state,
)

from net.state import ALL, CrowdSample


@pytest.fixture(scope="module")
def live():
    with LiveServer("two_storey", seed=3) as live:
        yield live


@pytest.fixture(scope="module")
def observer(chromium, live):
    """An observer's page (no avatar of its own: the view changes only when asked)."""
    console: list[str] = []
    page = open_page(chromium, live.link("observer", name="楼层观察"), console=console)
    page.console_errors = console  # type: ignore[attr-defined]
    page.evaluate("() => window.evacdrill.setCamera('plan')")
    yield page
    close_page(page)


def _session(live: LiveServer, name: str) -> Any:
    (s,) = [s for s in live.sessions() if s.seat is not None and s.seat.name == name]
    return s


def _until(what: Callable[[], Any], timeout: float = TIMEOUT) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        got = what()
        if got or time.monotonic() > deadline:
            return got
        time.sleep(0.05)


def _crowd(live: LiveServer) -> CrowdSample:
    def sample() -> CrowdSample:
        with live.room.state_lock:  # the drill ticks in a thread of its own
            return CrowdSample.of(live.room.drill)

    return live.do(sample)


def _ids_on(live: LiveServer, floor: int | None) -> list[int]:
    c = _crowd(live)
    return sorted(int(i) for i in (c.ids if floor is None else c.ids[c.floor == floor]))


def _badges(page) -> dict[str, str]:
    return page.evaluate("""() => Object.fromEntries([...document.querySelectorAll('.floor-n')]
        .map(e => [e.id, e.textContent]))""")


def test_the_page_starts_with_every_floor_and_counts_the_people_on_each(observer, live):
    s = wait_state(observer, "s.floorCounts !== null && s.agents === 80")
    assert s["allFloors"] is True and s["subscribed"] is None
    assert _session(live, "楼层观察").view == ALL
    assert s["floorCounts"] == [20, 60] and s["people"] == 80
    assert _badges(observer) == {"floor-n-all": "80", "floor-n-0": "20", "floor-n-1": "60"}
    assert observer.locator("#floor-all").get_attribute("class").split().count("active") == 1
    assert observer.locator("#hud-inside").inner_text() == "80"


def test_choosing_a_floor_subscribes_to_it_and_the_counts_stay_for_all(observer, live,
                                                                        tmp_path):
    observer.click(".floor-btn[data-floor='0']")
    s = wait_state(observer, "s.subscribed !== null && s.subscribed[0] === 0 && s.agents === 20")
    assert _until(lambda: _session(live, "楼层观察").view.floors == (0,))
    assert s["floor"] == 0 and s["allFloors"] is False
    page_ids = observer.evaluate("() => window.evacdrill.positions().ids")
    assert page_ids == _ids_on(live, 0)
    # The people not drawn are still counted: by floor on the buttons, all in the HUD.
    assert s["floorCounts"] == [20, 60] and s["people"] == 80
    assert _badges(observer) == {"floor-n-all": "80", "floor-n-0": "20", "floor-n-1": "60"}
    assert observer.locator("#hud-inside").inner_text() == "80"
    title = observer.locator(".floor-btn[data-floor='1']").get_attribute("title")
    assert title == "1F：楼内 60 人", title
    screenshot(observer, tmp_path, "floor-G")
    # The test hook does the same as the selector.
    observer.evaluate("() => window.evacdrill.setFloor(1)")
    s = wait_state(observer, "s.subscribed !== null && s.subscribed[0] === 1 && s.agents === 60")
    assert _until(lambda: _session(live, "楼层观察").view.floors == (1,))
    assert observer.evaluate("() => window.evacdrill.positions().ids") == _ids_on(live, 1)
    active = observer.evaluate("""() => [...document.querySelectorAll('.floor-btn.active')]
        .map(b => b.dataset.floor)""")
    assert active == ["1"]


def test_people_walking_into_the_floor_shown_are_merged_into_its_order(observer, live,
                                                                        tmp_path):
    observer.evaluate("() => window.evacdrill.setFloor(0)")
    wait_state(observer, "s.subscribed !== null && s.subscribed[0] === 0 && s.agents === 20")
    snaps = stats(observer)["snapshots"]
    ins = live.client("instructor")
    try:
        for kind, fields in (("speed", {"factor": 4.0}), ("start", {}),
                             ("order_evacuation", {"all": True})):
            assert live.request(ins, kind, **fields)["type"] == "ack"
        # Wait until people of 1F (ids 0 to 59, below the ground floor's 60 to 79) came
        # down into the ground floor's view.
        assert _until(lambda: any(i < 60 for i in _ids_on(live, 0)), 8 * TIMEOUT), \
            "nobody came down the stair"
        assert live.request(ins, "pause")["type"] == "ack"
    finally:
        live.call(ins.close)
    wait_state(observer, "s.status === 'paused'")
    want = _ids_on(live, 0)
    assert any(i < 60 for i in want)
    got = _until(lambda: (observer.evaluate("() => window.evacdrill.positions().ids") == want)
                 or None)
    assert got, (observer.evaluate("() => window.evacdrill.positions().ids"), want)
    # Merged as they came, never healed by a snapshot after an error.
    assert stats(observer)["snapshots"] == snaps
    s = state(observer)
    counts = _crowd(live).floor_counts(2)
    assert s["floorCounts"] == counts and s["agents"] == counts[0]
    assert s["people"] == sum(counts) and s["evacuated"] == 80 - sum(counts)
    assert _badges(observer)["floor-n-1"] == str(counts[1])
    screenshot(observer, tmp_path, "floor-G-merged")


def test_all_floors_again_subscribes_to_every_floor(observer, live, tmp_path):
    observer.click("#floor-all")
    s = wait_state(observer, "s.allFloors && s.subscribed === null && s.agents === s.people")
    assert _until(lambda: _session(live, "楼层观察").view == ALL)
    assert observer.evaluate("() => window.evacdrill.positions().ids") == _ids_on(live, None)
    assert s["people"] == sum(_crowd(live).floor_counts(2))
    screenshot(observer, tmp_path, "floors-all")


def test_the_floor_selector_is_translated(observer):
    try:
        observer.evaluate("() => window.evacdrill.setLang('en')")
        wait_state(observer, "s.lang === 'en'")
        assert observer.locator("#floor-all [data-i18n]").inner_text() == "All"
        title = observer.locator(".floor-btn[data-floor='0']").get_attribute("title")
        assert title.startswith("G: ") and title.endswith("people inside") and not CJK.search(title)
    finally:
        observer.evaluate("() => window.evacdrill.setLang('zh')")
    assert observer.console_errors == []


def test_a_resumed_page_subscribes_again_to_the_floor_it_shows(chromium, live):
    page = open_page(chromium, live.link("observer", name="重连楼层"))
    try:
        page.evaluate("() => window.evacdrill.setFloor(1)")
        wait_state(page, "s.subscribed !== null && s.subscribed[0] === 1")
        first = _session(live, "重连楼层")
        live.do(lambda: first.close(1011, "test: dropped by the server"))
        wait_state(page, "!s.connected || !s.joined")
        wait_state(page, "s.connected && s.joined && s.subscribed !== null", timeout=3 * TIMEOUT)
        again = _until(lambda: [s for s in live.sessions() if s.seat is not None
                                and s.seat.name == "重连楼层" and s is not first
                                and s.view.floors == (1,)])
        assert again and again[0].seat.pid == first.seat.pid
        counts = _crowd(live).floor_counts(2)
        wait_state(page, f"s.agents === {counts[1]}")
        assert np.array_equal(page.evaluate("() => window.evacdrill.positions().ids"),
                              _ids_on(live, 1))
    finally:
        close_page(page)


def test_a_participants_page_shows_and_receives_the_floor_of_its_avatar(chromium, live):
    page = open_page(chromium, live.link("participant", name="楼上的人"))
    try:
        s = wait_state(page, "s.myAgent !== null && s.myPos !== null && s.subscribed !== null")
        seat = _session(live, "楼上的人").seat
        floor = _until(lambda: live.do(lambda: live.room.avatars.get(seat.pid, {}).get("floor")),
                       ) if seat.agent is not None else None
        assert floor is not None
        assert s["subscribed"] == [floor] and s["floor"] == floor and s["allFloors"] is False
        assert _until(lambda: _session(live, "楼上的人").view.floors == (floor,))
        ids = page.evaluate("() => window.evacdrill.positions().ids")
        assert seat.agent in ids and ids == _ids_on(live, floor)
        # Looking at the other floor, the page no longer holds its own avatar, and says it
        # is inside all the same (on the floor not shown).
        other = 1 - floor
        page.evaluate(f"() => window.evacdrill.setFloor({other})")
        s = wait_state(page, f"s.subscribed !== null && s.subscribed[0] === {other}"
                       f" && !window.evacdrill.positions().ids.includes({seat.agent})")
        assert page.evaluate("() => window.evacdrill.positions().ids") == _ids_on(live, other)
        assert s["inside"] is True
        you = page.locator("#hud-you").inner_text()
        fid = ["G", "1F"][floor]
        assert you == f"在楼内（{fid}）", you
    finally:
        close_page(page)
