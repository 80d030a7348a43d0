"""``drill render``: stills, sequences, run folders, and one-line errors with exit 2."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest

from sim.run import run
from sim.scenario import load
from tools.cli import main

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``drill run office`` output, 4 simulated seconds long."""
    s = load("office")
    s = dataclasses.replace(s, settings=dataclasses.replace(s.settings, max_time=4.0))
    out = tmp_path_factory.mktemp("run") / "office"
    run(s, out)
    return out


def test_still_of_a_scenario_at_a_time(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    out = tmp_path / "still.png"
    assert main(["render", "office", "--time", "2", "--camera", "floor:0",
                 "--size", "320x200", "--out", str(out)]) == 0
    assert out.read_bytes()[:8] == PNG
    assert "320x200" in capsys.readouterr().out


def test_sequence_of_a_run_folder_is_numbered(run_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "seq.jpg"
    assert main(["render", str(run_dir), "--every", "1", "--size", "160x100",
                 "--out", str(out)]) == 0
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [f"seq_{i:04d}.jpg" for i in range(5)]
    assert (tmp_path / "seq_0004.jpg").read_bytes()[:2] == b"\xff\xd8"


def test_truncated_run_renders_what_is_complete_and_says_so(
        run_dir: Path, tmp_path: Path, capsys) -> None:  # noqa: ANN001
    cut = tmp_path / "cut"
    shutil.copytree(run_dir, cut)
    traj = cut / "trajectories.txt"
    data = traj.read_bytes()
    traj.write_bytes(data[: len(data) // 2 + 3])  # mid-line
    out = tmp_path / "early.png"
    assert main(["render", str(cut), "--time", "0.5", "--size", "160x100",
                 "--out", str(out)]) == 0
    assert "truncated" in capsys.readouterr().err
    assert main(["render", str(cut), "--time", "3.9", "--size", "160x100",
                 "--out", str(tmp_path / "late.png")]) == 2
    err = capsys.readouterr().err
    assert "after the end of the recording" in err and "truncated" in err
    assert len(err.strip().splitlines()) == 2  # the note and the one-line error


def test_run_folder_without_trajectories_is_a_clear_error(
        run_dir: Path, tmp_path: Path, capsys) -> None:  # noqa: ANN001
    broken = tmp_path / "broken"
    shutil.copytree(run_dir, broken)
    (broken / "trajectories.txt").unlink()
    assert main(["render", str(broken), "--out", str(tmp_path / "x.png")]) == 2
    assert "trajectories.txt: file not found" in capsys.readouterr().err


@pytest.mark.parametrize("args,message", [
    (["--camera", "floor:5"], "no such floor"),
    (["--camera", "pose:-50,5,1.6,0,0"], "outside the building"),
    (["--size", "0x0"], "out of range"),
    (["--size", "20000x20000"], "out of range"),
    (["--time", "-1"], "non-negative"),
    (["--every", "0"], "positive"),
    (["--time", "9999"], "after the scenario's max_time"),
])
def test_bad_arguments_print_one_line_and_exit_2(
        args: list[str], message: str, tmp_path: Path, capsys) -> None:  # noqa: ANN001
    assert main(["render", "office", *args, "--out", str(tmp_path / "x.png")]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1
    assert not (tmp_path / "x.png").exists()


def test_output_must_be_png_or_jpeg(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    assert main(["render", "office", "--out", str(tmp_path / "x.gif")]) == 2
    assert "must end in .png or .jpg" in capsys.readouterr().err


def test_open_ended_sequence_of_a_scenario_stops_when_everyone_is_out(tmp_path: Path) -> None:
    # corridor: one agent, 40 m at about 1.3 m/s; max_time is far longer.
    assert main(["render", "corridor", "--every", "5", "--size", "96x64",
                 "--out", str(tmp_path / "c.png")]) == 0
    frames = sorted(tmp_path.iterdir())
    assert 4 <= len(frames) <= 10
    assert frames[-1].name == f"c_{len(frames) - 1:04d}.png"
