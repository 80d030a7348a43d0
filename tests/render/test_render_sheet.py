"""Every floor at once: ``drill render --camera floors`` and the report's pictures."""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib.image as mpimg
import numpy as np

from render.palette import AGENT_COLOURS
from render.sheet import floor_counts
from render.state import snapshot
from sim.agents.crowd import State
from sim.drill import Drill
from sim.scenario import load
from tools.cli import main


def _has_colour(png: bytes, rgb: tuple[int, int, int], tol: int = 12) -> int:
    img = (mpimg.imread(io.BytesIO(png), format="png")[:, :, :3] * 255).astype(int)
    return int((np.abs(img - np.array(rgb)).max(axis=2) <= tol).sum())


def test_the_floors_sheet_shows_people_on_every_floor_of_the_mall(tmp_path: Path) -> None:
    out = tmp_path / "mall.png"
    assert main(["render", "mall", "--time", "20", "--camera", "floors",
                 "--out", str(out)]) == 0
    png = out.read_bytes()
    img = mpimg.imread(io.BytesIO(png), format="png")
    assert img.shape[1] >= 1200 and img.shape[0] >= 800  # 3 floors, two columns
    # waiting people (pre-movement) drawn on the sheet, not hidden under upper slabs
    assert _has_colour(png, AGENT_COLOURS[State.WAITING]) > 500


def test_miners_are_visible_on_the_mine_sheet(tmp_path: Path) -> None:
    out = tmp_path / "mine.png"
    assert main(["render", "mine", "--time", "10", "--camera", "floors",
                 "--out", str(out), "--lang", "en"]) == 0
    assert _has_colour(out.read_bytes(), AGENT_COLOURS[State.WAITING]) > 20


def test_people_are_counted_on_the_floor_they_stand_on() -> None:
    drill = Drill(load("two_storey"), seed=1)
    state = snapshot(drill)
    counts = floor_counts(drill.scene, state)
    per_floor = np.bincount(drill.crowd.floor, minlength=len(drill.scene.floors)).tolist()
    assert counts == per_floor and sum(counts) == drill.total
