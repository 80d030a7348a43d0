"""Branching a recorded drill: identical up to T, its own course after, bad input refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.branch import branch
from sim.recording import Recording, verify
from sim.run import run
from sim.scenario import load
from tools.cli import main


@pytest.fixture(scope="module")
def original(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """two_storey run with an instructor's order to close the West exit at 50 s."""
    out = tmp_path_factory.mktemp("orig")
    scen = load("two_storey")
    run(scen, out, commands={1000: [{"type": "door", "exit": "West", "open": False}]})
    return out / "drill.rec"


def _frames(path: Path) -> dict[int, tuple[bytes, bytes]]:
    with Recording(path) as rec:
        return {f.tick: (f.ids.tobytes(), f.q.tobytes()) for f in rec.frames()}


def test_a_branch_equals_its_original_until_t_and_then_goes_its_own_way(
        original: Path, tmp_path: Path) -> None:
    summary = branch(Recording(original), 30.0, [{"type": "door", "exit": "East",
                                                   "open": False}], tmp_path)
    a, b = _frames(original), _frames(tmp_path / "drill.rec")
    common = sorted(set(a) & set(b))
    before = [t for t in common if t <= 600]
    after = [t for t in common if t > 620]
    assert before and all(a[t] == b[t] for t in before)
    assert any(a[t] != b[t] for t in after)
    with Recording(tmp_path / "drill.rec") as rec:
        ticks = [t for t, _ in rec.commands()]
        assert 600 in ticks and 1000 in ticks  # the change, and the original's order kept
        assert verify(rec).ok  # the branch is a recording like any other
    assert summary["evacuated"] < summary["agents"]  # both exits closed from 50 s on


def test_recorded_commands_after_t_can_be_dropped(original: Path, tmp_path: Path) -> None:
    branch(Recording(original), 30.0, [], tmp_path, drop=["door"])
    with Recording(tmp_path / "drill.rec") as rec:
        assert rec.commands() == []
        assert rec.summary()["exits"].get("West", 0) > 0


def test_cli_branch_and_compare(original: Path, tmp_path: Path, capsys) -> None:  # noqa: ANN001
    out = tmp_path / "b"
    assert main(["branch", str(original), "--at", "20", "--close-exit", "East",
                 "--out", str(out)]) == 0
    assert "branch at 20 s: evacuation" in capsys.readouterr().out
    assert main(["compare", str(original), str(out / "drill.rec"), "--out",
                 str(tmp_path / "cmp"), "--lang", "en"]) == 0
    assert (tmp_path / "cmp" / "compare.html").exists()


@pytest.mark.parametrize("args, message", [
    (["--at", "9999", "--close-exit", "East"], "--at 9999: the recording runs from"),
    (["--at", "10", "--close-exit", "North"], "no exit with id 'North'"),
    (["--at", "10"], "nothing to change"),
    (["--at", "10", "--inject", "{smoke"], "not JSON"),
    (["--at", "10", "--inject", '{"kind": "lava"}'], "kind must be one of"),
])
def test_bad_branches_are_refused_in_one_line(original: Path, tmp_path: Path, capsys,  # noqa: ANN001
                                              args: list[str], message: str) -> None:
    assert main(["branch", str(original), *args, "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "x" / "drill.rec").exists()
