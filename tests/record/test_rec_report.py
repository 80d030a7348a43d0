"""The evaluation report, the comparison of two runs and the archive, made for real."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from rec_util import hall_doc, recorded_run

from sim.errors import RecordingError
from sim.metrics import compute
from sim.recording import Recording
from sim.report import compare, write_report
from sim.report.text import T
from tools.record_cli import archive

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("report")
    blocked = hall_doc(events=[{"time": 0.0, "action": "close_exit", "exit": "West"}])
    lopsided = hall_doc(groups=[
        {"id": "left", "floor": "G", "area": [[2, 1], [8, 1], [8, 9], [2, 9]], "count": 38,
         "exit": "West", "premovement": {"min": 0.5, "max": 2.0}},
        {"id": "right", "floor": "G", "area": [[12, 1], [18, 1], [18, 9], [12, 9]],
         "count": 2, "exit": "East"}], plan=[])
    return {"hall": recorded_run(tmp, hall_doc(), "hall"),
            "blocked": recorded_run(tmp, blocked, "blocked"),
            "lopsided": recorded_run(tmp, lopsided, "lopsided")}


def test_chinese_report_is_self_contained_with_sections_plan_and_figures(runs, tmp_path):
    data = write_report(runs["hall"], tmp_path / "r", stills=False)
    page = (tmp_path / "r" / "report.html").read_text(encoding="utf-8")
    saved = json.loads((tmp_path / "r" / "report.json").read_text(encoding="utf-8"))
    assert saved["timeline_s"] == data["timeline_s"] and saved["exits"] == data["exits"]
    with Recording(runs["hall"]) as rec:
        m = compute(rec).to_dict()
    assert saved["exits"] == json.loads(json.dumps(m["exits"]))
    assert saved["evacuated"] == 60 and saved["plan"][1]["met"] is False
    assert '<html lang="zh-CN">' in page and T["title"]["zh"] in page
    for key in ("s1", "s2", "s3", "s4", "s5", "s6"):
        assert T[key]["zh"] in page
    assert T["met"]["zh"] in page and T["missed"]["zh"] in page
    assert "首人 60 秒内撤出" in page and "现场指挥" in page
    images = re.findall(r'<img [^>]*src="([^"]+)"', page)
    assert len(images) >= 4 and all(s.startswith("data:image/png;base64,") for s in images)
    assert not re.search(r'(src|href)="(?!data:)', page)  # nothing outside the file
    assert {"evacuation_curve.png", "exit_flows.png", "distributions.png",
            "density_0.png"} <= set(data["figures"])
    for name in data["figures"]:
        assert (tmp_path / "r" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    codes = [f["code"] for f in data["findings"]]
    assert "plan_missed" in codes
    missed = next(f for f in data["findings"] if f["code"] == "plan_missed")
    assert "P2" in missed["zh"] and "P2" in missed["en"]


def test_english_report(runs, tmp_path):
    write_report(runs["hall"], tmp_path / "en", lang="en", stills=False)
    page = (tmp_path / "en" / "report.html").read_text(encoding="utf-8")
    assert '<html lang="en">' in page and T["title"]["en"] in page and T["s6"]["en"] in page
    assert T["title"]["zh"] not in page
    with pytest.raises(RecordingError, match="--lang"):
        write_report(runs["hall"], tmp_path / "fr", lang="fr", stills=False)


def test_an_exit_carrying_most_people_gives_a_suggestion_with_the_shares(runs, tmp_path):
    data = write_report(runs["lopsided"], tmp_path / "l", stills=False)
    share = {e["id"]: e["share"] for e in data["exits"]}
    assert share["West"] > 0.9
    f = next(f for f in data["findings"] if f["code"] == "exit_imbalance")
    assert f"出口 West 承担了 {100 * share['West']:.0f}%" in f["zh"]
    assert f"出口 East 仅 {100 * share['East']:.0f}%" in f["zh"]
    assert "guide people to exit East" in f["en"]


def test_compare_two_runs_with_and_without_an_exit(runs, tmp_path):
    rows = compare(runs["hall"], runs["blocked"], tmp_path / "c", lang="en")
    by = {r["key"]: r for r in rows}
    assert by["exit:West"]["a"] > 0 and by["exit:West"]["b"] == 0
    assert by["exit:East"]["b"] == 60
    for r in rows:
        if r["a"] is not None and r["b"] is not None:
            assert r["diff"] == pytest.approx(r["b"] - r["a"])
    assert by["last_out"]["b"] > by["last_out"]["a"]  # one exit for everyone takes longer
    for name in ("compare.html", "compare.json", "compare_curves.png", "compare_times.png"):
        assert (tmp_path / "c" / name).stat().st_size > 0
    out = subprocess.run([sys.executable, "-m", "tools.cli", "compare", str(runs["hall"]),
                          str(runs["blocked"]), "--out", str(tmp_path / "c2"), "--lang", "en"],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    line = next(x for x in out.stdout.splitlines() if x.startswith("exit West"))
    assert line.split()[-2:] == ["0", str(-by["exit:West"]["a"])]


def test_archive_holds_everything_with_checksums(runs, tmp_path):
    zpath = tmp_path / "drill.zip"
    manifest = archive(runs["hall"], zpath, stills=False)
    with zipfile.ZipFile(zpath) as z:
        names = set(z.namelist())
        assert {"manifest.json", "drill.rec", "scenario.toml", "plan.json",
                "report/report.html", "report/report.json"} <= names
        assert json.loads(z.read("manifest.json")) == manifest
        for f in manifest["files"]:
            body = z.read(f["path"])
            assert len(body) == f["bytes"]
            assert hashlib.sha256(body).hexdigest() == f["sha256"]
        assert z.read("drill.rec") == runs["hall"].read_bytes()
        assert [p["id"] for p in json.loads(z.read("plan.json"))] == ["P1", "P2"]
        assert "[[plan]]" in z.read("scenario.toml").decode()
    with pytest.raises(RecordingError, match=r"\.zip"):
        archive(runs["hall"], tmp_path / "drill.tar")


def test_report_and_archive_on_the_command_line(runs, tmp_path):
    out = subprocess.run([sys.executable, "-m", "tools.cli", "report", str(runs["hall"]),
                          "--out", str(tmp_path / "r"), "--no-stills"],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    line = json.loads(out.stdout)
    assert (line["plan_met"], line["plan_steps"], line["evacuated"]) == (1, 2, 60)
    out = subprocess.run([sys.executable, "-m", "tools.cli", "archive", str(runs["hall"]),
                          "--out", str(tmp_path / "a.zip"), "--no-stills"],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and zipfile.is_zipfile(tmp_path / "a.zip"), out.stderr


def test_a_damaged_recording_is_reported_up_to_the_damage(runs, tmp_path):
    with Recording(runs["hall"]) as rec:
        cut = rec.chunks[-1].offset + 50
    bad = tmp_path / "cut.rec"
    bad.write_bytes(runs["hall"].read_bytes()[:cut])
    data = write_report(bad, tmp_path / "d", stills=False)
    assert "cut off" in data["damage"] and not data["complete"]
    assert data["evacuated"] < 60 and any(f["code"] == "not_complete" for f in data["findings"])
    page = (tmp_path / "d" / "report.html").read_text(encoding="utf-8")
    assert T["damaged"]["zh"] in page
