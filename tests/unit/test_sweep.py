"""Sweeps: the --vary syntax, the scenario of each run, the aggregate, and a sweep on a
local Dask cluster with its bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from sim.errors import ScenarioError
from sim.scenario import load
from sim.sweep import aggregate, parse_vary, run_one, run_scenario
from tools.cli import main


@pytest.mark.parametrize("spec, message", [
    ("crowd=2", "unknown key"), ("scale=0:2", "out of range"), ("scale=2:1", "A <= B"),
    ("speed=fast", "expected a number"), ("close=North@10", "EXIT@T with EXIT one of"),
    ("close=East@-5", "range A:B|>= 0"), ("seed=x", "expected an integer"),
])
def test_bad_vary_specs_are_refused_by_name(spec: str, message: str) -> None:
    with pytest.raises(ScenarioError, match=message):
        parse_vary([spec], load("two_storey"))


def test_each_run_draws_its_own_population_and_closure_reproducibly() -> None:
    base = load("two_storey")
    vary = parse_vary(["seed=100", "scale=0.5:1.5", "close=East@20:60"], base)
    a, pa = run_scenario(base, vary, 3)
    b, pb = run_scenario(base, vary, 3)
    assert pa == pb and a.settings.seed == 103  # the same run, the same draws
    f = pa["scale"]
    assert [g.count for g in a.groups] == [round(g.count * f) for g in base.groups]
    (ev,) = [e for e in a.events if e.action == "close_exit"]
    assert 20 <= ev.time <= 60 and ev.time == pa["close"]["East"]
    _, other = run_scenario(base, vary, 4)
    assert other["scale"] != f


def test_aggregate_gives_percentiles_an_interval_and_counts_failures() -> None:
    t = np.linspace(100, 200, 41)
    runs = [{"run": i, "ok": True, "evacuation_time_s": float(x), "exits": {"A": 10},
             "floors_clear_s": {"G": float(x)}, "wall_time_s": 1.0} for i, x in enumerate(t)]
    runs.append({"run": 99, "ok": False, "error": "ValueError: boom", "scale": 3.0,
                 "wall_time_s": 0.1})
    a = aggregate(runs)
    assert a["finished"] == 41 and a["failed"] == 1
    assert a["failures"] == [{"run": 99, "error": "ValueError: boom", "scale": 3.0,
                              "wall_time_s": 0.1}]
    assert a["evacuation_s"]["p50"] == 150.0 and a["evacuation_s"]["p95"] == 195.0
    lo, hi = a["evacuation_s"]["p95_ci"]
    assert lo < 195.0 <= hi <= 200.0
    assert len(a["running_p95"]) == 41 and a["running_p95"][-1] == 195.0


def test_a_failing_run_is_reported_with_its_parameters(monkeypatch) -> None:  # noqa: ANN001
    import sim.drill

    base = load("two_storey")
    vary = parse_vary(["scale=0.1:0.2"], base)
    assert run_one(base, vary, 0)["ok"]

    def boom(self) -> None:  # noqa: ANN001
        raise ValueError("the model blew up")

    monkeypatch.setattr(sim.drill.Drill, "step", boom)
    r = run_one(base, vary, 1)
    assert not r["ok"] and r["error"] == "ValueError: the model blew up"
    assert r["run"] == 1 and 0.1 <= r["scale"] <= 0.2 and r["seed"] == base.settings.seed + 1


def test_a_sweep_on_a_local_cluster_writes_runs_aggregate_and_pages(tmp_path: Path,
                                                                    capsys) -> None:  # noqa: ANN001
    assert main(["sweep", "two_storey", "--runs", "4", "--vary", "scale=0.2:0.4",
                 "--workers", "2", "--quiet", "--out", str(tmp_path)]) == 0
    assert "4/4 runs finished: evacuation P50" in capsys.readouterr().out
    lines = (tmp_path / "runs.jsonl").read_text(encoding="utf-8").splitlines()
    assert sorted(json.loads(x)["run"] for x in lines) == [0, 1, 2, 3]
    agg = json.loads((tmp_path / "sweep.json").read_text(encoding="utf-8"))
    assert agg["workers"] == 2 and agg["finished"] == 4
    assert agg["evacuation_s"]["p50"] <= agg["evacuation_s"]["p95"] <= agg["evacuation_s"]["max"]
    page = (tmp_path / "sweep.html").read_text(encoding="utf-8")
    assert "疏散时间分布" in page and "data:image/png;base64," in page
    assert "清空时间 P50 / P95" in page and "built-in method" not in page
    assert "Evacuation time over many runs" in (tmp_path / "sweep.en.html").read_text(
        encoding="utf-8")


@pytest.mark.parametrize("args, message", [
    (["--vary", "crowd=1"], "unknown key"),
    (["--scheduler", "tcp://127.0.0.1:1"], "cannot reach it"),
    (["--runs", "0"], "--runs must be 1 to 10000"),
])
def test_bad_sweeps_are_refused_in_one_line(tmp_path: Path, capsys, args: list[str],  # noqa: ANN001
                                            message: str) -> None:
    argv = ["sweep", "two_storey", "--runs", "2", "--out", str(tmp_path), *args]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def _runs(folder: Path, times: np.ndarray) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "runs.jsonl").write_text("".join(
        json.dumps({"run": i, "ok": True, "evacuation_time_s": float(t)}) + "\n"
        for i, t in enumerate(times)), encoding="utf-8")
    return folder


def test_compare_gives_the_p95_difference_with_its_interval(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    from sim.run import run
    from sim.sweep import compare_p95, load_runs

    rng = np.random.default_rng(5)
    a = _runs(tmp_path / "a", rng.normal(300, 10, 50))
    b = _runs(tmp_path / "b", rng.normal(340, 10, 50))
    c = compare_p95(load_runs(a), load_runs(b))
    assert 30 < c["diff"] < 50 and c["ci"][0] < c["diff"] < c["ci"][1]
    assert c["runs_a"] == c["runs_b"] == 50
    run(load("corridor"), tmp_path / "ra")
    assert main(["compare", str(tmp_path / "ra" / "drill.rec"), str(tmp_path / "ra" /
                 "drill.rec"), "--out", str(tmp_path / "cmp"), "--lang", "en",
                 "--sweeps", str(a), str(b)]) == 0
    assert "B lengthens P95 by" in capsys.readouterr().out
    assert json.loads((tmp_path / "cmp" / "compare_sweeps.json").read_text())["runs_b"] == 50
    with pytest.raises(ScenarioError, match="not a sweep folder"):
        load_runs(tmp_path / "nothing")


def test_the_report_sets_the_drill_against_a_sweep(tmp_path: Path) -> None:
    from sim.report import write_report
    from sim.run import run

    summary = run(load("two_storey"), tmp_path / "r")
    own = summary["evacuation_time_s"]
    sweep = _runs(tmp_path / "s", np.array([own - 10, own - 5, own + 5, own + 10]))
    data = write_report(tmp_path / "r" / "drill.rec", tmp_path / "rep", stills=False,
                        sweep=sweep)
    assert data["sweep"]["runs"] == 4 and data["sweep"]["percentile"] == 50.0
    html = (tmp_path / "rep" / "report.html").read_text(encoding="utf-8")
    assert "同一方案 4 次模拟运行" in html and "不短于其中 50 % 的运行" in html
    assert json.loads((tmp_path / "rep" / "report.json").read_text())["sweep"]["p50"] == own
