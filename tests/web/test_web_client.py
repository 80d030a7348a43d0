"""The browser client in headless Chromium against a real drill server on loopback.

Written against the page's test hooks (``window.evacdrill``, docs/protocol.md and the
web client's README): joining from a link, drawing the crowd, hazards injected by a
Python instructor, errors shown in words, the page's requests, its translations, and
rejoining after the connection drops.
"""

from __future__ import annotations

import re
import time

import pytest
from webutil import (
    CJK,
    FACTOR,
    HALL,
    TIMEOUT,
    LiveServer,
    canvas_pixels,
    close_page,
    is_drawn,
    open_page,
    screenshot,
    state,
    stats,
    wait_state,
)

LATIN = re.compile(r"[A-Za-z]")


@pytest.fixture(scope="module")
def live():
    with LiveServer(HALL) as live:
        yield live


@pytest.fixture(scope="module")
def participant(chromium, live):
    """One participant's page, open for the tests of this module that only look."""
    requests: list[str] = []
    console: list[str] = []
    page = open_page(chromium, live.link("participant", name="张三"), requests=requests,
                     console=console)
    page.requests, page.console_errors = requests, console  # type: ignore[attr-defined]
    yield page
    close_page(page)


def _i18n_texts(page) -> list[tuple[str, str]]:
    """(key, visible text) of every element with ``data-i18n``, but the language switch
    (each language's button names it in itself: 中文, English)."""
    texts = page.evaluate("""() => [...document.querySelectorAll('[data-i18n]')]
        .map(e => [e.dataset.i18n, (e.innerText || e.textContent || '').trim()])""")
    return [(k, t) for k, t in texts if not k.startswith("lang.")]


def test_a_participant_page_joins_and_draws_the_crowd(participant, live, tmp_path):
    s = wait_state(participant, f"s.joined && s.agents === {live.room.drill.remaining}")
    assert s["connected"] and s["role"] == "participant" and s["drill"] == live.room.id
    assert s["total"] == live.room.drill.total and s["error"] is None
    assert s["status"] == "ready" and s["lang"] == "zh"
    py = live.client("observer")
    try:
        assert s["agents"] == len(py.agents.ids)  # what a Python client holds
    finally:
        live.call(py.close)
    frames = s["frames"]
    wait_state(participant, f"s.frames > {frames}")  # it keeps drawing
    pixels = canvas_pixels(participant, tmp_path, "participant-canvas")
    assert is_drawn(pixels), "the canvas is blank"
    screenshot(participant, tmp_path, "participant", doc=True)


def test_the_page_asks_nothing_of_another_origin(participant, live):
    origin = live.origin
    ws = origin.replace("http://", "ws://", 1)
    assert participant.requests, "no request recorded"
    foreign = [u for u in participant.requests
               if not (u.startswith(origin + "/") or u.startswith(ws + "/") or u == ws)
               and not u.startswith(("data:", "blob:"))]
    assert foreign == []
    assert any(u.startswith(ws) for u in participant.requests), "no WebSocket opened"


def test_the_page_loads_without_errors(participant):
    assert participant.console_errors == []


def test_an_injected_fire_shows_on_the_page_within_a_second(participant, live, tmp_path):
    ins = live.client("instructor")
    try:
        reply = live.request(ins, "inject", event={"kind": "fire", "id": "F-web", "floor": 0,
                                                   "x": 10.0, "y": 8.0, "radius": 1.5})
        acked = time.monotonic()
        assert reply["type"] == "ack", reply
        wait_state(participant, "s.hazards.includes('F-web')")
        took = time.monotonic() - acked
        assert took < 1.0 * FACTOR, f"the fire showed {took:.2f} s after the ack"
        screenshot(participant, tmp_path, "fire", doc=True)
        live.request(ins, "inject", event={"kind": "clear", "id": "F-web"})
        wait_state(participant, "!s.hazards.includes('F-web')")
    finally:
        live.call(ins.close)


def test_the_chinese_interface_has_no_untranslated_label(participant):
    assert state(participant)["lang"] == "zh"
    texts = _i18n_texts(participant)
    assert len(texts) >= 5, "hardly any labelled element"
    untranslated = [(k, t) for k, t in texts
                    if t and not CJK.search(t) and not re.fullmatch(r"[\d\s.:%/+\-–—()]*", t)]
    assert untranslated == []


def test_the_zh_and_en_tables_have_the_same_keys(participant):
    keys = participant.evaluate("""async () => {
        const m = await import('/web/i18n.js');
        const t = m.tables || m.TABLES || m.strings || m.default || m;
        const zh = t.zh || m.zh, en = t.en || m.en;
        return [Object.keys(zh).sort(), Object.keys(en).sort()]; }""")
    zh, en = keys
    assert zh and set(zh) == set(en), (sorted(set(zh) ^ set(en)))
    used = {k for k, _ in _i18n_texts(participant)}
    assert used <= set(zh), sorted(used - set(zh))


def test_the_english_switch_relabels_everything(participant, tmp_path):
    try:
        participant.evaluate("() => window.evacdrill.setLang('en')")
        wait_state(participant, "s.lang === 'en'")
        texts = _i18n_texts(participant)
        chinese = [(k, t) for k, t in texts if CJK.search(t)]
        assert chinese == []
        assert sum(bool(LATIN.search(t)) for _, t in texts) >= 5
        screenshot(participant, tmp_path, "participant-en", doc=True)
    finally:
        participant.evaluate("() => window.evacdrill.setLang('zh')")
    wait_state(participant, "s.lang === 'zh'")


