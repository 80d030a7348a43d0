"""The instructor's forecast panel in headless Chromium against a real drill server with
a local Dask cluster: ask, follow the runs, read the answer (Chinese, and English); a
participant's page has no such panel and hears nothing of it."""

from __future__ import annotations

import pytest
from webutil import CJK, HALL, TIMEOUT, LiveServer, close_page, open_page, screenshot, wait_state


@pytest.fixture(scope="module")
def live():
    with LiveServer(HALL, forecast=True, forecast_workers=1) as live:
        yield live


def test_the_instructor_asks_for_a_forecast_and_reads_it(chromium, live, tmp_path):
    ins = open_page(chromium, live.link("instructor", name="王导调"))
    par = open_page(chromium, live.link("participant", name="张三"))
    try:
        assert par.locator("#panel-forecast").count() == 0
        ins.click("#ctl-start")
        wait_state(ins, "s.status === 'running'")
        ins.fill("#forecast-runs", "99")
        ins.click("#forecast-ask")
        assert "1 到 64" in ins.locator("#forecast-msg").inner_text()
        ins.fill("#forecast-runs", "3")
        ins.click("#forecast-ask")
        ins.wait_for_function(
            "() => !document.querySelector('#forecast-result').hidden", polling=100,
            timeout=20 * TIMEOUT * 1000)
        text = ins.locator("#forecast-result").inner_text()
        assert "P50" in text and "P95" in text and CJK.search(text)
        assert "最后清空的楼层" in text and "G：约" in text
        assert "预测用时" in ins.locator("#forecast-status").inner_text()
        assert not ins.locator("#forecast-ask").is_disabled()
        ins.locator("#panel-forecast").scroll_into_view_if_needed()
        screenshot(ins, tmp_path, "forecast", doc=True)
        ins.evaluate("() => window.evacdrill.setLang('en')")
        wait_state(ins, "s.lang === 'en'")
        en = ins.locator("#forecast-result").inner_text()
        assert "From" in en and "Floors that clear last" in en and not CJK.search(en)
        screenshot(ins, tmp_path, "forecast-en")
        shown = par.evaluate("() => document.body.innerText")
        assert "P95" not in shown and "预测" not in shown
    finally:
        close_page(ins)
        close_page(par)
