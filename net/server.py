"""The authoritative drill server: a thin websockets pump around :class:`net.room.Room`.

Each connection is a :class:`Session` with a bounded outbox drained by its own writer
task. Each hosted drill ticks in a thread of its own at a fixed rate (nothing a client
asks for queues behind it) and the frames are fanned out on the event loop; rendered
views run in a small bounded pool, one per client at a time. Nothing a client sends can
stall the tick or reach another client: refused messages become ``error`` messages,
repeated abuse closes that connection (code 1008). Poses are state, not requests: the
latest of each seat per tick is applied, and they never count as abuse.

A drill ends when the instructor ends it or nobody has been connected for
``idle_timeout``: its tick stops, its recording is closed, its clients get ``ended`` and
its slot is free; what is left is a small record (the report, where the recording is).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import ipaddress
import logging
import re
import secrets
import socket
import threading
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from net.errors import NetError, ProtocolError
from net.ops import Metrics, OpsLog
from net.protocol import (
    MAX_MESSAGE,
    SCHEMAS,
    allowed,
    article,
    encode,
    message,
    safe_ref,
    unpack,
    validate,
)
from net.room import Room, Seat, TickResult, stream
from net.script import load_drill
from net.state import ALL, View
from net.web_files import (
    WebFiles,
    bytes_response,
    error_page,
    file_response,
    json_response,
    split_path,
)
from sim.errors import SimError
from sim.scenario import builtin_names

__all__ = ["DrillServer", "ServerConfig", "Session", "parse_public_url", "report_dir"]

log = logging.getLogger(__name__)

METRICS_TYPE = "text/plain; version=0.0.4; charset=utf-8"
"""Content type of ``/metrics`` (the Prometheus text exposition format)."""
MAX_LOGGED_REFUSALS = 20
"""Refusals of one connection written to the operations log (the rest are counted)."""
MAX_TICK_FAILURES = 50
"""Ticks in a row that may fail (a bug, logged) before the drill is ended (reason error)."""
MAX_VIEWS = 16
"""Different views (``subscribe``) one drill codes its state for, at most."""
_CONTROL, _STATE, _CLOSE = 0, 1, 2
"""Kinds of outbox entries: a control message, a state frame (may be dropped for a
snapshot), the close of the connection once everything before it is sent."""


@dataclass(frozen=True, kw_only=True)
class ServerConfig:
    """Limits and rates of a server (safe defaults)."""

    host: str = "127.0.0.1"
    port: int = 8765
    """TCP port; 0 picks a free one."""
    tick_hz: float = 10.0
    """Server ticks per second (state frames per client per second)."""
    max_message: int = MAX_MESSAGE
    """Largest inbound message accepted, bytes (bigger ones get ``too_large``)."""
    hard_max_message: int = 1 << 20
    """Frames above this are not even read: the connection closes (1009)."""
    max_state_queue: int = 8
    """State frames queued per client before it is dropped to the latest snapshot."""
    max_control_queue: int = 512
    """Control messages (acks, errors) queued per client before it is disconnected."""
    rate: float = 100.0
    """Messages per second a client may send (token bucket) ..."""
    burst: float = 200.0
    """... with bursts of this many (poses within ``pose_rate`` are not counted)."""
    pose_rate: float = 300.0
    """Poses per second that never count toward ``rate`` (a headset poses at its display
    rate, up to 240 Hz); only the latest pose of a tick is applied."""
    abuse_burst: float = 50.0
    """Refused messages tolerated in a burst before the connection is closed ..."""
    abuse_rate: float = 2.0
    """... regained per second."""
    join_timeout: float = 10.0
    """Seconds a connection may stay without joining a drill."""
    blind: bool | None = None
    """Override the scenario's blind mode for drills created by this server."""
    max_drills: int = 32
    """Live drills (replays included) one server hosts at most; ended ones do not count."""
    idle_timeout: float = 1800.0
    """A drill with no client connected for this long, s, ends itself."""
    keep_ended: int = 200
    """Ended drills remembered (their info, report and ``ended`` answer); older are forgotten."""
    render_workers: int = 2
    """Rendered views (``view_request``) made at the same time, server-wide ..."""
    render_queue: int = 2
    """... and waiting for a worker; beyond that a request gets ``error {code: busy}``."""
    write_limit: int = 64 * 1024
    """Bytes buffered per connection before a send waits (websockets ``write_limit``)."""
    record_dir: str | None = None
    """Folder into which every drill hosted is recorded (None: not recorded)."""
    send_buffer: int | None = None
    """SO_SNDBUF of client sockets, bytes (None: the system's); small values make slow
    clients show up sooner (tests)."""
    web_root: str | None = None
    """Folder of the browser client served at ``/`` and ``/web/`` (None: ``net/web``)."""
    certfile: str | None = None
    """PEM certificate (chain): serve HTTPS and WSS instead of HTTP and WS (None: plain)."""
    keyfile: str | None = None
    """PEM private key of ``certfile`` (None: it is in ``certfile``)."""
    public_url: str | None = None
    """``http(s)://host[:port][/prefix]``: the base of every address the server advertises
    (join links, ``url``, ``glb``), e.g. behind a proxy (None: ``host`` and ``port``)."""
    report: bool = True
    """Write the evaluation report of a recorded drill once it ends (``/drills/ID/report/``)."""
    log_json: bool = False
    """Operations log (logger ``net.ops``) as JSON lines instead of ``key=value`` text."""
    forecast: bool = False
    """Answer instructors' ``forecast`` requests on a Dask cluster (:mod:`net.forecast`)."""
    scheduler: str | None = None
    """Address of the Dask scheduler forecasts run on (None: a local cluster, started with
    the server, of ``forecast_workers`` processes)."""
    forecast_workers: int | None = None
    """Local cluster: worker processes (None: one per core)."""
    forecast_runs: int = 8
    """Copies a forecast runs when the request does not say."""
    forecast_horizon: float = 1800.0
    """A copy stops this many simulated seconds after the fork at the latest."""
    forecast_after_inject: bool = False
    """Forecast on its own after every inject (the instructor's or the timeline's)."""


class _Bucket:
    """Token bucket: ``take`` succeeds while tokens remain; refills at ``rate`` per second."""

    def __init__(self, rate: float, burst: float):
        self.rate, self.burst = rate, burst
        self.tokens, self.at = burst, time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens < 1.0:
            return False
        self.tokens -= 1.0
        return True


