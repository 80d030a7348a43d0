"""The evaluator's (observer's) view in headless Chromium against a real drill: the
evacuation curve grows, people out per exit add up, the plan's steps turn met and
missed, a late joiner draws the curve from the start, and the page shows no control.

The scenario (``plan_room.toml``): 12 people in a 16 m x 8 m hall who start within 6 s,
with a plan of three steps (first out within 60 s, everyone out within 120 s, an
evacuation order within 4 s that nobody gives).
"""

from __future__ import annotations

import time

import pytest
from webutil import (
    CJK,
    HERE,
    TIMEOUT,
    LiveServer,
    close_page,
    open_page,
    screenshot,
    state,
    wait_state,
)

ROOM = HERE / "plan_room.toml"


@pytest.fixture(scope="module")
def live():
    with LiveServer(ROOM) as live:
        yield live


@pytest.fixture(scope="module")
def observer(chromium, live):
    """An observer's page, then the drill started (by a Python instructor) at 2x."""
    page = open_page(chromium, live.link("observer", name="评估专家"))
    ins = live.client("instructor")
    try:
        assert live.request(ins, "speed", factor=2.0)["type"] == "ack"
        assert live.request(ins, "start")["type"] == "ack"
        wait_state(page, "s.status === 'running'")
        yield page
    finally:
        live.call(ins.close)
        close_page(page)


def _line_pixels(page) -> int:
    """Pixels of the curve's colour (#1769d1) on the chart's canvas."""
    return page.evaluate("""() => {
        const c = document.querySelector('#curve');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0;
        const near = (v, w) => Math.abs(v - w) < 30;
        for (let i = 0; i < d.length; i += 4)
            if (near(d[i], 23) && near(d[i + 1], 105) && near(d[i + 2], 209)) n++;
        return n; }""")


def test_the_observer_sees_the_evaluation_and_no_controls(observer):
    s = state(observer)
    assert s["role"] == "observer" and s["replay"] is None
    for panel in ("#panel-curve", "#panel-exits", "#panel-plan", "#panel-log"):
        assert observer.locator(panel).is_visible(), panel
    for control in ("#panel-control", "#panel-inject", ".script-fire", "#replaybar"):
        assert observer.locator(control).count() == 0, control
    assert [p["id"] for p in s["plan"]] == ["P1", "P2", "P3"]


def test_the_evacuation_curve_grows(observer, live):
    s0 = state(observer)
    s1 = wait_state(observer, f"s.curveLen > {s0['curveLen'] + 3} && s.evacuated > 0",
                    timeout=3 * TIMEOUT)
    assert s1["evacuated"] > s0["evacuated"]
    s2 = wait_state(observer, f"s.curveLen > {s1['curveLen']} && s.evacuated > {s1['evacuated']}",
                    timeout=3 * TIMEOUT)
    assert s2["t"] > s1["t"]
    assert s2["curveLen"] == pytest.approx(int(s2["t"]) + 1, abs=2), s2  # one a second
    deadline = time.monotonic() + TIMEOUT  # the chart is redrawn at most 5 times a second
    while _line_pixels(observer) <= 50 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _line_pixels(observer) > 50, "no curve drawn"
    caption = observer.locator("#curve-caption").inner_text()
    assert f"/ {live.room.drill.total}" in caption and CJK.search(caption)


def test_people_out_by_exit_add_up(observer):
    s = wait_state(observer, "s.evacuated > 2")
    counts = s["exitCounts"]
    assert len(counts) == 2
    # Counts and evacuated come in the same delta; read both at once.
    s = state(observer)
    assert sum(s["exitCounts"]) == s["evacuated"]
    cells = observer.locator("#exit-counts td.num").all_inner_texts()
    assert sum(int(c) for c in cells if c.isdigit()) >= counts[0] + counts[1] - 2


def test_plan_steps_turn_met_and_missed(observer, tmp_path):
    s = wait_state(observer, "s.plan.find(p => p.id === 'P1').state === 'met'",
                   timeout=3 * TIMEOUT)
    p1 = next(p for p in s["plan"] if p["id"] == "P1")
    assert 0 < p1["achieved_s"] <= s["t"]
    assert observer.locator("#plan li[data-id='P1'][data-state='met']").count() == 1
    s = wait_state(observer, "s.plan.find(p => p.id === 'P3').state === 'missed'",
                   timeout=3 * TIMEOUT)
    assert observer.locator("#plan li[data-id='P3'][data-state='missed']").count() == 1
    text = observer.locator("#plan li[data-id='P1'] .plan-state").inner_text()
    assert "已达成" in text
    screenshot(observer, tmp_path, "observer-evaluation")


def _p2_judged(live) -> bool:
    """Whether the server's plan has P2 (everyone out) met once the drill finished."""
    plan = getattr(live.room, "_last_plan", [])
    return any(p["id"] == "P2" and p["state"] == "met" for p in plan)


def test_the_plan_is_judged_when_the_drill_finishes(observer, live, tmp_path):
    wait_state(observer, "s.status === 'finished'", timeout=6 * TIMEOUT)
    assert live.room.drill.evacuated == live.room.drill.total
    end = time.monotonic() + TIMEOUT
    while not _p2_judged(live) and time.monotonic() < end:  # judged once more at the end
        time.sleep(0.05)
    assert _p2_judged(live)
    wait_state(observer, "s.plan.find(p => p.id === 'P2').state === 'met'")
    screenshot(observer, tmp_path, "observer-finished")


def test_the_evaluators_view_is_translated(observer):
    texts = observer.evaluate("""() => [...document.querySelectorAll('[data-i18n]')]
        .filter(e => !e.dataset.i18n.startsWith('lang.'))
        .map(e => (e.innerText || e.textContent || '').trim())""")
    assert len(texts) >= 20
    assert [t for t in texts if t and not CJK.search(t)] == []


def test_a_late_observer_draws_the_curve_from_the_start(chromium, live, observer):
    t = state(observer)["t"]
    page = open_page(chromium, live.link("observer", lang="en"))
    try:
        s = state(page)
        assert s["curveLen"] >= int(t), (s["curveLen"], t)
        assert s["plan"] and all(p["state"] in ("met", "missed", "pending") for p in s["plan"])
        assert page.locator("#panel-plan summary").inner_text() == "Plan steps"
        texts = page.evaluate("""() => [...document.querySelectorAll('[data-i18n]')]
            .filter(e => !e.dataset.i18n.startsWith('lang.'))
            .map(e => (e.innerText || e.textContent || '').trim())""")
        assert [t for t in texts if CJK.search(t)] == []
    finally:
        close_page(page)
