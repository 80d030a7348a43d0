"""One hosted drill ("room"): the drill, its seats, commands and the per-tick state stream.

Sans-I/O: the event loop hands messages in with :meth:`Room.submit` (thread-safe, in
arrival order) and calls :meth:`Room.tick` in a worker thread once per server tick; the
tick applies the commands at the tick boundary, steps the simulation, and returns the
encoded frames and the replies for the I/O layer to send.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import shapely

from net.errors import ProtocolError
from net.protocol import ROLES, encode, message
from net.script import DrillScript
from net.state import AgentEncoder
from sim.drill import Drill
from sim.errors import SimError
from sim.scenario import Scenario
from sim.scenes.model import Scene

__all__ = ["RESUME_WINDOW", "Room", "Seat", "TickResult", "scene_info"]

RESUME_WINDOW = 60.0
"""How long a seat is kept for its holder to come back with the resume token, s."""
PUBLIC_EVENTS = ("exit_closed", "exit_opened", "floor_clear", "hazard", "hazard_cleared",
                 "evacuation_ordered", "alarm")
MAX_STEPS_PER_TICK = 40
"""Cap on simulation steps in one tick (speed x tick period / dt), so a tick stays bounded."""


@dataclass
class Seat:
    """A place in a drill held by one client (kept for a while after it disconnects)."""

    pid: int
    role: str
    name: str
    resume: str
    connected: bool = True
    left_at: float = 0.0
    """time.monotonic() when the holder disconnected."""


@dataclass
class TickResult:
    """What one tick produced for the I/O layer."""

    seq: int
    ts: float
    """Wall-clock time (time.time()) at which the tick began, s."""
    frames: dict[str, bytes]
    """Encoded delta per audience: "participant" and "privileged" (instructor, observer)."""
    snapshots: dict[str, dict[str, Any]] | None = None
    """Snapshot message per audience, when one was asked for this tick."""
    replies: list[tuple[Any, dict[str, Any]]] = field(default_factory=list)
    """(sender key, ack or error message) for the commands applied this tick."""
    moved: int = 0
    """Agents whose quantised position changed in this tick."""
    step_s: float = 0.0
    """Wall time spent stepping and encoding, s."""
    resync_all: bool = False
    """Every client of the room needs the snapshot (a replay jumped in time)."""


def audience(role: str) -> str:
    """Which stream a role receives: "participant" or "privileged"."""
    return "participant" if role == "participant" else "privileged"


def scene_info(scene: Scene, scenario: Scenario) -> dict[str, Any]:
    """The scene as plain data for ``welcome`` (coordinates in m, z up)."""
    def coords(poly: Any) -> list[list[float]]:
        return [[round(x, 3), round(y, 3)] for x, y in shapely.get_coordinates(poly.exterior)]

    return {
        "name": scene.name,
        "floors": [{"id": f.id, "elevation": f.elevation, "walkable": coords(f.walkable),
                    "obstacles": [coords(o) for o in f.obstacles],
                    "zones": [{"polygon": coords(z.polygon), "factor": z.factor,
                               "reason": z.reason} for z in f.zones]}
                   for f in scene.floors],
        "exits": [{"id": e.id, "floor": e.floor, "polygon": coords(e.polygon), "width": e.width,
                   "kind": e.kind} for e in scene.exits],
        "stairs": [{"id": s.id, "floors": list(s.floors), "length": s.length, "kind": s.kind,
                    "areas": [coords(a) for a in s.areas]} for s in scene.stairs],
        "zones": [{"id": g.id, "floor": g.floor} for g in scenario.groups],
    }


class Room:
    """A drill hosted by the server: seats, tokens, command queue, state stream."""

    def __init__(self, drill_id: str, scenario: Scenario, script: DrillScript | None = None,
                 *, seed: int | None = None, name: str = "", record: Any = None):
        self.id = drill_id
        self.name = name or scenario.name
        self.scenario = scenario
        self.script = script or DrillScript()
        self.drill = Drill(scenario, seed=seed)
        if self.script.alarm == "inject":
            self.drill.apply({"type": "hold_premovement"})
        self._init_session()
        self._last = self._public_state()
        self.recorder: Any = None
        """A :class:`sim.recording.Recorder` fed every tick, or None; ``record`` is a
        folder: the drill is recorded into ``record/<time>-<scenario>-<id>.rec``."""
        if record is not None:
            self._open_recorder(record)

    def _init_session(self) -> None:
        """Seats, tokens, the state encoder and the logs: what a live drill and a replay of
        one share (``self.drill`` and ``self.scenario`` are set before)."""
        self.tokens = {role: secrets.token_urlsafe(16) for role in ROLES}
        """Join token per role."""
        self.seats: dict[int, Seat] = {}
        self._by_resume: dict[str, Seat] = {}
        self._next_pid = 1
        self.status = "ready"
        """ready (before start), running, paused, finished (sim done), ended."""
        self.speed = 1.0
        self.scene = scene_info(self.scenario.scene, self.scenario)
        self.encoder = AgentEncoder()
        self.encoder.reset(self.drill)
        self.seq = 0
        self._budget = 0.0
        self._lock = threading.Lock()
        self.state_lock = threading.Lock()
        """Held while a tick changes the drill; readers (views) take it for a consistent state."""
        self._pending: list[tuple[Any, Seat, dict[str, Any]]] = []
        self._script_pos = 0
        self.avatars: dict[int, dict[str, Any]] = {}
        self.marks: list[dict[str, Any]] = []
        self.reports: list[dict[str, Any]] = []
        self.journal: list[dict[str, Any]] = []
        """Every accepted command with who sent it (for observers and recordings)."""

    def _open_recorder(self, folder: Any) -> None:
        from pathlib import Path

        from sim.recording import Recorder

        stamp = time.strftime("%Y%m%d-%H%M%S")
        path = Path(folder) / f"{stamp}-{self.scenario.name}-{self.id}.rec"
        self.recorder = Recorder(path, self.drill, meta={"mode": "serve", "drill": self.id,
                                                         "alarm": self.script.alarm,
                                                         "blind": self.script.blind})
        self.recorder.frame(self.drill)

    def close_recording(self) -> None:
        """Finish the recording (index and trailer); later ticks are not recorded."""
        if self.recorder is not None and not self.recorder.closed:
            from sim.output import summary

            try:
                self.recorder.close(summary(self.drill, 0.0))
            except OSError as exc:
                logging.getLogger(__name__).error("recording %s not closed: %s",
                                                  self.recorder.path, exc)
                self.recorder = None

    # ------------------------------------------------------------------ seats (loop thread)

    def join(self, *, token: str | None, resume: str | None, name: str) -> Seat:
        """Seat a client by role token or resume token; raises ProtocolError ``auth``."""
        if resume is not None:
            seat = self._by_resume.get(resume)
            if seat is None or (not seat.connected
                                and time.monotonic() - seat.left_at > RESUME_WINDOW):
                raise ProtocolError("auth", "unknown or expired resume token")
            seat.connected = True
            return seat
        role = next((r for r, t in self.tokens.items()
                     if token is not None and secrets.compare_digest(t, token)), None)
        if role is None:
            raise ProtocolError("auth", "wrong token for this drill")
        seat = Seat(self._next_pid, role, name or f"{role}-{self._next_pid}",
                    secrets.token_urlsafe(16))
        self._next_pid += 1
        self.seats[seat.pid] = seat
        self._by_resume[seat.resume] = seat
        return seat

    def leave(self, seat: Seat) -> None:
        """The seat's connection closed; it is kept for :data:`RESUME_WINDOW` seconds."""
        seat.connected = False
        seat.left_at = time.monotonic()

    def expire_seats(self) -> None:
        """Drop seats whose holder has been away longer than the resume window."""
        now = time.monotonic()
        for seat in [s for s in self.seats.values()
                     if not s.connected and now - s.left_at > RESUME_WINDOW]:
            del self.seats[seat.pid]
            del self._by_resume[seat.resume]
            self.submit(None, seat, message("_leave"))

    def submit(self, key: Any, seat: Seat, msg: dict[str, Any]) -> None:
        """Queue a validated, permitted message for the next tick boundary (thread-safe)."""
        with self._lock:
            self._pending.append((key, seat, msg))

    # ------------------------------------------------------------------ tick (worker thread)

    def tick(self, period: float, *, snapshot: bool = False) -> TickResult:
        """Apply queued commands, advance the simulation by ``period`` x speed, encode.

        ``period`` is the server tick period, s. Runs in a worker thread.
        """
        with self.state_lock:
            return self._tick(period, snapshot)

    def _tick(self, period: float, snapshot: bool) -> TickResult:
        ts = time.time()
        t0 = time.perf_counter()
        with self._lock:
            pending, self._pending = self._pending, []
        events: list[dict[str, Any]] = []
        log: list[dict[str, Any]] = []
        marks: list[dict[str, Any]] = []
        reports: list[dict[str, Any]] = []
        avatars_gone: list[int] = []
        changed_avatars: set[int] = set()
        replies: list[tuple[Any, dict[str, Any]]] = []
        for key, seat, msg in pending:
            ref = msg.get("ref")
            tick_at = self.drill.tick
            try:
                self._apply(seat, msg, events=events, marks=marks, reports=reports,
                            changed_avatars=changed_avatars, avatars_gone=avatars_gone)
            except ProtocolError as exc:
                replies.append((key, message("error", code=exc.code, message=str(exc), ref=ref)))
                continue
            except SimError as exc:
                replies.append((key, message("error", code="refused", message=str(exc),
                                             ref=ref)))
                continue
            if msg["type"].startswith("_"):
                continue
            if msg["type"] != "pose":
                entry = {"tick": tick_at, "t": round(self.drill.time, 3), "by": seat.pid,
                         "name": seat.name, "role": seat.role,
                         **{k: v for k, v in msg.items() if k not in ("v", "ref")}}
                log.append(entry)
                self.journal.append(entry)
            replies.append((key, message("ack", ref=ref, of=msg["type"], tick=tick_at)))
        if self.status == "running":
            self._advance(period, events)
        if self.recorder is not None and not self.recorder.closed:
            try:
                self.recorder.frame(self.drill, events, log)
                if self.status in ("finished", "ended"):
                    self.close_recording()
            except OSError as exc:  # a full disk stops the recording, never the drill
                logging.getLogger(__name__).error("recording %s stopped: %s",
                                                  self.recorder.path, exc)
                self.recorder = None
        agents, moved = self.encoder.delta(self.drill)
        self.seq += 1
        base = message("delta", seq=self.seq, tick=self.drill.tick,
                       t=round(self.drill.time, 3), ts=ts, **agents)
        now = self._public_state()
        for k, v in now.items():
            if v != self._last.get(k):
                base[k] = v
        self._last = now
        public = [e for e in events if e["type"] in PUBLIC_EVENTS]
        if public:
            base["events"] = public
        if changed_avatars:
            base["avatars"] = {str(p): self.avatars[p] for p in changed_avatars
                               if p in self.avatars}
        if avatars_gone:
            base["avatars_gone"] = avatars_gone
        if marks:
            base["marks"] = marks
        priv = dict(base)
        if log:
            priv["log"] = log
        if reports:
            priv["reports"] = reports
        frames = {"participant": encode(base), "privileged": encode(priv)}
        snaps = self.snapshots(ts) if snapshot else None
        return TickResult(seq=self.seq, ts=ts, frames=frames, snapshots=snaps, replies=replies,
                          moved=moved, step_s=time.perf_counter() - t0)

    def snapshots(self, ts: float) -> dict[str, dict[str, Any]]:
        """Full state as of the last tick, per audience (call from the worker thread)."""
        base = message("snapshot", seq=self.seq, tick=self.drill.tick,
                       t=round(self.drill.time, 3), ts=ts, total=self.drill.total,
                       agents=self.encoder.snapshot(),
                       avatars={str(p): a for p, a in self.avatars.items()},
                       marks=list(self.marks[-500:]), **self._public_state())
        priv = dict(base, reports=list(self.reports[-200:]), log=list(self.journal[-200:]))
        return {"participant": base, "privileged": priv}

    def welcome(self, seat: Seat, snapshot: dict[str, Any], glb_url: str) -> dict[str, Any]:
        """The ``welcome`` message for a seat, around a snapshot of its audience."""
        msg = message("welcome", drill=self.id, role=seat.role, participant_id=seat.pid,
                      resume_token=seat.resume, name=seat.name, scene=self.scene, glb=glb_url,
                      dt=self.drill.dt, blind=self.script.blind, snapshot=snapshot)
        if seat.role != "participant" or not self.script.blind:
            msg["script"] = [{"time": t, **e} for t, e in self.script.injects]
        return msg

    # ------------------------------------------------------------------ internals

    def _public_state(self) -> dict[str, Any]:
        return {"status": self.status, "speed": self.speed,
                "exits": [bool(x) for x in self.drill.exit_open],
                "hazards": [h.to_dict() for h in self.drill.hazards],
                "evacuated": self.drill.evacuated}

    def _advance(self, period: float, events: list[dict[str, Any]]) -> None:
        d = self.drill
        self._budget += self.speed * period
        steps = 0
        while self._budget >= d.dt - 1e-9 and steps < MAX_STEPS_PER_TICK:
            if d.done():
                break
            while (self._script_pos < len(self.script.injects)
                   and self.script.injects[self._script_pos][0] <= d.time + 1e-9):
                event = dict(self.script.injects[self._script_pos][1])
                self._script_pos += 1
                try:
                    events.extend(d.apply({"type": "inject", "event": event, "by": "script"}))
                except SimError as exc:
                    events.append({"t": round(d.time, 6), "type": "script_error",
                                   "message": str(exc)})
            events.extend(e for e in d.step() if e["type"] != "evacuated")
            self._budget -= d.dt
            steps += 1
        self._budget = min(self._budget, d.dt)  # a slow machine slows the drill, no spiral
        if d.done():
            self.status = "finished"

    def _apply(self, seat: Seat, msg: dict[str, Any], *, events: list[dict[str, Any]],
               marks: list[dict[str, Any]], reports: list[dict[str, Any]],
               changed_avatars: set[int], avatars_gone: list[int]) -> None:
        kind = msg["type"]
        d = self.drill
        live = self.status in ("ready", "running", "paused")
        if kind == "_leave":
            if self.avatars.pop(seat.pid, None) is not None:
                avatars_gone.append(seat.pid)
            return
        if kind == "pose":
            x, y, z = msg["position"]
            pose: dict[str, Any] = {"name": seat.name, "pos": [round(x * 100), round(y * 100),
                                                                round(z * 100)],
                                    "heading": round(msg["heading"] * 1000)}
            if "head" in msg:
                pose["head"] = [round(c * 10000) for c in msg["head"]]
            if "floor" in msg:
                pose["floor"] = msg["floor"]
            self.avatars[seat.pid] = pose
            changed_avatars.add(seat.pid)
            return
        if kind in ("report", "mark"):
            entry = {"tick": d.tick, "t": round(d.time, 3), "by": seat.pid, "name": seat.name}
            if kind == "report":
                entry["text"] = msg["text"]
                self.reports.append(entry)
                reports.append(entry)
            else:
                entry.update(id=len(self.marks) + 1, kind=msg["kind"],
                             position=list(msg["position"]), floor=msg.get("floor", 0))
                if "note" in msg:
                    entry["note"] = msg["note"]
                self.marks.append(entry)
                marks.append(entry)
            return
        if not live:
            raise ProtocolError("state", f"the drill is {self.status}; '{kind}' is refused")
        if kind == "order_evacuation":
            given = [k for k in ("zone", "floor") if k in msg]
            if msg.get("all") and given or not msg.get("all") and len(given) != 1:
                raise ProtocolError("bad_field", "order_evacuation needs exactly one of "
                                    "zone, floor or all = true")
            cmd = {"type": "order_evacuation", "by": seat.pid,
                   **{k: msg[k] for k in given}}
            events.extend(d.apply(cmd))
        elif kind == "door":
            events.extend(d.apply({"type": "door", "exit": msg["id"],
                                   "open": msg["action"] == "open", "by": seat.pid}))
        elif kind == "inject":
            events.extend(d.apply({"type": "inject", "event": dict(msg["event"]),
                                   "by": seat.pid}))
        elif kind == "start":
            self._transition("ready", "running")
        elif kind == "pause":
            self._transition("running", "paused")
        elif kind == "resume":
            self._transition("paused", "running")
        elif kind == "speed":
            self.speed = float(msg["factor"])
        elif kind == "end":
            self.status = "ended"
        elif kind == "seek":
            raise ProtocolError("state", "seek is only possible in a replay")
        else:
            raise ProtocolError("unknown_type", f"'{kind}' is not handled by a drill")

    def _transition(self, src: str, dst: str) -> None:
        if self.status != src:
            raise ProtocolError("state", f"the drill is {self.status}, not {src}")
        self.status = dst