class Session:
    """One client connection: its seat, view, limits and bounded outbox."""

    def __init__(self, ws: ServerConnection, config: ServerConfig,
                 metrics: Metrics | None = None):
        self.ws = ws
        self.config = config
        self.metrics = metrics or Metrics()
        self.room: Room | None = None
        self.seat: Seat | None = None
        self.view: View = ALL
        """The part of the crowd this client receives in full (``subscribe``)."""
        self.pending_welcome = False
        self.resync = False
        """The client missed a state frame: it gets a snapshot at the next tick."""
        self.dropped = 0
        """State frames dropped because the client was too slow."""
        self.rendering = False
        """A view of this client is being rendered (one at a time)."""
        self.refusals = 0
        """Messages of this client refused so far."""
        self.closing = False
        self._outbox: deque[tuple[int, Any]] = deque()
        self._states = 0
        self._wake = asyncio.Event()
        self._rate = _Bucket(config.rate, config.burst)
        self._poses = _Bucket(config.pose_rate, config.pose_rate)
        self._abuse = _Bucket(config.abuse_rate, config.abuse_burst)

    @property
    def peer(self) -> str:
        """The client's address, for the operations log."""
        addr = self.ws.remote_address
        return f"{addr[0]}:{addr[1]}" if isinstance(addr, tuple) else str(addr)

    def push_control(self, msg: dict[str, Any]) -> None:
        """Queue a control message (never dropped; too many queued closes the connection)."""
        self.push_frame(encode(msg))

    def push_frame(self, frame: bytes) -> None:
        if self.closing:
            return
        if len(self._outbox) - self._states >= self.config.max_control_queue:
            self.close(1008, "client does not read its messages")
            return
        self._outbox.append((_CONTROL, frame))
        self._wake.set()

    def push_state(self, frame: bytes) -> None:
        """Queue a state frame; a full queue drops every queued state frame and resyncs."""
        if self.closing:
            return
        if self._states >= self.config.max_state_queue:
            self._outbox = deque(item for item in self._outbox if item[0] != _STATE)
            self.dropped += self._states + 1
            self._states = 0
            self.resync = True
            return
        self._outbox.append((_STATE, frame))
        self._states += 1
        self._wake.set()

    def refuse(self, exc: ProtocolError) -> None:
        """Answer a refused message; repeated abuse closes the connection."""
        self.metrics.refusals[exc.code] += 1
        self.push_control(message("error", ref=exc.ref, **exc.fields()))
        if exc.code != "busy" and not self._abuse.take():  # busy: the server's load
            self.close(1008, "too many refused messages")

    def allow(self, kind: str) -> bool:
        """Whether the client is within its message rate (poses have their own allowance)."""
        return (kind == "pose" and self._poses.take()) or self._rate.take()

    def close(self, code: int, reason: str) -> None:
        """Close the connection now (what is queued is dropped)."""
        if not self.closing:
            self.closing = True
            asyncio.get_running_loop().create_task(self.ws.close(code, reason))

    def finish(self, code: int, reason: str) -> None:
        """Close the connection once what is queued has been sent."""
        if not self.closing:
            self._outbox.append((_CLOSE, (code, reason)))
            self._wake.set()
            self.closing = True

    async def write_loop(self) -> None:
        """Send queued frames in order until the connection closes."""
        with contextlib.suppress(ConnectionClosed):
            while True:
                while not self._outbox:
                    self._wake.clear()
                    await self._wake.wait()
                kind, frame = self._outbox.popleft()
                if kind == _CLOSE:
                    await self.ws.close(*frame)
                    return
                if kind == _STATE:
                    self._states -= 1
                await self.ws.send(frame)
                self.metrics.bytes_out += len(frame)


@dataclass
class _Report:
    """The evaluation report of a drill: being written, written (files), or failed."""

    files: WebFiles | None = None
    """report.html, report.json and its PNGs, in memory, once written."""
    task: asyncio.Task[None] | None = None
    failed: bool = False


class _Hosted:
    """A live room with its sessions, tick thread and task."""

    def __init__(self, room: Room):
        self.room = room
        self.sessions: set[Session] = set()
        self.task: asyncio.Task[None] | None = None
        self.ticker = ThreadPoolExecutor(1, thread_name_prefix=f"tick-{room.id}")
        """The drill's own tick thread: nothing else runs in it."""
        self.stats: deque[TickResult] = deque(maxlen=100)
        self.report = _Report()
        self.idle_since: float | None = time.monotonic()
        """When the last client left (monotonic s), or None while one is connected."""
        self.stop: str | None = None
        """Why the drill is to end (idle, server) when not by its own ``end``."""
        self.want_snapshot = False
        """A client subscribed to another view: it gets a snapshot next tick."""
        self.forecast: dict[str, Any] | None = None
        """The forecast being computed (id, runs, done), or None."""
        self.forecasts = 0
        """Forecasts started so far (numbers them, and their seeds)."""
        self.forecast_again = False
        """An inject came while a forecast was running: forecast again once it is done."""
        self.injects_seen = 0
        """The room's inject count when the last forecast was started."""


@dataclass
class _Ended:
    """What is kept of an ended drill: enough to answer its clients, info and report."""

    drill: str
    scenario: str
    reason: str
    """instructor, idle or server."""
    t: float
    """Simulated time at the end, s."""
    agents: int
    replay: bool
    recording: str | None
    tokens: dict[str, str]
    resumes: set[str]
    report: _Report
    ended_at: float = field(default_factory=time.time)

    def ended_message(self, http_url: str, *, report_on: bool, ref: Any = None,
                      ) -> dict[str, Any]:
        """The ``ended`` message for a client of this drill."""
        recorded = self.recording is not None and not self.replay
        return message("ended", ref=ref, drill=self.drill, scenario=self.scenario,
                       reason=self.reason, t=round(self.t, 3), recording=self.recording,
                       report=(f"{http_url}/drills/{self.drill}/report/"
                               if recorded and report_on and not self.report.failed else None))


