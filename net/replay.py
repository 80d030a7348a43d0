"""A recorded drill hosted like a live one: the drill server fed from a file.

:class:`ReplayRoom` is a :class:`net.room.Room` whose "drill" is a
:class:`sim.recording.Player` instead of a simulation. Clients join it with the same
tokens, get the same ``welcome``, ``snapshot`` and ``delta`` messages, and instructors
control it with ``start``/``pause``/``resume``/``speed``/``end`` and ``seek {t}``
(docs/protocol.md). Commands that would change the drill (doors, injects, orders) are
refused: a replay shows what happened.
"""

from __future__ import annotations

import secrets
from typing import Any

import msgpack
import numpy as np

from net.errors import ProtocolError
from net.protocol import encode
from net.room import PUBLIC_EVENTS, Room, TickResult, audience_of
from net.script import DrillScript
from net.state import ALL, View
from sim.recording import Player, Recording

__all__ = ["ReplayRoom"]

_REFUSED = ("door", "inject", "order_evacuation", "move", "script_fire", "script_skip")


class _Crowd:
    def __init__(self, ids: np.ndarray, state: np.ndarray, floor: np.ndarray):
        self.id, self.state, self.floor = ids, state, floor


class _Hazard:
    def __init__(self, d: dict[str, Any]):
        self._d = d

    def to_dict(self) -> dict[str, Any]:
        return dict(self._d)


class _PlayedDrill:
    """What the room and the state encoder read from a drill, taken from a :class:`Player`."""

    def __init__(self, player: Player, total: int, dt: float, elevations: list[float]):
        self.player, self.total, self.dt = player, total, dt
        self._elev = np.sort(np.asarray(elevations, float))
        self._floor_order = np.argsort(np.asarray(elevations, float))
        # Departures are in the frames (all_records() holds everything but frames).
        gone = [r for r in player.rec.records() if r["k"] in ("key", "f") and "gone" in r]
        self._gone = np.concatenate([np.frombuffer(r["gone"], "<u4") for r in gone]
                                    ).astype(np.int64) if gone else np.zeros(0, np.int64)
        self._gone_exit = np.concatenate([np.frombuffer(r["gone_exit"], "<i2") for r in gone]
                                         ) if gone else np.zeros(0, np.int16)
        self.gone_t = np.concatenate([np.frombuffer(r["gone_t"], "<f4") for r in gone]
                                     ).astype(float) if gone else np.zeros(0)
        """Time each departure of the recording happened, s (for curves and exit counts)."""

    @property
    def exit_used(self) -> np.ndarray:
        """Per agent id, the exit it had left by at the frame shown (-1: still inside)."""
        out = np.full(self.total, -1, np.int16)
        done = self.gone_t <= self.time + 1e-6
        out[self._gone[done]] = self._gone_exit[done]
        return out

    @property
    def _f(self) -> Any:
        assert self.player.frame is not None
        return self.player.frame

    @property
    def tick(self) -> int:
        return self._f.tick

    @property
    def time(self) -> float:
        return self._f.t

    @property
    def evacuated(self) -> int:
        return self._f.evacuated

    @property
    def exit_open(self) -> list[bool]:
        return self._f.exits

    @property
    def hazards(self) -> list[_Hazard]:
        return [_Hazard(h) for h in self._f.hazards]

    @property
    def crowd(self) -> _Crowd:
        # A recorded frame has heights, not floors: each agent is on the floor below it.
        z = self._f.xyz[:, 2] if len(self._f.ids) else np.zeros(0)
        level = np.clip(np.searchsorted(self._elev, z + 0.05, side="right") - 1, 0, None)
        return _Crowd(self._f.ids, self._f.state, self._floor_order[level])

    def positions(self) -> tuple[np.ndarray, np.ndarray]:
        return np.arange(len(self._f.ids)), self._f.xyz

    def done(self) -> bool:
        return self.player.finished


