"""One hosted drill ("room"): the drill, its seats, commands and the per-tick state stream.

Sans-I/O: the event loop hands messages in with :meth:`Room.submit` (thread-safe, in
arrival order) and calls :meth:`Room.tick` in a worker thread once per server tick; the
tick applies the commands at the tick boundary, steps the simulation, and returns the
encoded frames and the replies for the I/O layer to send.
"""

from __future__ import annotations

import logging
import math
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely

from net.errors import ProtocolError
from net.live import LiveTrack, exit_counts
from net.protocol import ROLES, encode, message
from net.script import DrillScript
from net.state import ALL, AgentEncoder, CrowdSample, View
from sim.agents.crowd import State
from sim.drill import Drill
from sim.errors import ScenarioError, SimError
from sim.scenario import Scenario
from sim.scenes.model import Scene
from sim.steering import MAX_SPEED, walkable

if TYPE_CHECKING:
    from sim.drill import Drill as _Drill

__all__ = ["RESUME_WINDOW", "Room", "Seat", "TickResult", "audience", "audience_of",
           "new_token", "scene_info", "stream"]

RESUME_WINDOW = 60.0
"""How long a seat is kept for its holder to come back with the resume token, s."""
PUBLIC_EVENTS = ("exit_closed", "exit_opened", "floor_clear", "hazard", "hazard_cleared",
                 "evacuation_ordered", "alarm", "person_out")
DOOR_REACH = 5.0
"""How near (m) a participant's avatar must stand to an exit to open or close it."""
POSE_SLACK = 1.5
"""How far (m) a ``pose`` position of an embodied participant may lie from its avatar."""
MAX_ROUTES_PER_TICK = 1
"""Click-to-go routes (a fast-marching field each, ~40 ms on a mall floor) worked out per
tick; further clicks wait for the next tick."""
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
    agent: int | None = None
    """The participant's avatar in the crowd (an agent id), or None."""
    ready: bool = True
    """Whether the seat may be welcomed (False until its avatar is in the crowd)."""
    stale: set[str] = field(default_factory=set)
    """Resume tokens used and replaced, refused once the next welcome has gone out."""


@dataclass
class TickResult:
    """What one tick produced for the I/O layer."""

    seq: int
    ts: float
    """Wall-clock time (time.time()) at which the tick began, s."""
    frames: dict[Any, bytes]
    """Encoded delta per audience, "participant" or "privileged" (instructor, observer), for
    the view of everything, and per (audience, :class:`~net.state.View`) for the others."""
    snapshots: dict[Any, dict[str, Any]] | None = None
    """Snapshot message per audience (and view, keyed as ``frames``), when asked for."""
    replies: list[tuple[Any, dict[str, Any]]] = field(default_factory=list)
    """(sender key, ack or error message) for the commands applied this tick."""
    moved: int = 0
    """Agents whose quantised position changed in this tick."""
    step_s: float = 0.0
    """Wall time spent stepping and encoding, s."""
    resync_all: bool = False
    """Every client of the room needs the snapshot (a replay jumped in time)."""


def new_token() -> str:
    """A fresh join or resume token (URL-safe, 22 characters); never one that begins with
    "-", which a command line (``drill ctl --token …``) would take for an option."""
    while True:
        token = secrets.token_urlsafe(16)
        if not token.startswith("-"):
            return token


def audience(role: str) -> str:
    """Which stream a role receives: "participant" or "privileged"."""
    return "participant" if role == "participant" else "privileged"


def stream(role: str, view: View = ALL) -> Any:
    """The key of a client's frames in :attr:`TickResult.frames` (and ``snapshots``)."""
    return audience(role) if view == ALL else (audience(role), view)