class DrillServer:
    """Hosts drills over WebSocket: ``await start()``, then ``url``, ``add_drill``, ``close``."""

    def __init__(self, config: ServerConfig | None = None):
        self.config = config or ServerConfig()
        self.hosted: dict[str, _Hosted] = {}
        self.ended: dict[str, _Ended] = {}
        """Drills that have ended (newest last), by id."""
        self.catalogue: dict[str, str] = {n: n for n in builtin_names()}
        """Scenario names an instructor may ``create`` a drill from -> name or path."""
        self._server: Server | None = None
        self._glb: dict[str, bytes] = {}
        self.web = WebFiles({})
        """The browser client's files, read when the server starts."""
        self.port = self.config.port
        self.public_base = (None if self.config.public_url is None
                            else parse_public_url(self.config.public_url))
        """``config.public_url`` normalised (no trailing slash), or None."""
        self._prefix = urlsplit(self.public_base).path if self.public_base else ""
        self.metrics = Metrics()
        self.ops = OpsLog(json_lines=self.config.log_json)
        """The operations log: one line per join, leave, command, refusal, drill."""
        self._renders = ThreadPoolExecutor(max(1, self.config.render_workers),
                                           thread_name_prefix="render")
        self._rendering = 0
        """Views being rendered or waiting for a render worker."""
        self.forecaster: Any = None
        """A :class:`net.forecast.Forecaster` when ``config.forecast``, else None."""
        self._forecast_start: asyncio.Task[None] | None = None

    @property
    def secure(self) -> bool:
        """Whether the server speaks TLS (HTTPS and WSS)."""
        return self.config.certfile is not None

    @property
    def public_host(self) -> str:
        """The address clients are told to use (a wildcard address becomes this machine's)."""
        return _reachable(self.config.host)

    @property
    def url(self) -> str:
        """ws:// (wss:// over TLS or behind an https ``public_url``) address of the server."""
        base = self.http_url
        return ("wss" if base.startswith("https:") else "ws") + base[base.index(":"):]

    @property
    def http_url(self) -> str:
        """http(s):// address of the server (same port: the browser client and scene files);
        ``public_url`` when given."""
        if self.public_base is not None:
            return self.public_base
        return f"{'https' if self.secure else 'http'}://{self.public_host}:{self.port}"

    async def start(self) -> None:
        """Start listening (after reading the browser client's files)."""
        tls = None
        if self.config.certfile is not None:
            from net.tls import server_context

            tls = server_context(self.config.certfile, self.config.keyfile)
        self.web = await asyncio.to_thread(WebFiles.load, self.config.web_root)
        where: dict[str, Any] = {"host": self.config.host, "port": self.config.port}
        if self.config.send_buffer is not None:
            sock = socket.create_server((self.config.host, self.config.port))
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, self.config.send_buffer)
            where = {"sock": sock}  # accepted sockets inherit the buffer size
        self._server = await serve(
            self._handle, compression=None, max_size=self.config.hard_max_message,
            process_request=self._http, ping_interval=20, ping_timeout=20,
            write_limit=self.config.write_limit, ssl=tls, **where)
        self.port = self._server.sockets[0].getsockname()[1] if self._server.sockets else 0
        await self._start_forecasts()

    async def _start_forecasts(self) -> None:
        """Connect to ``config.scheduler`` now (NetError if it cannot be reached), or start
        the local forecast cluster in the background (forecasts wait for it)."""
        if not self.config.forecast:
            return
        from net.forecast import Forecaster

        self.forecaster = Forecaster(self.config.scheduler, workers=self.config.forecast_workers)
        if self.config.scheduler:
            await asyncio.to_thread(self.forecaster.start)
        else:
            self._forecast_start = asyncio.get_running_loop().create_task(
                asyncio.to_thread(self.forecaster.start))

    async def close(self) -> None:
        """End every drill (its clients are told: ``ended``, reason ``server``) and close
        every connection."""
        hosted = list(self.hosted.values())
        for h in hosted:
            h.stop = h.stop or "server"
        tasks = [h.task for h in hosted if h.task is not None]
        if tasks:  # each ends within a tick: recording closed, clients told
            await asyncio.wait(tasks, timeout=10.0)
        for h in hosted:
            if h.task is not None and not h.task.done():
                h.task.cancel()
                await asyncio.to_thread(h.room.end)
            h.ticker.shutdown(wait=False)
        await asyncio.sleep(0.05)  # let the writers send the ended messages
        for e in [*hosted, *self.ended.values()]:
            if e.report.task:  # the worker thread finishes the files; nobody serves them
                e.report.task.cancel()
        self._renders.shutdown(wait=False, cancel_futures=True)
        if self.forecaster is not None:
            if self._forecast_start is not None:
                with contextlib.suppress(Exception):
                    await self._forecast_start
            await asyncio.to_thread(self.forecaster.close)
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def add_drill(self, scenario: str | Path, *, seed: int | None = None) -> Room:
        """Load a scenario (a built-in name or a .toml path) and host it as a new drill."""
        def build() -> Room:
            from sim.agents.kernels import warm_up

            warm_up()  # the crowd step's kernels compile (first run) or load here, off the tick
            sc, script = load_drill(scenario)
            if self.config.blind is not None:
                script = dataclasses.replace(script, blind=self.config.blind)
            return Room(secrets.token_hex(4), sc, script, seed=seed,
                        record=self.config.record_dir)

        room = await asyncio.to_thread(build)
        self.catalogue.setdefault(room.scenario.name, str(scenario))
        self.host(room)
        if self.forecaster is not None:
            asyncio.get_running_loop().create_task(self._warm_forecasts(self.hosted[room.id]))
        return room

    def host(self, room: Room) -> Room:
        """Host an already built room (a live drill or a replay) and start its tick."""
        hosted = _Hosted(room)
        self.hosted[room.id] = hosted
        hosted.task = asyncio.get_running_loop().create_task(self._run(hosted))
        self.metrics.drills_created += 1
        self.ops("drill_started", drill=room.id, scenario=room.scenario.name,
                 agents=int(room.drill.total), replay=hasattr(room, "recording"),
                 recording=str(room.recorder.path) if room.recorder is not None else None)
        return room

    def info(self, room: Room) -> dict[str, Any]:
        """The join information of a drill: id, url, one token per role, and the page
        (``web``) with one browser join link per role (``links``)."""
        web = f"{self.http_url}/drills/{room.id}/"
        return {"drill": room.id, "url": self.url, "scenario": room.scenario.name,
                "tokens": dict(room.tokens), "web": web,
                "links": {role: f"{web}?token={quote(token, safe='')}"
                          for role, token in room.tokens.items()}}

    # ------------------------------------------------------------------ tick loop

    async def _run(self, hosted: _Hosted) -> None:
        loop = asyncio.get_running_loop()
        period = 1.0 / self.config.tick_hz
        room = hosted.room
        next_at = loop.time()
        last_expire = next_at
        snapshot = False
        failures = 0
        try:
            while hosted.stop is None and room.status != "ended":
                next_at += period
                views = {s.view for s in hosted.sessions} or {ALL}
                wants = {s.view for s in hosted.sessions if s.pending_welcome or s.resync}
                try:
                    res = await loop.run_in_executor(hosted.ticker, functools.partial(
                        room.tick, period, snapshot=snapshot, views=views,
                        snapshot_views=wants))
                    hosted.stats.append(res)
                    self.metrics.tick(res.step_s)
                    self._fan_out(hosted, res)
                    self._watch_end(hosted)
                    if self.config.forecast_after_inject and room.injects != hosted.injects_seen:
                        self._forecast_now(hosted, by="inject")
                    failures = 0
                except Exception:  # noqa: BLE001 - a bug must not silently stop the drill
                    failures += 1
                    log.exception("tick of drill %s failed (%d in a row)", room.id, failures)
                    if failures >= MAX_TICK_FAILURES:
                        hosted.stop = "error"
                snapshot = hosted.want_snapshot or any(
                    s.pending_welcome or s.resync for s in hosted.sessions)
                hosted.want_snapshot = False
                now = loop.time()
                if now - last_expire > 1.0:
                    room.expire_seats()
                    last_expire = now
                    if (hosted.idle_since is not None
                            and time.monotonic() - hosted.idle_since >= self.config.idle_timeout):
                        hosted.stop = "idle"
                delay = next_at - now
                if delay < 0:
                    next_at = now  # late: do not try to catch up with a burst of ticks
                await asyncio.sleep(max(delay, 0.0))
        except asyncio.CancelledError:
            if hosted.stop != "server":
                raise
            return
        await self._retire(hosted, hosted.stop or "instructor")

    async def _retire(self, hosted: _Hosted, reason: str) -> None:
        """The drill has ended: close its recording, tell its clients, free its slot."""
        room = hosted.room
        await asyncio.get_running_loop().run_in_executor(hosted.ticker, room.end)
        hosted.ticker.shutdown(wait=False)
        self._watch_end(hosted)
        replay = hasattr(room, "recording")
        rec = (str(room.recording.path) if replay  # type: ignore[attr-defined]
               else str(room.recorder.path) if room.recorder is not None else None)
        gone = _Ended(drill=room.id, scenario=room.scenario.name, reason=reason,
                      t=float(room.drill.time), agents=int(room.drill.total), replay=replay,
                      recording=rec, tokens=dict(room.tokens),
                      resumes={s.resume for s in room.seats.values()}, report=hosted.report)
        self.ended[room.id] = gone
        while len(self.ended) > self.config.keep_ended:
            self.ended.pop(next(iter(self.ended)))
        del self.hosted[room.id]
        self._glb.pop(room.id, None)
        from net.view import close_views

        await asyncio.to_thread(close_views, room.id)
        bye = gone.ended_message(self.http_url, report_on=self.config.report)
        for s in hosted.sessions:
            s.push_control(bye)
            s.finish(1000, "drill ended")
        self.metrics.drills_ended[reason] += 1
        self.ops("drill_ended", drill=room.id, reason=reason, t=round(gone.t, 1),
                 clients=len(hosted.sessions), recording=rec)

    def _fan_out(self, hosted: _Hosted, res: TickResult) -> None:
        for key, reply in res.replies:
            if isinstance(key, Session) and not key.closing:
                if reply["type"] == "error":
                    key.metrics.refusals[reply["code"]] += 1
                    self._log_refusal(key, reply)
                key.push_control(reply)
        snap_frames: dict[Any, bytes] = {}
        if res.resync_all and res.snapshots is not None:
            for s in hosted.sessions:
                s.resync = not s.pending_welcome
        for s in list(hosted.sessions):
            if s.closing or s.seat is None:
                continue
            key = stream(s.seat.role, s.view)
            if s.pending_welcome or s.resync:
                if res.snapshots is None or key not in res.snapshots or not s.seat.ready:
                    continue  # ready: the avatar stands in the crowd
                if s.pending_welcome:
                    s.push_control(hosted.room.welcome(s.seat, self._glb_url(hosted.room)))
                    s.pending_welcome = False
                s.resync = False
                if key not in snap_frames:
                    snap_frames[key] = encode(res.snapshots[key])
                s.push_state(snap_frames[key])
                continue
            frame = res.frames.get(key)
            if frame is not None:
                s.push_state(frame)

    def _glb_url(self, room: Room) -> str:
        return f"{self.http_url}/drills/{room.id}/scene.glb"

    # ------------------------------------------------------------------ reports

    def _watch_end(self, hosted: _Hosted) -> None:
        """Once a recorded drill has ended and its recording is closed (``Room._tick`` does
        that), write its evaluation report in a worker thread."""
        rec = getattr(hosted.room, "recorder", None)
        if (hosted.report.task is None and self.config.report and rec is not None
                and rec.closed and hosted.room.status in ("ended", "finished")):
            hosted.report.task = asyncio.get_running_loop().create_task(
                self._write_report(hosted.room.id, hosted.report, Path(rec.path)))

    async def _write_report(self, drill: str, report: _Report, rec_path: Path) -> None:
        out = report_dir(rec_path)
        try:
            report.files = await asyncio.to_thread(_report_files, rec_path, out)
        except Exception:  # noqa: BLE001 - a report that fails never stops the server
            report.failed = True
            log.exception("evaluation report of drill %s (%s) not written", drill, rec_path)
            return
        log.info("evaluation report of drill %s written into %s", drill, out)

    def report_url(self, room: Room | str) -> str | None:
        """Address of a drill's evaluation report once it is written, else None."""
        drill = room if isinstance(room, str) else room.id
        report = self._report_of(drill)
        if report is None or report.files is None:
            return None
        return f"{self.http_url}/drills/{drill}/report/"

    def _report_of(self, drill: str) -> _Report | None:
        hosted = self.hosted.get(drill)
        if hosted is not None:
            return hosted.report
        gone = self.ended.get(drill)
        return gone.report if gone is not None else None

    # ------------------------------------------------------------------ connections

    async def _handle(self, ws: ServerConnection) -> None:
        session = Session(ws, self.config, self.metrics)
        writer = asyncio.get_running_loop().create_task(session.write_loop())
        timer = asyncio.get_running_loop().call_later(
            self.config.join_timeout,
            lambda: session.seat is None and session.close(1008, "no join in time"))
        try:
            async for frame in ws:
                if session.closing:
                    continue  # read on, so that the client's close frame is seen at once
                self._on_frame(session, frame)
        except ConnectionClosed:
            pass
        finally:
            timer.cancel()
            if session.room is not None and session.seat is not None:
                self._left(session)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.shield(writer), 0.5)
            writer.cancel()

    def _left(self, session: Session) -> None:
        assert session.room is not None and session.seat is not None
        hosted = self.hosted.get(session.room.id)
        if hosted is None:  # the drill has ended
            return
        hosted.sessions.discard(session)
        if not hosted.sessions:
            hosted.idle_since = time.monotonic()
        if not any(s.seat is session.seat for s in hosted.sessions):
            # A resumed connection may already hold the seat.
            session.room.leave(session.seat)
        self.ops("leave", drill=session.room.id, pid=session.seat.pid,
                 role=session.seat.role, name=session.seat.name, peer=session.peer,
                 code=session.ws.close_code, refused=session.refusals or None)

    def _on_frame(self, session: Session, frame: bytes | str) -> None:
        """Handle one inbound frame (never raises)."""
        self.metrics.messages_in += 1
        ref = None
        try:
            msg = unpack(frame, max_size=self.config.max_message)
            kind, ref = msg["type"], safe_ref(msg)
            if kind == "pose":
                self.metrics.poses_in += 1
            if not session.allow(kind):
                raise ProtocolError("rate_limited", "too many messages; slow down", ref=ref)
            seat = session.seat
            if seat is not None and kind in SCHEMAS and not allowed(seat.role, kind):
                raise ProtocolError("forbidden", f"{article(seat.role)} may not send '{kind}'",
                                    ref=ref)  # before its fields are looked at
            self._dispatch(session, validate(msg))
        except ProtocolError as exc:
            self._log_refusal(session, exc.fields() | {"ref": exc.ref})
            session.refuse(exc)
        except Exception as exc:  # noqa: BLE001 - the server never dies of one client
            log.exception("unexpected error handling a message")
            session.refuse(ProtocolError("internal", f"internal error ({type(exc).__name__})",
                                         ref=ref))

    def _log_refusal(self, session: Session, err: dict[str, Any]) -> None:
        session.refusals += 1
        if session.refusals > MAX_LOGGED_REFUSALS:  # the leave line gives the count
            return
        seat = session.seat
        self.ops("refused", drill=session.room.id if session.room else None,
                 pid=seat.pid if seat else None, code=err.get("code"), reason=err.get("reason"),
                 message=err.get("message"), peer=session.peer)

    def _dispatch(self, session: Session, msg: dict[str, Any]) -> None:
        kind, ref = msg["type"], msg.get("ref")
        if kind == "join":
            self._join(session, msg)
            return
        if session.seat is None or session.room is None:
            raise ProtocolError("not_joined", "send join first", ref=ref)
        if session.closing:
            return
        seat = session.seat
        if kind == "pose":
            superseded = session.room.submit_pose(session, seat, msg)
            if superseded is not None:
                session.push_control(superseded)
            return
        if kind not in ("ping", "resync", "view_request", "subscribe"):
            self.ops("command", drill=session.room.id, pid=seat.pid, role=seat.role,
                     type=kind, **{k: v for k, v in msg.items() if k not in ("type", "v")})
        if kind == "ping":
            session.push_control(message("pong", ref=ref, t=msg.get("t"), ts=time.time()))
        elif kind == "resync":
            session.resync = True
        elif kind == "subscribe":
            self._subscribe(session, msg)
        elif kind == "create":
            asyncio.get_running_loop().create_task(self._create(session, msg))
        elif kind == "list":
            session.push_control(message("drills", ref=ref, drills=[
                {**self.drill_status(h.room), "links": self.info(h.room)["links"]}
                for h in self.hosted.values()]))
        elif kind == "view_request":
            self._view_request(session, msg)
        elif kind == "forecast":
            self._forecast_request(session, msg)
        else:
            session.room.submit(session, seat, msg)

    def _subscribe(self, session: Session, msg: dict[str, Any]) -> None:
        """Receive the agents of some floors (and a box) in full, counts for the rest."""
        assert session.room is not None
        floors = len(session.room.scenario.scene.floors)
        wanted = msg.get("floors")
        if wanted is not None and max(wanted) >= floors:
            raise ProtocolError("bad_field", f"subscribe: floor {max(wanted)} does not exist "
                                f"(this drill has floors 0 to {floors - 1})", ref=msg.get("ref"))
        chosen = None if wanted is None or set(wanted) == set(range(floors)) else \
            tuple(sorted(set(wanted)))
        box = msg.get("box")
        view = View(chosen, None if box is None else tuple(round(float(c), 1) for c in box))
        hosted = self.hosted.get(session.room.id)
        if view != session.view and hosted is not None:
            if view not in {s.view for s in hosted.sessions} and len(
                    {s.view for s in hosted.sessions}) >= MAX_VIEWS:
                raise ProtocolError("busy", f"this drill serves at most {MAX_VIEWS} different "
                                    "views; subscribe to whole floors", ref=msg.get("ref"))
            session.view = view
            session.resync = True  # the agents of the new view come in a snapshot
            hosted.want_snapshot = True
        session.push_control(message("ack", ref=msg.get("ref"), of="subscribe",
                                     floors=list(chosen) if chosen else None,
                                     box=list(view.box) if view.box else None))

    def _join(self, session: Session, msg: dict[str, Any]) -> None:
        ref = msg.get("ref")
        if session.seat is not None:
            raise ProtocolError("state", "already joined", ref=ref)
        drill = msg.get("drill")
        gone = self.ended.get(drill) if drill else None
        if gone is not None and (msg.get("token") in gone.tokens.values()
                                 or msg.get("resume") in gone.resumes):
            session.push_control(gone.ended_message(self.http_url, report_on=self.config.report,
                                                    ref=ref))
            session.finish(1000, "drill ended")
            return
        hosted = self.hosted.get(drill) if drill else None
        if hosted is None or ("token" in msg) == ("resume" in msg):
            raise ProtocolError("auth", "unknown drill, or wrong or missing token" if drill
                                else "join needs the drill id ('drill') and a token", ref=ref)
        try:
            seat = hosted.room.join(token=msg.get("token"), resume=msg.get("resume"),
                                    name=msg.get("name", ""), avatar=msg.get("avatar", True))
        except ProtocolError as exc:
            raise ProtocolError(exc.code, str(exc), ref=ref) from None
        for other in list(hosted.sessions):
            if other.seat is seat:  # the seat's holder came back on a new connection
                hosted.sessions.discard(other)
                other.close(1000, "seat taken over by a resumed connection")
        session.room, session.seat = hosted.room, seat
        session.pending_welcome = True
        hosted.sessions.add(session)
        hosted.idle_since = None
        self.metrics.joins += 1
        self.ops("join", drill=hosted.room.id, pid=seat.pid, role=seat.role, name=seat.name,
                 resumed="resume" in msg, peer=session.peer)

    async def _create(self, session: Session, msg: dict[str, Any]) -> None:
        ref = msg.get("ref")
        name = msg["scenario"]
        if len(self.hosted) >= self.config.max_drills:
            session.refuse(ProtocolError("limit", f"this server hosts at most "
                                         f"{self.config.max_drills} live drills", ref=ref))
            return
        if name not in self.catalogue:
            session.refuse(ProtocolError("bad_field", f"unknown scenario '{name}' (known: "
                                         f"{', '.join(sorted(self.catalogue))})", ref=ref))
            return
        try:
            room = await self.add_drill(self.catalogue[name])
        except Exception as exc:  # noqa: BLE001 - a scenario that fails is the client's answer
            session.push_control(message("error", code="refused", message=str(exc), ref=ref))
            return
        session.push_control(message("created", ref=ref, **self.info(room)))

    def _view_request(self, session: Session, msg: dict[str, Any]) -> None:
        """Render a view in the bounded pool: one per client at a time, ``busy`` when full."""
        ref = msg.get("ref")
        if session.rendering:
            raise ProtocolError("busy", "your previous view is still being rendered; ask again "
                                "when its frame has come", ref=ref, reason="one_at_a_time")
        limit = self.config.render_workers + self.config.render_queue
        if self._rendering >= limit:
            raise ProtocolError("busy", f"the server is rendering {limit} views; ask again in a "
                                "moment", ref=ref, reason="pool_full", detail={"limit": limit})
        session.rendering = True
        self._rendering += 1
        asyncio.get_running_loop().create_task(self._view(session, msg))

    async def _view(self, session: Session, msg: dict[str, Any]) -> None:
        from net.view import render_view

        ref = msg.get("ref")
        assert session.room is not None
        try:
            fmt, data = await asyncio.get_running_loop().run_in_executor(
                self._renders, render_view, session.room, msg["camera"],
                tuple(msg.get("size", (1280, 720))), msg.get("format", "jpeg"))
        except ProtocolError as exc:
            session.push_control(message("error", ref=ref, **exc.fields()))
            return
        finally:
            session.rendering = False
            self._rendering -= 1
        self.metrics.renders += 1
        session.push_control(message("frame", ref=ref, format=fmt, bytes=data))

    # ------------------------------------------------------------------ forecasts

    def _forecast_request(self, session: Session, msg: dict[str, Any]) -> None:
        """An instructor asks how the evacuation will go on from now (``forecast``)."""
        ref = msg.get("ref")
        assert session.room is not None and session.seat is not None
        hosted = self.hosted.get(session.room.id)
        if self.forecaster is None:
            raise ProtocolError("unavailable", "this server makes no forecasts (it was "
                                "started with --no-forecast)", ref=ref)
        if hosted is None or hasattr(hosted.room, "recording"):
            raise ProtocolError("state", "only a live drill can be forecast, not a replay",
                                ref=ref)
        if hosted.forecast is not None:
            f = hosted.forecast
            raise ProtocolError("busy", f"a forecast of this drill is being computed "
                                f"({f['done']}/{f['runs']} runs); its answer will come",
                                ref=ref, reason="forecast_running", detail=dict(f))
        fid = self._forecast_now(hosted, by=session.seat.pid, ref=ref,
                                 runs=msg.get("runs", self.config.forecast_runs),
                                 horizon=msg.get("horizon", self.config.forecast_horizon),
                                 order=bool(msg.get("order", False)))
        session.push_control(message("ack", ref=ref, of="forecast", id=fid))

    def _forecast_now(self, hosted: _Hosted, *, by: Any, ref: Any = None,
                      runs: int | None = None, horizon: float | None = None,
                      order: bool = False) -> int:
        """Start a forecast of ``hosted`` (or, if one is running, another after it);
        returns its number."""
        hosted.injects_seen = hosted.room.injects
        if hosted.forecast is not None:
            hosted.forecast_again = True
            return hosted.forecasts
        hosted.forecasts += 1
        runs = runs or self.config.forecast_runs
        hosted.forecast = {"id": hosted.forecasts, "runs": runs, "done": 0}
        asyncio.get_running_loop().create_task(self._forecast(
            hosted, hosted.forecast, by=by, ref=ref, horizon=horizon or
            self.config.forecast_horizon, order=order))
        return hosted.forecasts

    async def _warm_forecasts(self, hosted: _Hosted) -> None:
        """Prepare the forecast workers for a new drill (its navigation fields), in the
        background: its first forecast then only runs copies."""
        try:
            if self._forecast_start is not None:
                await self._forecast_start
            snap = (await asyncio.get_running_loop().run_in_executor(
                hosted.ticker, hosted.room.fork_state))[0]
            await asyncio.to_thread(self.forecaster.warm, snap)
        except Exception:  # noqa: BLE001 - a forecast asked for later says what is wrong
            log.warning("forecast workers not prepared for drill %s", hosted.room.id,
                        exc_info=True)

    def _to_instructors(self, hosted: _Hosted, msg: dict[str, Any]) -> None:
        frame = encode(msg)
        for s in hosted.sessions:
            if s.seat is not None and s.seat.role == "instructor":
                s.push_frame(frame)

    async def _forecast(self, hosted: _Hosted, job: dict[str, Any], *, by: Any, ref: Any,
                        horizon: float, order: bool) -> None:
        """Fork the drill, run the copies on the cluster, tell the drill's instructors."""
        from sim.forecast import summarise

        loop = asyncio.get_running_loop()
        room, wall0 = hosted.room, time.monotonic()
        head = {"ref": ref, "id": job["id"], "by": by}
        try:
            if self._forecast_start is not None:
                await self._forecast_start
            snap, t0, ahead = await loop.run_in_executor(hosted.ticker, room.fork_state)
            job["t"] = round(t0, 2)
            self._to_instructors(hosted, message("forecast_progress", **head, t=job["t"],
                                                 done=0, runs=job["runs"]))

            so_far: list[dict[str, Any]] = []

            def progress(run: dict[str, Any]) -> None:
                def tell() -> None:
                    so_far.append(run)
                    job["done"] += 1
                    if room.id not in self.hosted:
                        return
                    early = summarise(so_far, t0=t0)["remaining_s"] if len(so_far) >= 2 \
                        else None  # a first estimate, from the copies done so far
                    self._to_instructors(hosted, message(
                        "forecast_progress", **head, t=job["t"], done=job["done"],
                        runs=job["runs"], remaining_s=early))
                loop.call_soon_threadsafe(tell)

            base = hosted.room.drill.seed * 1_000_003 + 1000 * job["id"]
            runs = await asyncio.to_thread(
                self.forecaster.run, snap, [base + k for k in range(job["runs"])],
                horizon=horizon, commands=ahead, order=order, progress=progress)
            answer = message("forecast_result", **head, **summarise(runs, t0=t0),
                             horizon=horizon, order=order,
                             wall_s=round(time.monotonic() - wall0, 2))
        except Exception as exc:  # noqa: BLE001 - a forecast that fails is an answer too
            if isinstance(exc, NetError):  # the cluster is gone, or the server closes
                log.warning("forecast %d of drill %s failed: %s", job["id"], room.id, exc)
            else:
                log.exception("forecast %d of drill %s failed", job["id"], room.id)
            answer = message("error", ref=ref, code="unavailable", reason="forecast_failed",
                             message=f"the forecast could not be made ({exc})",
                             detail={"id": job["id"]})
        hosted.forecast = None
        if room.id not in self.hosted:  # the drill ended meanwhile
            return
        self._to_instructors(hosted, answer)
        self.ops("forecast", drill=room.id, id=job["id"], by=by, t=job.get("t"),
                 runs=job["runs"], wall_s=round(time.monotonic() - wall0, 2),
                 p50=(answer.get("remaining_s") or {}).get("p50"),
                 p95=(answer.get("remaining_s") or {}).get("p95"))
        if hosted.forecast_again:
            hosted.forecast_again = False
            self._forecast_now(hosted, by="inject")

    async def _http(self, connection: ServerConnection, request: Request) -> Response | None:
        """Plain HTTP on the WebSocket port: the browser client, drill info, the scene.

        ``/`` and ``/drills/ID/`` -> the client's page; ``/web/PATH`` -> its files;
        ``/drills/ID/info.json``; ``/drills/ID/scene.glb`` (glTF binary); ``/healthz`` and
        ``/metrics`` (Prometheus) for whoever runs the server. A WebSocket upgrade is
        accepted on any path.
        """
        if request.headers.get("Upgrade", "").lower() == "websocket":
            return None
        target = self._target(request)
        parts = split_path(target)
        if parts is None:
            return _not_found()
        if parts == ["healthz"]:
            return json_response(await self._health())
        if parts == ["metrics"]:
            return bytes_response((await self._metrics()).encode(), METRICS_TYPE)
        page = self._page_response(parts, target, request)
        if page is not None:
            return page
        return await self._drill_files(parts, target, request)

    async def _health(self) -> dict[str, Any]:
        return self.health()

    async def _metrics(self) -> str:
        return self.metrics.render(self._gauges())

    async def _drill_files(self, parts: list[str], target: str, request: Request) -> Response:
        """``/drills/ID/info.json``, ``scene.glb`` and ``report/…``; 404 for anything else."""
        if parts[0] == "drills" and len(parts) in (3, 4) and parts[2] == "report":
            return self._report_response(parts[1], parts[3:], request)
        if parts[0] == "drills" and len(parts) == 3 and parts[2] in ("info.json", "scene.glb"):
            hosted = self.hosted.get(parts[1])
            if parts[2] == "info.json":
                if hosted is not None:
                    return json_response(self.drill_status(hosted.room))
                if parts[1] in self.ended:
                    return json_response(self.ended_status(self.ended[parts[1]]))
                return json_response({"error": "no such drill"}, 404)
            if hosted is None:
                return _no_drill()
            if hosted.room.id not in self._glb:
                self._glb[hosted.room.id] = await asyncio.to_thread(_glb_bytes, hosted.room)
            return bytes_response(self._glb[hosted.room.id], "model/gltf-binary")
        return _not_found()

    def _target(self, request: Request) -> str:
        """The request's path with a proxy's ``public_url`` prefix taken off."""
        target = request.path
        if self._prefix and (target.split("?", 1)[0] == self._prefix
                             or target.startswith((self._prefix + "/", self._prefix + "?"))):
            target = target[len(self._prefix):] or "/"  # a proxy that keeps the prefix
            if target.startswith("?"):
                target = "/" + target
        return target

    def _page_response(self, parts: list[str], target: str, request: Request
                       ) -> Response | None:
        """The web client's page and files (``/``, ``/drills/ID/``, ``/web/…``), or None."""
        if parts == [] or (parts[0] == "drills" and len(parts) == 2):
            # Also for a drill not (or no longer) here: the page says so in its language.
            if self.web.index is None:
                return error_page(503, "网页客户端未安装", "The web client is not installed",
                                  detail_zh="此服务器未附带网页文件（net/web/）。",
                                  detail_en="This server has no web client files (net/web/).")
            return file_response(self.web.index, request)
        if parts[0] == "web" and len(parts) > 1:
            folder = target.split("?", 1)[0].endswith("/")
            f = None if folder else self.web.get(parts[1:])
            return _not_found() if f is None else file_response(f, request)
        if parts == ["favicon.ico"]:
            f = self.web.get(["favicon.ico"])
            return bytes_response(b"", "image/x-icon") if f is None else file_response(f, request)
        return None

    def health(self) -> dict[str, Any]:
        """What ``/healthz`` says: ok, and how busy the server is."""
        slow = [h.room.id for h in self.hosted.values()
                if h.stats and h.stats[-1].step_s > 1.0 / self.config.tick_hz]
        return {"ok": True, "drills": len(self.hosted), "ended": len(self.ended),
                "clients": sum(len(h.sessions) for h in self.hosted.values()),
                "max_drills": self.config.max_drills, "slow_ticks": slow,
                "rendering": self._rendering}

    def _gauges(self) -> dict[str, float]:
        return {"drills": len(self.hosted),
                "replays": sum(hasattr(h.room, "recording") for h in self.hosted.values()),
                "clients": sum(len(h.sessions) for h in self.hosted.values()),
                "agents": sum(int(h.room.drill.total - h.room.drill.evacuated)
                              for h in self.hosted.values())}

    def _report_response(self, drill: str, rest: list[str], request: Request) -> Response:
        """``/drills/ID/report/`` (report.html) and ``/drills/ID/report/NAME`` (its JSON and
        pictures); a page saying why while there is no report."""
        hosted, gone = self.hosted.get(drill), self.ended.get(drill)
        report = self._report_of(drill)
        if report is None:
            return _no_drill()
        if report.files is None:
            if hosted is not None:
                replay = hasattr(hosted.room, "recording")
                recorded = hosted.room.recorder is not None
            else:
                assert gone is not None
                replay, recorded = gone.replay, gone.recording is not None
            return _no_report(report, replay=replay, recorded=recorded)
        f = report.files.get(rest or ["report.html"])
        return _not_found() if f is None else file_response(f, request)

    def drill_status(self, room: Room) -> dict[str, Any]:
        """What ``/drills/ID/info.json`` says about a hosted drill."""
        report = self._report_of(room.id)
        return {"drill": room.id, "scenario": room.scenario.name, "status": room.status,
                "replay": hasattr(room, "recording"), "agents": int(room.drill.total),
                "report": self.report_url(room),
                "recorded": room.recorder is not None and not hasattr(room, "recording"),
                "report_failed": bool(report and report.failed)}

    def ended_status(self, gone: _Ended) -> dict[str, Any]:
        """What ``/drills/ID/info.json`` says about an ended drill."""
        return {"drill": gone.drill, "scenario": gone.scenario, "status": "ended",
                "replay": gone.replay, "agents": gone.agents, "report": self.report_url(gone.drill),
                "recorded": gone.recording is not None and not gone.replay,
                "report_failed": gone.report.failed, "reason": gone.reason,
                "t": round(gone.t, 3), "recording": gone.recording,
                "ended_at": round(gone.ended_at, 3)}


