"""The ``drill`` command end to end, on real files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tools.cli import main


def test_run_builtin_scenario_writes_summary_trajectories_and_events(tmp_path: Path) -> None:
    assert main(["run", "corridor", "--out", str(tmp_path), "--quiet"]) == 0
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["agents"] == 1 and summary["evacuated"] == 1
    assert 26.0 <= summary["evacuation_time_s"] <= 34.0
    assert summary["exits"] == {"E1": 1}
    assert summary["measures"]["door"]["count"] == 1
    lines = (tmp_path / "trajectories.txt").read_text().splitlines()
    assert lines[0] == "#framerate: 10"
    events = [json.loads(x) for x in (tmp_path / "events.jsonl").read_text().splitlines()]
    assert [e["type"] for e in events] == ["run_started", "evacuated", "floor_clear", "run_ended"]
    assert summary["floors_clear_s"] == {"G": summary["evacuation_time_s"]}


def test_bad_scenario_exits_2_with_one_line_and_no_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\n[simulation]\ndt = "fast"\n')
    proc = subprocess.run(
        [sys.executable, "-m", "tools.cli", "run", str(bad), "--out", str(tmp_path / "o")],
        capture_output=True, text=True,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().count("\n") == 0
    assert "bad.toml" in proc.stderr and "simulation.dt" in proc.stderr


def test_unknown_scenario_name_lists_builtins(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    assert main(["run", "no-such-place", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "no-such-place" in err and "office" in err


def test_export_writes_a_glb_with_named_floors_exits_and_stairs(tmp_path: Path) -> None:
    trimesh = __import__("trimesh")
    out = tmp_path / "scene.glb"
    assert main(["export", "two_storey", "--out", str(out)]) == 0
    scene = trimesh.load(out)
    names = set(scene.graph.nodes_geometry)
    assert {"floor:G", "floor:1F", "walls:G", "walls:1F", "exit:West", "exit:East",
            "stair:S1"} <= names
    lo, hi = scene.bounds
    assert hi[1] == pytest.approx(7.0, abs=0.01)  # y is up: 1F at 3.5 m plus a 3.5 m storey
    assert lo[1] < 0.0 < hi[1]


def test_export_refuses_a_path_that_is_not_glb(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    assert main(["export", "office", "--out", str(tmp_path / "x.obj")]) == 2
    assert ".glb" in capsys.readouterr().err