def audience_of(key: Any) -> str:
    """The audience of a :func:`stream` key."""
    return key if isinstance(key, str) else key[0]


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

    EMBODIES = True
    """Participants who join get an avatar in the simulated crowd (not in a replay)."""

    def __init__(self, drill_id: str, scenario: Scenario, script: DrillScript | None = None,
                 *, seed: int | None = None, name: str = "", record: Any = None):
        self.id = drill_id
        self.name = name or scenario.name
        self.scenario = scenario
        self.script = script or DrillScript()
        self.drill = Drill(scenario, seed=seed)
        self._check_spawn()
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
        self.tokens = {role: new_token() for role in ROLES}
        """Join token per role."""
        self.seats: dict[int, Seat] = {}
        self._by_resume: dict[str, Seat] = {}
        self._next_pid = 1
        self.status = "ready"
        """ready (before start), running, paused, finished (sim done), ended."""
        self.speed = 1.0
        self.scene = scene_info(self.scenario.scene, self.scenario)
        self.encoders: dict[View, AgentEncoder] = {}
        """One state encoder per view in use (every agent, or the floors clients chose)."""
        self.reset_views()
        self.seq = 0
        self._budget = 0.0
        self._lock = threading.Lock()
        self.state_lock = threading.Lock()
        """Held while a tick changes the drill; readers (views) take it for a consistent state."""
        self._pending: list[tuple[Any, Seat, dict[str, Any]]] = []
        self._poses: dict[int, tuple[Any, Seat, dict[str, Any]]] = {}
        """The latest ``pose`` of each seat since the last tick (poses are coalesced)."""
        self.live = LiveTrack(self)
        """The timeline's progress, the evacuation curve and the plan (net/live.py)."""
        self._last_plan: list[dict[str, Any]] = []
        self._plan_final = False
        """The plan was judged once more when the drill finished or ended."""
        self.avatars: dict[int, dict[str, Any]] = {}
        self.marks: list[dict[str, Any]] = []
        self.reports: list[dict[str, Any]] = []
        self.journal: list[dict[str, Any]] = []
        """Every accepted command with who sent it (for observers and recordings)."""
        self._bodies: dict[int, Seat] = {}
        """Agent id -> the seat whose avatar it is."""
        self.injects = 0
        """Injects applied so far (an instructor's, or the timeline's)."""

    def _open_recorder(self, folder: Any) -> None:
        from pathlib import Path

        from sim.recording import Recorder

        stamp = time.strftime("%Y%m%d-%H%M%S")
        path = Path(folder) / f"{stamp}-{self.scenario.name}-{self.id}.rec"
        self.recorder = Recorder(path, self.drill, meta={"mode": "serve", "drill": self.id,
                                                         "alarm": self.script.alarm,
                                                         "blind": self.script.blind})
        self.recorder.frame(self.drill)

    @property
    def encoder(self) -> AgentEncoder:
        """The encoder of the view of everything."""
        enc = self.encoders.get(ALL)
        if enc is None:
            enc = self.encoders[ALL] = AgentEncoder()
            enc.reset(self.drill)
        return enc

    def reset_views(self) -> None:
        """Start every view's state stream afresh from the drill (snapshots follow)."""
        sample = CrowdSample.of(self.drill)
        for view in list(self.encoders) or [ALL]:
            enc = self.encoders[view] = AgentEncoder(view)
            enc.reset(sample)

    def end(self) -> None:
        """End the drill now (idle, or the server stops): status ``ended``, the recording
        closed. Call between ticks (it takes the state lock)."""
        with self.state_lock:
            if self.status != "ended":
                self.status = "ended"
                if self.recorder is not None and not self.recorder.closed:
                    try:
                        self.recorder.frame(self.drill, [], [])
                    except OSError:
                        pass
            self.close_recording()

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

    def fork_state(self) -> tuple[bytes, float, list[tuple[float, dict[str, Any]]]]:
        """What a forecast starts from: the drill's snapshot, its time (s) and the scripted
        injects still pending, as (time s, command). Call from the tick thread."""
        with self.state_lock:
            ahead = [(t, {"type": "inject", "event": dict(e)})
                     for i, (t, e) in enumerate(self.script.injects)
                     if self.live.script_state[i] == "pending"]
            return self.drill.snapshot(), float(self.drill.time), ahead

    # ------------------------------------------------------------------ seats (loop thread)

    def join(self, *, token: str | None, resume: str | None, name: str,
             avatar: bool = True) -> Seat:
        """Seat a client by role token or resume token; raises ProtocolError ``auth``.

        A participant (unless ``avatar`` is False) gets an avatar in the crowd at the next
        tick: an agent it steers with ``move`` (:mod:`sim.steering`).
        """
        if resume is not None:
            seat = self._by_resume.get(resume)
            if seat is None or (not seat.connected
                                and time.monotonic() - seat.left_at > RESUME_WINDOW):
                raise ProtocolError("auth", "unknown, used or expired resume token")
            # Each token serves once: the welcome carries the next one, and the used one is
            # dropped when that welcome goes out (a connection lost before it may retry).
            seat.stale.add(resume)
            seat.resume = new_token()
            self._by_resume[seat.resume] = seat
            seat.connected = True
            return seat
        role = next((r for r, t in self.tokens.items()
                     if token is not None and secrets.compare_digest(t, token)), None)
        if role is None:
            raise ProtocolError("auth", "wrong token for this drill")
        seat = Seat(self._next_pid, role, name or f"{role}-{self._next_pid}",
                    new_token())
        self._next_pid += 1
        self.seats[seat.pid] = seat
        self._by_resume[seat.resume] = seat
        if (role == "participant" and avatar and self.EMBODIES
                and self.status in ("ready", "running", "paused")):
            seat.ready = False  # welcomed once its avatar stands in the crowd
            self.submit(None, seat, message("_embody"))
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
            for token in (seat.resume, *seat.stale):
                self._by_resume.pop(token, None)
            self.submit(None, seat, message("_leave"))

    def submit(self, key: Any, seat: Seat, msg: dict[str, Any]) -> None:
        """Queue a validated, permitted message for the next tick boundary (thread-safe)."""
        with self._lock:
            self._pending.append((key, seat, msg))

    def submit_pose(self, key: Any, seat: Seat, msg: dict[str, Any]) -> dict[str, Any] | None:
        """Keep a ``pose`` as the seat's latest (thread-safe): only the latest of a tick is
        applied. Returns the ack of the pose it supersedes, if that one asked for one."""
        with self._lock:
            old = self._poses.get(seat.pid)
            self._poses[seat.pid] = (key, seat, msg)
        if old is not None and old[2].get("ack"):
            return message("ack", ref=old[2].get("ref"), of="pose", tick=self.drill.tick,
                           superseded=True)
        return None

    # ------------------------------------------------------------------ tick (worker thread)

    def tick(self, period: float, *, snapshot: bool = False,
             views: Any = (ALL,), snapshot_views: Any = None) -> TickResult:
        """Apply queued commands, advance the simulation by ``period`` x speed, encode.

        ``period`` is the server tick period, s; ``views`` are the views clients receive
        (frames are coded for each); ``snapshot`` asks for snapshots of ``snapshot_views``
        (None: of every view). Runs in the room's tick thread.
        """
        with self.state_lock:
            return self._tick(period, snapshot, tuple(dict.fromkeys(views)),
                              None if snapshot_views is None else set(snapshot_views))

    def _tick(self, period: float, snapshot: bool, views: tuple[View, ...] = (ALL,),
              snapshot_views: set[View] | None = None) -> TickResult:
        ts = time.time()
        t0 = time.perf_counter()
        with self._lock:
            pending, self._pending = self._pending, []
            pending.extend(self._poses.values())
            self._poses = {}
        events: list[dict[str, Any]] = []
        log: list[dict[str, Any]] = []
        marks: list[dict[str, Any]] = []
        reports: list[dict[str, Any]] = []
        avatars_gone: list[int] = []
        changed_avatars: set[int] = set()
        replies: list[tuple[Any, dict[str, Any]]] = []
        for key, seat, msg in self._routes_this_tick(pending, replies):
            ref = msg.get("ref")
            tick_at = self.drill.tick
            try:
                extra = self._apply(seat, msg, events=events, marks=marks, reports=reports,
                                    changed_avatars=changed_avatars, avatars_gone=avatars_gone)
            except ProtocolError as exc:
                replies.append((key, message("error", ref=ref, **exc.fields())))
                continue
            except SimError as exc:
                err = message("error", code="refused", message=str(exc), ref=ref)
                if getattr(exc, "code", None):  # a cause the client can put in words
                    err.update(reason=exc.code, detail=exc.detail)
                replies.append((key, err))
                continue
            if msg["type"].startswith("_"):
                continue
            if msg["type"] not in ("pose", "move"):  # steering is in the commands, not the log
                entry = {"tick": tick_at, "t": round(self.drill.time, 3), "by": seat.pid,
                         "name": seat.name, "role": seat.role,
                         **{k: v for k, v in msg.items() if k not in ("v", "ref")}}
                log.append(entry)
                self.journal.append(entry)
            if msg["type"] != "pose" or msg.get("ack"):  # poses: acked when asked
                replies.append((key, message("ack", ref=ref, of=msg["type"], tick=tick_at,
                                             **(extra or {}))))
        if self.status == "running":
            self._advance(period, events)
        if self._bodies:
            self._refresh_avatars(changed_avatars)
        if self.recorder is not None and not self.recorder.closed:
            try:
                self.recorder.frame(self.drill, events, log)
                if self.status in ("finished", "ended"):
                    self.close_recording()
            except OSError as exc:  # a full disk stops the recording, never the drill
                logging.getLogger(__name__).error("recording %s stopped: %s",
                                                  self.recorder.path, exc)
                self.recorder = None
        sample = CrowdSample.of(self.drill)
        agents: dict[View, dict[str, Any]] = {}
        moved = 0
        fresh = set()
        for view in views:
            enc = self.encoders.get(view)
            if enc is None:  # a view nobody had: its clients start from a snapshot
                enc = self.encoders[view] = AgentEncoder(view)
                enc.reset(sample)
                fresh.add(view)
            agents[view], n = enc.delta(sample)
            moved = max(moved, n)
        for view in [v for v in self.encoders if v not in agents]:
            del self.encoders[view]  # nobody receives it any more
        self.seq += 1
        base = message("delta", seq=self.seq, tick=self.drill.tick,
                       t=round(self.drill.time, 3), ts=ts)
        now = self._public_state(sample)
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
        if self.live.script_changed and not self.script.blind:
            base["script"] = self.live.script()
        priv = dict(base)
        if self.live.script_changed:
            priv["script"] = self.live.script()
            self.live.script_changed = False
        over = self.status in ("finished", "ended")
        plan = self._plan_now(force=bool(pending) or (over and not self._plan_final))
        self._plan_final = over
        if plan != self._last_plan:
            priv["plan"] = self._last_plan = plan
        if log:
            priv["log"] = log
        if reports:
            priv["reports"] = reports
        frames = {stream(role, view): encode({**head, **agents[view]})
                  for view in views
                  for role, head in (("participant", base), ("observer", priv))}
        if snapshot or fresh:
            want = set(views) if snapshot_views is None else snapshot_views | fresh
            snaps = self.snapshots(ts, [v for v in views if v in want], sample)
        else:
            snaps = None
        return TickResult(seq=self.seq, ts=ts, frames=frames, snapshots=snaps, replies=replies,
                          moved=moved, step_s=time.perf_counter() - t0)

    def _routes_this_tick(self, pending: list[tuple[Any, Seat, dict[str, Any]]],
                          replies: list[tuple[Any, dict[str, Any]]],
                          ) -> list[tuple[Any, Seat, dict[str, Any]]]:
        """The messages to apply now: a click-to-go costs a route field (tens of ms), so a
        ``move`` that a later one of the same seat supersedes is acknowledged but not
        applied, and beyond :data:`MAX_ROUTES_PER_TICK` the rest of those seats' messages
        wait for the next tick (in order), so that no client can slow the tick down."""
        last_move = {id(seat): i for i, (_, seat, m) in enumerate(pending) if m["type"] == "move"}
        now, later, waiting = [], [], set()
        routes = 0
        for i, (key, seat, msg) in enumerate(pending):
            if id(seat) in waiting:
                later.append((key, seat, msg))
                continue
            if msg["type"] == "move" and last_move[id(seat)] != i:
                replies.append((key, message("ack", ref=msg.get("ref"), of="move",
                                             tick=self.drill.tick, superseded=True)))
                continue
            if msg["type"] == "move" and "to" in msg:
                if routes >= MAX_ROUTES_PER_TICK:
                    waiting.add(id(seat))
                    later.append((key, seat, msg))
                    continue
                routes += 1
            now.append((key, seat, msg))
        if later:
            with self._lock:
                self._pending[:0] = later
        return now

    def snapshots(self, ts: float, views: Any = (ALL,),
                  sample: CrowdSample | None = None) -> dict[Any, dict[str, Any]]:
        """Full state as of the last tick, per audience and view (keyed as
        :attr:`TickResult.frames`; call from the tick thread)."""
        base = message("snapshot", seq=self.seq, tick=self.drill.tick,
                       t=round(self.drill.time, 3), ts=ts,
                       avatars={str(p): a for p, a in self.avatars.items()},
                       marks=list(self.marks[-500:]), **self._public_state(sample))
        if not self.script.blind:
            base["script"] = self.live.script()
        priv = dict(base, reports=list(self.reports[-200:]), log=list(self.journal[-200:]),
                    script=self.live.script(), curve=self._curve(), plan=self._last_plan)
        out: dict[Any, dict[str, Any]] = {}
        for view in views:
            agents = (self.encoders[view] if view in self.encoders else self.encoder).snapshot()
            out[stream("participant", view)] = dict(base, agents=agents)
            out[stream("observer", view)] = dict(priv, agents=agents)
        return out

    def _plan_now(self, *, force: bool = False) -> list[dict[str, Any]]:
        """The plan's steps with their state now (re-evaluated once a simulated second)."""
        return self.live.plan(self.drill, force=force)

    def _curve(self) -> list[list[float]]:
        """[t s, evacuated] at every simulated second so far."""
        return [list(p) for p in self.live.curve]

    def welcome(self, seat: Seat, glb_url: str) -> dict[str, Any]:
        """The ``welcome`` message for a seat: the scene and who it is; the state follows
        as a ``snapshot`` message."""
        for used in seat.stale:
            if self._by_resume.get(used) is seat:
                del self._by_resume[used]
        seat.stale.clear()
        msg = message("welcome", drill=self.id, role=seat.role, participant_id=seat.pid,
                      resume_token=seat.resume, name=seat.name, scene=self.scene, glb=glb_url,
                      dt=self.drill.dt, blind=self.script.blind, status=self.status,
                      agent=seat.agent, max_speed=MAX_SPEED)
        if seat.role != "participant" or not self.script.blind:
            msg["script"] = self.live.script()
        return msg

    # ------------------------------------------------------------------ internals

    def _public_state(self, sample: CrowdSample | None = None) -> dict[str, Any]:
        sample = sample or CrowdSample.of(self.drill)
        return {"status": self.status, "speed": self.speed, "total": self.drill.total,
                "floor_counts": sample.floor_counts(len(self.scenario.scene.floors)),
                "exit_counts": exit_counts(self.drill.exit_used, len(self.drill.exit_open)),
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
            for i in self.live.due(d.time):
                self._fire_script(i, "script", events)
            for e in d.step():
                if e["type"] != "evacuated":
                    events.append(e)
                elif e["agent"] in self._bodies:  # a person got out
                    seat = self._bodies[e["agent"]]
                    events.append({"t": e["t"], "type": "person_out", "pid": seat.pid,
                                   "name": seat.name, "exit": e["exit"], "agent": e["agent"]})
            self._budget -= d.dt
            steps += 1
        self._budget = min(self._budget, d.dt)  # a slow machine slows the drill, no spiral
        self.live.after_step(d)
        if d.done():
            self.status = "finished"

    def _apply(self, seat: Seat, msg: dict[str, Any], *, events: list[dict[str, Any]],
               marks: list[dict[str, Any]], reports: list[dict[str, Any]],
               changed_avatars: set[int], avatars_gone: list[int]) -> dict[str, Any] | None:
        """Apply one message at the tick boundary; returns extra fields for its ``ack``."""
        kind = msg["type"]
        d = self.drill
        live = self.status in ("ready", "running", "paused")
        if kind == "_leave":
            if self.avatars.pop(seat.pid, None) is not None:
                avatars_gone.append(seat.pid)
            if seat.agent is not None and seat.agent in self._bodies:
                del self._bodies[seat.agent]
                if live and d.exit_used[seat.agent] < 0:
                    # Nobody steers it any more: the simulation walks it out.
                    events.extend(d.apply({"type": "release", "agent": seat.agent}))
            return None
        if kind == "_embody":
            self._embody(seat, events, changed_avatars)
            return None
        if kind == "move":
            return self._move(seat, msg)
        if kind == "pose" and self.status == "ended":
            raise ProtocolError("state", "the drill has ended; 'pose' is refused")
        floors = len(self.scenario.scene.floors)
        if kind == "pose" and msg.get("floor", 0) >= floors:
            raise ProtocolError("bad_field", f"pose: floor {msg['floor']} does not exist (this "
                                f"drill has floors 0 to {floors - 1})")
        if kind == "pose" and seat.agent is not None:
            self._pose_of_body(seat, msg, changed_avatars)
            return None
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
        if kind == "end" and self.status == "finished":  # everyone is out: end it now
            self.status = "ended"
            return None
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
            self._check_near_door(seat, msg["id"])
            events.extend(d.apply({"type": "door", "exit": msg["id"],
                                   "open": msg["action"] == "open", "by": seat.pid}))
        elif kind == "inject":
            events.extend(d.apply({"type": "inject", "event": dict(msg["event"]),
                                   "by": seat.pid}))
            self.injects += 1
        elif kind in ("script_fire", "script_skip"):
            i = msg["index"]
            if not 0 <= i < len(self.script.injects):
                raise ProtocolError("bad_field", f"no scripted inject {i} (the timeline has "
                                    f"{len(self.script.injects)})")
            if self.live.script_state[i] != "pending":
                raise ProtocolError("state", f"scripted inject {i} has already "
                                    f"{self.live.script_state[i]}", reason="script_done",
                                    detail={"index": i, "state": self.live.script_state[i]})
            if kind == "script_skip":
                self.live.mark(i, "skipped")
            else:
                self._fire_script(i, seat.pid, events)
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
        return None

    # ------------------------------------------------------------------ people in the crowd

    def _spawn_near(self, seat: Seat) -> tuple[int, tuple[float, float]]:
        """Where a participant's avatar is put: a ``[drill] spawn`` point, else the area of
        a group (in turn by participant), as (floor index, (x, y) m)."""
        spawn = self.script.spawn
        if spawn:
            x, y, fi = spawn[(seat.pid - 1) % len(spawn)]
            return int(fi), (float(x), float(y))
        groups = self.scenario.groups
        if not groups:
            f = self.scenario.scene.floors[0]
            p = f.area.representative_point()
            return 0, (p.x, p.y)
        g = groups[(seat.pid - 1) % len(groups)]
        p = g.area.representative_point()
        return g.floor, (p.x, p.y)

    def _embody(self, seat: Seat, events: list[dict[str, Any]],
                changed_avatars: set[int]) -> None:
        seat.ready = True
        if seat.agent is not None or self.status not in ("ready", "running", "paused"):
            return
        fi, near = self._spawn_near(seat)
        try:
            evs = self.drill.apply({"type": "person_join", "floor": fi, "near": list(near),
                                    "name": seat.name, "pid": seat.pid})
        except SimError as exc:
            logging.getLogger(__name__).warning("no avatar for %s: %s", seat.name, exc)
            return
        seat.agent = int(evs[0]["agent"])
        self._bodies[seat.agent] = seat
        self.avatars[seat.pid] = {"name": seat.name, "agent": seat.agent, "inside": True}
        self._refresh_avatars(changed_avatars)

    def _check_spawn(self) -> None:
        """Every ``[drill] spawn`` point lies on a floor's walkable area (ScenarioError)."""
        floors = self.scenario.scene.floors
        for i, (x, y, fi) in enumerate(self.script.spawn):
            if fi >= len(floors) or not walkable(floors[fi], x, y):
                where = (f"floor index {fi} does not exist" if fi >= len(floors) else
                         f"({x:g}, {y:g}) is not walkable on floor '{floors[fi].id}'")
                raise ScenarioError(where, source=self.scenario.source,
                                    field=f"drill.spawn[{i}]")

    def _body_row(self, seat: Seat) -> int:
        """The crowd row of a seat's avatar; ProtocolError ``refused`` if it has none."""
        d = self.drill
        if seat.agent is None:
            raise ProtocolError("refused", "you have no avatar in the crowd (only participants "
                                "who joined a live drill walk in it)", reason="no_avatar")
        if d.exit_used[seat.agent] >= 0:
            ex = d.scene.exits[int(d.exit_used[seat.agent])].id
            t = round(float(d.exit_time[seat.agent]), 1)
            raise ProtocolError("refused", f"you have left the building by exit '{ex}' at "
                                f"{t:.1f} s", reason="left_building", detail={"exit": ex, "t": t})
        if seat.agent not in self._bodies:
            raise ProtocolError("refused", "your avatar is no longer yours to steer",
                                reason="no_avatar")
        return int(np.searchsorted(d.crowd.id, seat.agent))

    def _move(self, seat: Seat, msg: dict[str, Any]) -> dict[str, Any] | None:
        if ("dir" in msg) == ("to" in msg):
            raise ProtocolError("bad_field", "move needs exactly one of dir [dx, dy] or to [x, y]")
        self._body_row(seat)
        if self.status != "running":
            why = {"ready": "has not started yet", "paused": "is paused"}.get(
                self.status, f"is {self.status}")
            raise ProtocolError("state", f"the drill {why}; you cannot walk now",
                                reason="not_running", detail={"status": self.status})
        speed = float(msg.get("speed", MAX_SPEED))
        cmd: dict[str, Any] = {"type": "steer", "agent": seat.agent,
                               "speed": min(speed, MAX_SPEED)}
        if "to" in msg:
            cmd["to"] = [float(v) for v in msg["to"]]
        else:
            cmd["dir"] = [float(v) for v in msg["dir"]]
        try:
            self.drill.apply(cmd)
        except SimError as exc:
            if "to" not in cmd:
                raise
            x, y = cmd["to"]
            raise ProtocolError("refused", str(exc), reason="not_walkable",
                                detail={"x": round(x, 1), "y": round(y, 1)}) from None
        return {"clipped": True, "max_speed": MAX_SPEED} if speed > MAX_SPEED else None

    def _pose_of_body(self, seat: Seat, msg: dict[str, Any], changed_avatars: set[int]) -> None:
        """A participant's ``pose``: the head (VR) and heading are taken, the position is
        the server's (a far one is refused as a teleport)."""
        d = self.drill
        row = self._body_row(seat)
        x, y, _ = msg["position"]
        px, py = d.crowd.pos[row]
        if math.hypot(x - px, y - py) > POSE_SLACK:
            raise ProtocolError("refused", f"teleport refused: your avatar is at ({px:.1f}, "
                                f"{py:.1f}); walk with 'move'", reason="teleport",
                                detail={"x": round(float(px), 1), "y": round(float(py), 1)})
        pose = self.avatars.setdefault(seat.pid, {"name": seat.name, "agent": seat.agent})
        if "head" in msg:
            pose["head"] = [round(c * 10000) for c in msg["head"]]
        changed_avatars.add(seat.pid)

    def _check_near_door(self, seat: Seat, exit_id: str) -> None:
        if seat.agent is None or seat.role != "participant":
            return
        d = self.drill
        row = self._body_row(seat)
        try:
            ex = d.scene.exits[d.scene.exit_index(exit_id)]
        except KeyError:
            return  # the drill refuses it with its own message
        far = float(shapely.distance(ex.polygon, shapely.Point(d.crowd.pos[row])))
        other = ex.floor != int(d.crowd.floor[row])
        if other or far > DOOR_REACH:
            raise ProtocolError("refused", f"exit '{exit_id}' is {far:.0f} m away"
                                + (" on another floor" if other else "")
                                + f"; walk within {DOOR_REACH:.0f} m of it to open or close it",
                                reason="door_far_floor" if other else "door_far",
                                detail={"exit": exit_id, "distance": round(far),
                                        "reach": DOOR_REACH})

    def _refresh_avatars(self, changed_avatars: set[int]) -> None:
        """Put the avatars' positions (from the crowd) into their poses; note changes."""
        d: _Drill = self.drill  # type: ignore[assignment]
        c = d.crowd
        elev = [f.elevation for f in d.scene.floors]
        for agent, seat in self._bodies.items():  # a handful of people, not the crowd
            pose = self.avatars.get(seat.pid)
            if pose is None:
                continue
            out = int(d.exit_used[agent])
            if out >= 0:
                new = {**pose, "inside": False, "exit": d.scene.exits[out].id,
                       "out_t": round(float(d.exit_time[agent]), 3)}
            else:
                row = int(np.searchsorted(c.id, agent))
                if c.state[row] == State.ON_STAIRS:  # along the stair
                    xyz = d.stairs.positions(d, np.array([row]))[0]
                else:
                    xyz = (*c.pos[row], elev[int(c.floor[row])])
                hx, hy = c.heading[row]
                new = {**pose, "pos": [round(v * 100) for v in xyz],
                       "heading": round(math.atan2(hy, hx) * 1000),
                       "floor": int(c.floor[row]), "inside": True}
            if new != pose:
                self.avatars[seat.pid] = new
                changed_avatars.add(seat.pid)

    def _fire_script(self, index: int, by: Any, events: list[dict[str, Any]]) -> None:
        """Apply scripted inject ``index`` now (its time came, or an instructor fired it)."""
        event = dict(self.script.injects[index][1])
        self.live.mark(index, "fired")
        self.injects += 1
        try:
            events.extend(self.drill.apply({"type": "inject", "event": event, "by": by,
                                            "script": index}))
        except SimError as exc:
            events.append({"t": round(self.drill.time, 6), "type": "script_error",
                           "index": index, "message": str(exc)})

    def _transition(self, src: str, dst: str) -> None:
        if self.status != src:
            raise ProtocolError("state", f"the drill is {self.status}, not {src}")
        self.status = dst