def _not_found() -> Response:
    return error_page(404, "页面不存在", "Page not found",
                      detail_zh="请检查链接是否完整，或向导调员索取新的参演链接。",
                      detail_en="Check that the link is complete, or ask the instructor for "
                                "a new join link.")


def _no_drill() -> Response:
    return error_page(404, "没有这个演练", "No such drill",
                      detail_zh="演练可能已经结束，或服务器已重启。请向导调员索取新的链接。",
                      detail_en="The drill may have ended or the server restarted. Ask the "
                                "instructor for a new link.")


def _no_report(report: _Report, *, replay: bool, recorded: bool) -> Response:
    if report.failed:
        zh = ("生成报告时出错，请查看服务器日志；也可以用 drill report 录制文件 --out 目录 "
              "重新生成。")
        en = ("Writing the report failed; see the server's log, or write it again with "
              "drill report REC --out DIR.")
    elif report.task is not None:
        zh = "报告正在生成，请稍后刷新本页。"
        en = "The report is being written; reload this page in a moment."
    elif replay:
        zh = "回放不生成在线报告；请用 drill report 录制文件 --out 目录 生成。"
        en = "A replay has no report here; write one with drill report REC --out DIR."
    elif not recorded:
        zh = "本次演练没有录制（--no-record），因此不会生成评估报告。"
        en = "This drill is not recorded (--no-record), so it gets no evaluation report."
    else:
        zh = "演练结束后（导调员结束演练，或全部人员疏散完毕），评估报告会在此生成。请稍后刷新。"
        en = ("The evaluation report appears here once the drill has ended (the instructor "
              "ends it, or everyone is out). Reload this page later.")
    return error_page(404, "报告尚未生成", "The report is not ready yet",
                      detail_zh=zh, detail_en=en)


