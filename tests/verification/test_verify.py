"""``drill verify``: the quick suite through the command, its report, its errors; the
periodic corridor and the JuPedSim adapter on small cases."""

from __future__ import annotations

import contextlib
import io
import json
import re
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import sim.verify
from sim.scenario import ModelParams, load_file
from sim.verify.case import CASES, Case
from sim.verify.engine import CASES_DIR
from sim.verify.record import STATUSES, Measured, tx
from sim.verify.suites import SUITES, Entry
from tools.cli import main

ALL_IDS = [e.id for entries in SUITES.values() for e in entries]


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """The quick suite (what CI runs), run once through ``drill verify``: (folder, lines)."""
    out = tmp_path_factory.mktemp("verify")
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert main(["verify", "--quick", "--lang", "en", "--out", str(out)]) == 0
    return out, printed.getvalue().splitlines()


@pytest.fixture
def quick(quick_run: tuple[Path, list[str]]) -> Path:
    return quick_run[0]


def _data(out: Path) -> dict[str, Any]:
    return json.loads((out / "verify.json").read_text(encoding="utf-8"))


def test_quick_suite_writes_the_three_files_with_every_listed_test(quick: Path) -> None:
    for name in ("verify.json", "verify.html", "verify.en.html"):
        assert (quick / name).is_file()
    data = _data(quick)
    assert [r["id"] for r in data["records"]] == ALL_IDS
    for name in ("verify.html", "verify.en.html"):
        page = (quick / name).read_text(encoding="utf-8")
        for test_id in ALL_IDS:
            assert f">{test_id}<" in page, (name, test_id)
    assert (quick / "fundamental-diagram.png").is_file()
    assert (quick / "passage-flow.en.png").is_file()


def test_every_record_has_an_allowed_status_and_says_where_it_comes_from(quick: Path) -> None:
    data = _data(quick)
    assert data["engine_version"] and data["date"] and data["seeds"]
    assert data["command"].startswith("drill verify --suite all --quick")
    assert data["summary"]["all"]["tests"] == len(ALL_IDS)
    for r in data["records"]:
        assert r["status"] in STATUSES, r["id"]
        assert r["title"]["zh"] and r["title"]["en"]
        if r["status"] == "not_applicable":
            assert r["reason"]["zh"] and r["reason"]["en"] and r["source"]
        else:
            assert r["criterion"]["zh"] and r["criterion"]["en"] and r["source"]
            assert r["files"], r["id"]
        if r["status"] == "error":
            assert r["reason"]["en"]


def test_rimea_1_passes(quick: Path) -> None:
    r = next(r for r in _data(quick)["records"] if r["id"] == "rimea-1")
    assert r["status"] == "pass"
    travel = next(f["value"] for f in r["figures"] if f["key"] == "travel_time")
    assert 26.0 <= travel <= 34.0


def test_the_chinese_report_is_in_chinese_and_the_english_one_in_english(quick: Path) -> None:
    zh = (quick / "verify.html").read_text(encoding="utf-8")
    en = (quick / "verify.en.html").read_text(encoding="utf-8")
    assert '<html lang="zh-CN">' in zh and '<html lang="en">' in en
    for title in ("疏散模型验证与确认报告", "走廊中保持步行速度", "水平对向人流", "基本图的测量"):
        assert title in zh
    assert "ISO 20414" in zh and "记录" in zh
    assert "Maintaining the walking speed in a corridor" in en
    assert not re.search(r"[\u4e00-\u9fff]", en.split("<body>")[1])


def test_the_command_prints_a_line_per_test_and_a_summary(
        quick_run: tuple[Path, list[str]]) -> None:
    lines = quick_run[1]
    for test_id in ALL_IDS:
        assert any(re.match(rf"{re.escape(test_id)} (pass|fail|not_applicable|error)( |$)", line)
                   for line in lines), test_id
    assert any(line.startswith("rimea-1 pass ") for line in lines)
    assert any(line.startswith(f"total: {len(ALL_IDS)} tests") for line in lines)
    assert lines[-1].startswith("report written to ")