def test_a_link_with_lang_en_opens_in_english(chromium, live):
    page = open_page(chromium, live.link("observer", lang="en"))
    try:
        assert state(page)["lang"] == "en" and state(page)["role"] == "observer"
        assert not [t for _, t in _i18n_texts(page) if CJK.search(t)]
    finally:
        close_page(page)


def test_a_wrong_token_shows_the_error_in_words(chromium, live, tmp_path):
    page = open_page(chromium, f"{live.origin}/drills/{live.room.id}/?token=wrong",
                     wait=False)
    try:
        s = wait_state(page, "s.error !== null")
        assert s["errorCode"] == "auth" and not s["joined"]
        text = page.locator("body").inner_text()
        assert s["error"] and s["error"] in text
        assert CJK.search(s["error"]), "the error is not said in Chinese"
        screenshot(page, tmp_path, "wrong-token", doc=True)
    finally:
        close_page(page)


@pytest.mark.parametrize("path, says", [
    ("/drills/../", "加入演练"),  # the browser makes it "/": the join form
    ("/web/../drills/", "页面不存在"),  # "/drills/": the server's 404 page
    ("/drills/00000000/?token=x", "00000000"),  # the page asks info.json: no such drill
    ("/drills/00000000", "00000000"),
    ("/drills/%2e%2e/?token=x", "加入演练"),
    ("/nothing/here", "页面不存在")])
def test_a_malformed_link_gets_a_readable_page(chromium, live, path, says):
    ctx = chromium.new_context()
    page = ctx.new_page()
    try:
        page.goto(live.origin + path, timeout=TIMEOUT * 1000)
        page.wait_for_function(
            "(says) => document.body && document.body.innerText.includes(says)", arg=says,
            polling=50, timeout=TIMEOUT * 1000)
        text = page.locator("body").inner_text()
        assert CJK.search(text) and LATIN.search(text), text
        if says == "00000000":
            assert state(page)["errorCode"] == "nodrill"
    finally:
        ctx.close()


def test_the_page_rejoins_with_its_resume_token_when_the_server_drops_it(chromium, live):
    page = open_page(chromium, live.link("participant", name="重连"))
    try:
        def mine():
            return [s for s in live.sessions() if s.seat is not None and s.seat.name == "重连"]

        (first,) = mine()
        seats = set(live.room.seats)
        pid = first.seat.pid
        before = state(page)
        live.do(lambda: first.close(1011, "test: dropped by the server"))
        wait_state(page, "!s.connected || !s.joined")
        s = wait_state(page, "s.connected && s.joined", timeout=3 * TIMEOUT)
        (again,) = mine()
        assert again is not first and again.seat.pid == pid
        assert set(live.room.seats) == seats, "a new seat: the page joined again by token"
        assert s["myAgent"] == before["myAgent"] and s["role"] == "participant"
        frames = s["frames"]
        wait_state(page, f"s.frames > {frames} && s.agents === {live.room.drill.remaining}")
    finally:
        close_page(page)


def test_each_rejoin_uses_the_resume_token_of_the_latest_welcome(chromium, live):
    """Resume tokens serve once: the second drop must resume with the token the first
    resumed welcome carried, not the first one (which the server now refuses)."""
    page = open_page(chromium, live.link("participant", name="两次重连"))
    try:
        def mine():
            return [s for s in live.sessions() if s.seat is not None and s.seat.name == "两次重连"]

        (first,) = mine()
        seats, pid = set(live.room.seats), first.seat.pid
        tokens = [first.seat.resume]
        auth = live.do(lambda: live.server.metrics.refusals["auth"])
        for _ in range(2):
            (now,) = mine()
            frames = state(page)["frames"]
            live.do(lambda now=now: now.close(1011, "test: dropped by the server"))
            wait_state(page, "!s.connected || !s.joined")
            wait_state(page, f"s.connected && s.joined && s.frames > {frames}", timeout=3 * TIMEOUT)
            (again,) = mine()
            assert again is not now and again.seat.pid == pid
            tokens.append(again.seat.resume)
        assert len(set(tokens)) == 3, "the resume token did not change with each welcome"
        assert set(live.room.seats) == seats, "a new seat: the page joined again by token"
        assert live.do(lambda: live.server.metrics.refusals["auth"]) == auth, "a token refused"
    finally:
        close_page(page)


def test_instructor_and_observer_pages(chromium, live, tmp_path):
    for role in ("instructor", "observer"):
        page = open_page(chromium, live.link(role))
        try:
            s = state(page)
            assert s["role"] == role and s["myAgent"] is None and s["myPos"] is None
            assert stats(page)["bytesIn"] > 0 and stats(page)["messagesIn"] > 0
            assert is_drawn(canvas_pixels(page, tmp_path, f"{role}-canvas"))
            screenshot(page, tmp_path, role, doc=True)
        finally:
            close_page(page)


def test_the_instructor_page_controls_the_drill(chromium, live):
    page = open_page(chromium, live.link("instructor"))
    try:
        reply = page.evaluate("() => window.evacdrill.send('start', {})")
        assert reply["type"] in ("ack", "error"), reply
        if reply["type"] == "error":  # started by an earlier test
            assert reply["code"] == "state"
        wait_state(page, "s.status === 'running'")
        assert live.room.status == "running"
        reply = page.evaluate("() => window.evacdrill.send('pause', {})")
        assert reply["type"] == "ack"
        wait_state(page, "s.status === 'paused'")
    finally:
        close_page(page)