_REPORT_LOCK = threading.Lock()
"""One report at a time: the figures are drawn with matplotlib's pyplot (not thread-safe)."""


def report_dir(rec_path: str | Path) -> Path:
    """Where the report of a recording goes: ``<rec path without .rec>-report/``."""
    rec_path = Path(rec_path)
    return rec_path.with_name(f"{rec_path.stem}-report")


def _report_files(rec_path: Path, out: Path) -> WebFiles:
    """Write the report of a recording (and its PDF where Chromium is installed)."""
    from sim.report import write_report
    from sim.report.pdf import chromium

    with _REPORT_LOCK:
        try:
            write_report(rec_path, out, stills=False, pdf=chromium() is not None)
        except SimError as exc:  # the PDF could not be printed: the HTML report still counts
            log.warning("PDF of the report of %s not printed: %s", rec_path, exc)
            write_report(rec_path, out, stills=False)
    return WebFiles.load(out)


_HOST_NAME = re.compile(r"^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.?)+$")


def parse_public_url(url: str) -> str:
    """``http(s)://host[:port][/prefix]`` checked and without a trailing slash.

    Raises NetError (saying what is wrong) for another scheme, a missing or malformed host,
    a bad port, a user name, a query or fragment, or a prefix with ``.``/``..`` segments.
    """
    def bad(why: str) -> NetError:
        return NetError(f"--public-url: '{url}' {why} (want http(s)://host[:port][/prefix])")

    if not url or any(c.isspace() or ord(c) < 32 for c in url):
        raise bad("is empty or has spaces")
    try:
        parts = urlsplit(url)
    except ValueError:
        raise bad("is not a URL") from None
    if parts.scheme not in ("http", "https"):
        raise bad("must start with http:// or https://")
    if parts.username is not None or parts.password is not None:
        raise bad("may not carry a user name or password")
    if parts.query or parts.fragment or url.endswith(("?", "#")):
        raise bad("may not have a query or fragment")
    host = parts.hostname or ""
    try:
        port = parts.port
    except ValueError:
        raise bad("has a bad port") from None
    if port == 0 or parts.netloc.endswith(":"):
        raise bad("has a bad port")
    if parts.netloc.count("[") or ":" in host:
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise bad("has a malformed IPv6 address") from None
    elif not _HOST_NAME.match(host):
        raise bad("has no host, or a malformed one")
    prefix = parts.path.rstrip("/")
    if prefix and split_path(prefix) is None:
        raise bad("has a path prefix that cannot be served")
    return f"{parts.scheme}://{parts.netloc.lower()}{prefix}"


def _reachable(host: str) -> str:
    """``host`` as clients should dial it: a wildcard becomes this machine's LAN address
    (or loopback), an IPv6 literal gets its brackets."""
    if host in ("", "0.0.0.0", "::"):
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.connect(("192.0.2.1", 9))  # TEST-NET-1: picks a route, sends nothing
                host = s.getsockname()[0]
        except OSError:
            host = "127.0.0.1"
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def _glb_bytes(room: Room) -> bytes:
    import tempfile

    from sim.scenes.export import export_glb

    with tempfile.TemporaryDirectory() as tmp:
        path = export_glb(room.scenario.scene, Path(tmp) / "scene.glb")
        return Path(path).read_bytes()