def test_every_case_file_is_a_scenario_drill_run_can_read() -> None:
    files = sorted(CASES_DIR.glob("*.toml"))
    assert len(files) >= 20
    for f in files:
        scen = load_file(f)
        assert scen.name.replace("-", "_") == f.stem, f


def test_an_unknown_suite_is_one_line_and_exit_status_2(tmp_path: Path,
                                                        capsys: pytest.CaptureFixture) -> None:
    assert main(["verify", "--suite", "bogus", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err
    assert "'bogus'" in err and "rimea" in err and "nist" in err and "iso20414" in err
    assert not (tmp_path / "o").exists()


def test_jupedsim_not_installed_is_one_line_and_exit_status_2(
        tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "jupedsim", None)  # import jupedsim now fails
    assert main(["verify", "--quick", "--jupedsim", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "drill: error: --jupedsim: JuPedSim is not installed (pip install jupedsim)"
    assert not (tmp_path / "o").exists()


def test_a_case_that_raises_is_an_error_record_and_the_others_still_run(
        monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(run: Any, quick: bool) -> Measured:
        raise ValueError("broken case")

    monkeypatch.setitem(CASES, "boom", Case(key="boom", title=tx("坏", "broken"),
                                            criterion=tx("无", "none"), source="test",
                                            measure=boom))
    monkeypatch.setitem(sim.verify.SUITES, "rimea", (
        Entry("t-1", tx("坏", "broken"), "boom"),
        Entry("t-2", tx("走廊", "corridor"), "corridor-speed"),
        Entry("t-3", tx("不适用", "n/a"), reason=tx("无", "none"), source="test")))
    records = sim.verify.run_suites(["rimea"], quick=True)
    assert [r.status for r in records] == ["error", "pass", "not_applicable"]
    assert "ValueError: broken case" in records[0].reason["en"]


def test_the_periodic_corridor_sees_a_neighbour_across_the_seam() -> None:
    from sim.verify.periodic import _velocity

    # Agent 0 walks +x towards agent 1, 0.7 m ahead: once across the seam at x = 20 / 0,
    # once in the middle. The kernel must see the same thing.
    params = ModelParams()
    heading = np.tile([1.0, 0.0], (3, 1))
    y, v0, r = np.full(3, 2.0), np.full(3, 1.3), np.full(3, 0.2)
    walking = heading * 1.3  # all at their desired speed in the last step
    e_seam, v_seam = _velocity(np.array([19.8, 0.5, 10.0]), y, v0, heading, r, params, 20.0,
                               4.0, walking)
    e_mid, v_mid = _velocity(np.array([9.8, 10.5, 2.0]), y, v0, heading, r, params, 20.0, 4.0,
                             walking)
    assert np.allclose(v_seam, v_mid) and np.allclose(e_seam, e_mid, atol=1e-6)
    assert v_seam[0] < 1.3  # held up by the one ahead across the seam
    assert v_seam[1] == pytest.approx(1.3) and v_seam[2] == pytest.approx(1.3)


def test_the_fundamental_diagram_slows_down_with_density() -> None:
    from sim.verify.periodic import fd_point, weidmann

    low = fd_point(0.5, ModelParams(), np.random.default_rng(1), duration=20, discard=10)
    high = fd_point(3.0, ModelParams(), np.random.default_rng(1), duration=20, discard=10)
    assert abs(low.density - 0.5) < 0.15 and abs(high.density - 3.0) < 0.3
    assert high.speed < low.speed
    assert weidmann(1.0) == pytest.approx(1.34 * (1 - np.exp(-1.913 * (1 - 1 / 5.4))))


def test_jupedsim_walks_the_rimea_1_corridor_in_the_same_time() -> None:
    pytest.importorskip("jupedsim")
    from sim.verify.jps import JuPedSim

    m = CASES["corridor-speed"].measure(JuPedSim(), True)
    travel = next(f.value for f in m.figures if f.key == "travel_time")
    assert m.passed and 26.0 <= travel <= 34.0
