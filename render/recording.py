"""Reading a ``drill run`` folder back as states to draw (until recordings proper exist).

A run folder holds ``summary.json`` (names the scenario), ``trajectories.txt`` (PedPy
text: ``id frame x y z`` with a ``#framerate:`` header) and ``events.jsonl`` (exits closed
and opened, hazards injected and cleared). Agent states are inferred: on a stair when
between floor elevations, moving when displaced since the previous frame, else waiting.
A truncated trajectory file is read up to its last complete frame, and
:attr:`Recording.notes` says so.
"""

from __future__ import annotations

import io
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from render.errors import RecordingError
from render.state import AgentFrame, SceneState
from sim.agents.crowd import State
from sim.errors import ScenarioError
from sim.hazards import HAZARD_KINDS, Hazard
from sim.scenario import Scenario, load

__all__ = ["Recording", "is_run_dir", "open_run"]

MOVING_EPS = 0.005
"""An agent displaced by more than this since the previous frame is moving, m."""
DEFAULT_RADIUS = 0.2
"""Body radius drawn for recorded agents (not in the trajectory file), m."""


def is_run_dir(path: str | Path) -> bool:
    """Whether ``path`` is a folder that looks like ``drill run`` output."""
    p = Path(path)
    return p.is_dir() and ((p / "trajectories.txt").exists() or (p / "summary.json").exists())


