"""The evaluation report of a served drill: written in a worker thread once the drill ends
and its recording closes, served at ``/drills/ID/report/``, named by ``info.json``."""

from __future__ import annotations

import http.client
import json
import time
from pathlib import Path

from webutil import HALL, TIMEOUT, LiveServer

from net.server import report_dir
from sim.report.pdf import chromium


def get(live: LiveServer, path: str) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", live.server.port, timeout=TIMEOUT)
    try:
        conn.request("GET", path)
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        conn.close()


def info(live: LiveServer) -> dict:
    return json.loads(get(live, f"/drills/{live.room.id}/info.json")[2])


def test_the_report_is_written_and_served_once_the_drill_ends(tmp_path):
    with LiveServer(HALL, record_dir=str(tmp_path)) as live:
        rid = live.room.id
        status, h, body = get(live, f"/drills/{rid}/report/")
        assert status == 404 and h["content-type"] == "text/html; charset=utf-8"
        assert "报告尚未生成" in body.decode() and "演练结束后" in body.decode()
        assert info(live)["report"] is None
        ins = live.client("instructor")
        try:
            live.request(ins, "start")
            live.call(lambda: ins.until(lambda c: c.t >= 1.0))
            assert live.request(ins, "end")["type"] == "ack"
            deadline = time.monotonic() + 6 * TIMEOUT  # matplotlib figures on a slow runner
            while (url := info(live)["report"]) is None:
                assert time.monotonic() < deadline, "no report in time"
                time.sleep(0.1)
        finally:
            live.call(ins.close)
        assert url == f"{live.server.http_url}/drills/{rid}/report/"
        assert info(live)["status"] == "ended"
        for path in (f"/drills/{rid}/report/", f"/drills/{rid}/report"):
            status, h, body = get(live, path)
            assert status == 200, path
            assert h["content-type"] == "text/html; charset=utf-8"
            assert "content-security-policy" in h
            assert "演练评估报告" in body.decode()
        status, h, body = get(live, f"/drills/{rid}/report/report.json")
        assert status == 200 and json.loads(body)["agents"] == 40
        status, h, body = get(live, f"/drills/{rid}/report/evacuation_curve.png")
        assert status == 200 and h["content-type"] == "image/png" and body[:4] == b"\x89PNG"
        assert get(live, f"/drills/{rid}/report/nothing.png")[0] == 404
        if chromium() is not None:  # printed to PDF where Chromium is installed
            status, h, body = get(live, f"/drills/{rid}/report/report.pdf")
            assert status == 200 and h["content-type"] == "application/pdf"
            assert body[:5] == b"%PDF-" and "report.pdf" in get(
                live, f"/drills/{rid}/report/")[2].decode()
        rec = Path(live.room.recorder.path)
    assert (report_dir(rec) / "report.html").is_file()
    assert report_dir(rec) == rec.with_name(rec.stem + "-report")


def test_a_drill_not_recorded_and_an_unknown_drill_say_why_there_is_no_report():
    with LiveServer(HALL) as live:
        rid = live.room.id
        ins = live.client("instructor")
        try:
            live.request(ins, "end")
            live.call(lambda: ins.until(lambda c: c.public["status"] == "ended"))
        finally:
            live.call(ins.close)
        status, _, body = get(live, f"/drills/{rid}/report/")
        assert status == 404 and "报告尚未生成" in body.decode()
        assert "没有录制" in body.decode() and "not recorded" in body.decode()
        assert info(live)["report"] is None
        status, _, body = get(live, "/drills/00000000/report/")
        assert status == 404 and "没有这个演练" in body.decode()