class ReplayRoom(Room):
    """A recording served as a drill: seekable, pausable, at any speed."""

    EMBODIES = False
    """A replay shows what happened: nobody joins its crowd."""

    def __init__(self, rec: Recording, *, speed: float = 1.0, start_t: float = 0.0,
                 drill_id: str | None = None):
        # Not Room.__init__: there is no simulation to build, only a file to play.
        self.recording = rec
        self.id = drill_id or secrets.token_hex(4)
        self.scenario = rec.scenario()
        self.name = f"replay of {self.scenario.name}"
        self.script = DrillScript()
        self.player = Player(rec)
        played = _PlayedDrill(self.player, rec.total, rec.dt,
                              [f.elevation for f in self.scenario.scene.floors])
        self.drill = played  # type: ignore[assignment]
        self._clock = 0.0
        """Playback time, s: advances by speed x tick period; frames up to it are shown."""
        self.player.seek(start_t)
        self._init_session()
        self._seek_journal()
        self.status = "running"
        self.speed = float(speed)
        self.recorder = None
        self._seeked = False
        self._snap_planned = False
        self._played_log: list[dict[str, Any]] = []
        self._played_reports: list[dict[str, Any]] = []
        self._last = self._public_state()

    def _seek_journal(self) -> None:
        """After a jump: the journal and reports as they stood at the frame shown now."""
        t = self.player.frame.t if self.player.frame else 0.0
        self._clock = t
        self.journal = [e for e in self.recording.journal() if e.get("t", 0.0) <= t + 1e-9]
        self.reports = [e for e in self.journal if e.get("type") == "report"]

    def _public_state(self, sample: Any = None) -> dict[str, Any]:
        out = super()._public_state(sample)
        out["replay"] = True
        return out

    def _plan_now(self, *, force: bool = False) -> list[dict[str, Any]]:
        return []  # the recorded plan is judged by `drill report`, not live

    def _curve(self) -> list[list[float]]:
        gone_t = np.sort(self.drill.gone_t)  # type: ignore[attr-defined]
        secs = np.arange(0.0, np.floor(self.drill.time + 1e-9) + 1.0)
        return [[float(s), int(n)] for s, n in zip(
            secs, np.searchsorted(gone_t, secs + 1e-6), strict=True)]

    def welcome(self, seat: Any, glb_url: str) -> dict[str, Any]:
        """A live drill's welcome, with the recording's time range."""
        msg = super().welcome(seat, glb_url)
        t0, t1 = self.recording.time_range()
        msg["replay"] = {"start": t0, "end": t1, "file": self.recording.path.name}
        return msg

    def _tick(self, period: float, snapshot: bool, views: tuple[View, ...] = (ALL,),
              snapshot_views: set[View] | None = None) -> TickResult:
        with self._lock:
            seek = any(m.get("type") == "seek" for _, _, m in self._pending)
        self._seeked, self._snap_planned = False, seek
        self._played_log, self._played_reports = [], []
        res = super()._tick(period, snapshot or seek, views, None if seek else snapshot_views)
        res.resync_all = self._seeked
        if self._played_log:
            # The recorded journal goes to instructors and observers as a live one does.
            for key, frame in res.frames.items():
                if audience_of(key) != "privileged":
                    continue
                priv = msgpack.unpackb(frame, raw=False, strict_map_key=False)
                priv["log"] = [*priv.get("log", []), *self._played_log]
                if self._played_reports:
                    priv["reports"] = [*priv.get("reports", []), *self._played_reports]
                res.frames[key] = encode(priv)
        return res

    def _advance(self, period: float, events: list[dict[str, Any]]) -> None:
        self._clock += self.speed * period
        for r in self.player.advance_to(self._clock):
            if r["k"] == "ev":
                events.extend(e for e in r["events"] if e.get("type") in PUBLIC_EVENTS)
            elif r["k"] == "log":
                entry = r["entry"]
                self.journal.append(entry)
                self._played_log.append(entry)
                if entry.get("type") == "report":
                    self.reports.append(entry)
                    self._played_reports.append(entry)
        if self.player.finished:
            self.status = "finished"

    def _apply(self, seat: Any, msg: dict[str, Any], **kw: Any) -> None:
        kind = msg["type"]
        if kind in _REFUSED:
            raise ProtocolError("state", f"'{kind}' cannot change a replay")
        if kind == "seek":
            if not self._snap_planned:  # arrived after this tick looked: next tick
                self.submit(None, seat, msg)
                return
            self.player.seek(float(msg["t"]))
            self._seek_journal()
            self.reset_views()
            self._seeked = True
            if self.status == "finished" and not self.player.finished:
                self.status = "paused"
            return
        if kind == "resume" and self.status == "finished":
            raise ProtocolError("state", "the replay is at its end; seek first")
        super()._apply(seat, msg, **kw)