@dataclass
class Recording:
    """A run folder's trajectories, indexed by frame."""

    folder: Path
    scenario: Scenario
    framerate: float
    """Frames per simulated second."""
    ids: np.ndarray
    """(m,) int64 agent id of each row, rows grouped by frame."""
    xyz: np.ndarray
    """(m, 3) float64 positions, m."""
    starts: np.ndarray
    """(last_frame + 2,) first row of each frame (frame k: rows starts[k]:starts[k+1])."""
    end_time: float
    """Last simulated time the folder covers, s."""
    exit_events: list[tuple[float, str, bool]]
    """(time s, exit id, open) from events.jsonl, in order."""
    hazard_events: list[tuple[float, str, Hazard | None]]
    """(time s, hazard id, the hazard or None when cleared) from events.jsonl, in order."""
    notes: tuple[str, ...] = ()
    """Remarks for the user (truncation, missing files)."""

    @property
    def last_frame(self) -> int:
        return len(self.starts) - 2

    def times(self, every: float, until: float | None = None) -> np.ndarray:
        """Times from 0 every ``every`` s up to the end (or ``until``), s."""
        end = self.end_time if until is None else min(until, self.end_time)
        return np.arange(0.0, end + 1e-9, every)

    def _frame(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        if k < 0 or k > self.last_frame:
            return np.zeros(0, np.int64), np.zeros((0, 3))
        a, b = self.starts[k], self.starts[k + 1]
        return self.ids[a:b], self.xyz[a:b]

    def state_at(self, t: float) -> SceneState:
        """The recorded state at time ``t`` s (the frame at or before it)."""
        if not math.isfinite(t) or t < 0:
            raise RecordingError(f"--time: {t:g} s must be a non-negative number")
        if t > self.end_time + 1e-6:
            raise RecordingError(
                f"--time: {t:g} s is after the end of the recording in {self.folder} "
                f"({self.end_time:g} s{'; ' + self.notes[0] if self.notes else ''})")
        k = int(math.floor(t * self.framerate + 1e-6))
        ids, xyz = self._frame(k)
        prev_ids, prev_xyz = self._frame(k - 1)
        nxt_ids, nxt_xyz = self._frame(k + 1)
        step = np.zeros((len(ids), 3))
        for other_ids, other_xyz, sign in ((prev_ids, prev_xyz, 1.0), (nxt_ids, nxt_xyz, -1.0)):
            rows, found = _match(ids, other_ids)
            unset = found & ~np.any(step != 0, axis=1)
            step[unset] = sign * (xyz[unset] - other_xyz[rows[unset]])
        elev = np.array([f.elevation for f in self.scenario.scene.floors])
        on_floor = np.min(np.abs(xyz[:, 2:3] - elev[None, :]), axis=1, initial=np.inf) < 5e-3
        moving = np.hypot(step[:, 0], step[:, 1]) > MOVING_EPS
        state = np.where(~on_floor, State.ON_STAIRS,
                         np.where(moving, State.MOVING, State.WAITING)).astype(np.uint8)
        norm = np.hypot(step[:, 0], step[:, 1])
        heading = np.where(norm[:, None] > 1e-9, step[:, :2] / np.maximum(norm, 1e-9)[:, None],
                           np.array([0.0, 1.0]))
        agents = AgentFrame(id=ids.copy(), xyz=xyz.copy(), state=state, heading=heading,
                            radius=np.full(len(ids), DEFAULT_RADIUS),
                            injured=np.zeros(len(ids), bool))
        scene = self.scenario.scene
        is_open = {e.id: e.open for e in scene.exits}
        for when, exit_id, opened in self.exit_events:
            if when <= t + 1e-9 and exit_id in is_open:
                is_open[exit_id] = opened
        hazards: dict[str, Hazard] = {}
        for when, hid, hazard in self.hazard_events:
            if when > t + 1e-9:
                break
            if hazard is None:
                hazards.pop(hid, None)
            else:
                hazards[hid] = hazard
        return SceneState(time=k / self.framerate, agents=agents,
                          exit_open=np.array([is_open[e.id] for e in scene.exits], bool),
                          hazards=tuple(hazards.values()), notes=self.notes)


def _match(ids: np.ndarray, other: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row of each of ``ids`` in ``other`` and whether it is there: (n,) int, (n,) bool."""
    if not len(other):
        return np.zeros(len(ids), np.intp), np.zeros(len(ids), bool)
    order = np.argsort(other, kind="stable")
    pos = np.clip(np.searchsorted(other[order], ids), 0, len(order) - 1)
    return order[pos], other[order[pos]] == ids


def _read_trajectories(path: Path) -> tuple[float, str | None, np.ndarray, list[str]]:
    """framerate, scenario name from the header, rows (m, 5), notes."""
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise RecordingError(f"{path}: file not found (is this a 'drill run' folder?)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RecordingError(f"{path}: cannot read ({exc})") from None
    notes = []
    if text and not text.endswith("\n"):
        cut = text.rfind("\n") + 1
        notes.append(f"{path.name} is truncated (its last line is incomplete)")
        text = text[:cut]
    header = [ln for ln in text.splitlines()[:10] if ln.startswith("#")]
    rate = next((ln.split(":", 1)[1] for ln in header if ln.lower().startswith("#framerate:")),
                None)
    try:
        fps = float(rate) if rate is not None else math.nan
    except ValueError:
        fps = math.nan
    if not math.isfinite(fps) or fps <= 0:
        raise RecordingError(f"{path}: no valid '#framerate:' header line")
    name = next((m.group(1) for ln in header
                 if (m := re.match(r"#\s*scenario:\s*(\S+)", ln))), None)
    try:
        rows = np.loadtxt(io.StringIO(text), comments="#", ndmin=2, dtype=np.float64)
    except ValueError as exc:
        raise RecordingError(f"{path}: malformed trajectory rows ({exc})") from None
    if rows.size and rows.shape[1] != 5:
        raise RecordingError(f"{path}: expected 5 columns (id frame x y z), "
                             f"found {rows.shape[1]}")
    return fps, name, rows.reshape(-1, 5), notes


def _hazard(d: object, t: float) -> Hazard | None:
    """A hazard from the ``hazard`` field of a ``hazard`` event; None if malformed."""
    if not isinstance(d, dict) or d.get("kind") not in HAZARD_KINDS:
        return None
    try:
        return Hazard(id=str(d["id"]), kind=d["kind"], floor=int(d.get("floor", 0)),
                      x=float(d.get("x", 0.0)), y=float(d.get("y", 0.0)),
                      radius=float(d.get("radius", 0.0)), start=float(d.get("start", t)),
                      exit=None if d.get("exit") is None else str(d["exit"]))
    except (KeyError, TypeError, ValueError):
        return None


def _read_events(path: Path) -> tuple[list[tuple[float, str, bool]],
                                      list[tuple[float, str, Hazard | None]]]:
    """Exit events (t, exit id, opened) and hazard events (t, id, hazard or None: cleared)."""
    exits: list[tuple[float, str, bool]] = []
    hazards: list[tuple[float, str, Hazard | None]] = []
    if not path.exists():
        return exits, hazards
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            ev = json.loads(line)
        except json.JSONDecodeError:
            break  # a truncated last line
        if not isinstance(ev, dict):
            continue
        t = float(ev.get("t", 0.0)) if isinstance(ev.get("t"), int | float) else 0.0
        kind = ev.get("type")
        if kind in ("exit_closed", "exit_opened"):
            exits.append((t, str(ev.get("exit")), kind == "exit_opened"))
        elif kind == "hazard" and (h := _hazard(ev.get("hazard"), t)) is not None:
            hazards.append((t, h.id, h))
        elif kind == "hazard_cleared":
            hazards.append((t, str(ev.get("id")), None))
    return exits, hazards


def _expected_last_frame(summary: dict, fps: float) -> int | None:
    """Last frame that should hold agents according to summary.json (None: cannot tell).

    Frames are written while anyone is inside: to the end of the run if some remained,
    else until the last agent left.
    """
    try:
        agents, evacuated = int(summary["agents"]), int(summary["evacuated"])
        if agents == 0:
            return None
        if evacuated < agents:
            return int(math.floor(float(summary["sim_time_s"]) * fps + 1e-6))
        return int(math.floor(float(summary["evacuation_time_s"]) * fps - 1e-6)) - 1
    except (KeyError, TypeError, ValueError):
        return None


def open_run(folder: str | Path, scenario: str | Path | None = None) -> Recording:
    """Read a ``drill run`` folder; ``scenario`` (name or .toml) overrides the one it names.

    Raises RecordingError for a missing folder or trajectory file, malformed rows, or a
    scenario that cannot be found.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise RecordingError(f"{folder}: not a folder")
    notes: list[str] = []
    summary: dict = {}
    try:
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        notes.append("summary.json is missing (the run did not finish?)")
    except (OSError, json.JSONDecodeError) as exc:
        raise RecordingError(f"{folder / 'summary.json'}: cannot read ({exc})") from None
    fps, header_name, rows, trunc = _read_trajectories(folder / "trajectories.txt")
    notes.extend(trunc)
    name = scenario or summary.get("scenario") or header_name
    if not name:
        raise RecordingError(f"{folder}: names no scenario (summary.json or trajectories "
                             "header); pass --scenario NAME_OR_TOML")
    try:
        scen = load(name)
    except ScenarioError as exc:
        raise RecordingError(f"{folder}: cannot load its scenario '{name}' ({exc}); pass "
                             "--scenario NAME_OR_TOML") from None
    frame = rows[:, 1].astype(np.int64)
    if len(frame) and (np.any(np.diff(frame) < 0) or frame[0] < 0):
        raise RecordingError(f"{folder / 'trajectories.txt'}: frames are not in order")
    last = int(frame[-1]) if len(frame) else -1
    expected = _expected_last_frame(summary, fps)
    if not trunc and expected is not None and last < expected - 1:
        trunc = [f"trajectories.txt ends at frame {last} but summary.json implies frames up "
                 f"to {expected}: it is truncated"]
        notes.extend(trunc)
    if trunc and last >= 0:
        # The cut may have fallen inside the last frame: drop it whole.
        keep = frame < last
        rows, frame, last = rows[keep], frame[keep], last - 1
        notes[-1] += f"; rendering up to frame {last} (t = {max(last, 0) / fps:g} s)"
    starts = np.searchsorted(frame, np.arange(last + 2))
    end = last / fps if (trunc or not summary) else float(summary.get("sim_time_s", last / fps))
    if not len(rows) and trunc:
        raise RecordingError(f"{folder / 'trajectories.txt'}: truncated before its first "
                             "complete frame")
    exit_events, hazard_events = _read_events(folder / "events.jsonl")
    return Recording(folder=folder, scenario=scen, framerate=fps,
                     ids=rows[:, 0].astype(np.int64), xyz=rows[:, 2:5].copy(),
                     starts=starts, end_time=max(end, 0.0),
                     exit_events=exit_events, hazard_events=hazard_events, notes=tuple(notes))
