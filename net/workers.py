"""Drills in worker processes behind one port: ``drill serve --workers N``.

Busy drills in one process share one interpreter lock; on a machine with several cores
the simulation steps of different drills should run side by side. :class:`FrontServer`
listens on the public port and starts ``N`` worker processes, each a plain
:class:`net.server.DrillServer` on a loopback port that advertises the front's addresses.
The front

- serves the web client itself (``/``, ``/drills/ID/``, ``/web/…``);
- relays each WebSocket connection, once its ``join`` names a drill, to the worker that
  hosts it, frame for frame both ways (the worker does everything else: roles, limits,
  ticks, the end of the drill; its close code reaches the client);
- answers an instructor's ``create`` (the drill goes to the worker with the fewest live
  drills; ``--max-drills`` counts all of them) and ``list`` (every worker's drills);
- forwards ``/drills/ID/info.json``, ``scene.glb`` and ``report/…`` to the drill's worker,
  and sums the workers up in ``/healthz`` and ``/metrics`` (a ``worker`` label each).

Workers take commands from the front over a pipe (:func:`worker_main`). A worker that
dies takes its drills with it (their clients are disconnected, 1011); the others go on.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import http.client
import logging
import multiprocessing
import re
import time
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.connection import Connection
from typing import Any

from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from net.errors import NetError, ProtocolError
from net.ops import log_to_stderr
from net.protocol import decode, encode, message, safe_ref, unpack
from net.server import DrillServer, ServerConfig, _Bucket, _no_drill, _not_found
from net.web_files import json_response

__all__ = ["FrontServer", "worker_main"]

log = logging.getLogger(__name__)

START_TIMEOUT = 120.0
"""Seconds a worker process may take to start listening."""
_PROXIED_HEADERS = ("Content-Type", "Content-Encoding", "Cache-Control", "ETag", "Vary",
                    "Content-Security-Policy", "Referrer-Policy", "X-Content-Type-Options")


# ---------------------------------------------------------------------- the worker side


def worker_main(config: ServerConfig, conn: Connection) -> None:
    """Entry point of a worker process: host drills, obey the front's commands."""
    log_to_stderr(json_lines=config.log_json)
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C reaches the whole process group
        asyncio.run(_work(config, conn))


async def _work(config: ServerConfig, conn: Connection) -> None:
    server = DrillServer(config)
    await server.start()
    conn.send(("ready", server.port))
    reader = ThreadPoolExecutor(1, thread_name_prefix="front-pipe")
    loop = asyncio.get_running_loop()
    try:
        while True:
            try:
                cmd = await loop.run_in_executor(reader, conn.recv)
            except (EOFError, OSError):  # the front is gone
                return
            if cmd[0] == "stop":
                conn.send(("ok", None))
                return
            try:
                conn.send(("ok", await _command(server, cmd)))
            except Exception as exc:  # noqa: BLE001 - the front gets the reason
                conn.send(("error", str(exc)))
    finally:
        reader.shutdown(wait=False)
        await server.close()


async def _command(server: DrillServer, cmd: tuple[Any, ...]) -> Any:
    kind = cmd[0]
    if kind == "create":
        room = await server.add_drill(cmd[1], seed=cmd[2])
        return {**server.info(room), "agents": int(room.drill.total),
                "recording": str(room.recorder.path) if room.recorder is not None else None}
    if kind == "where":
        return cmd[1] in server.hosted or cmd[1] in server.ended
    if kind == "drills":
        return [{**server.drill_status(h.room), "links": server.info(h.room)["links"]}
                for h in server.hosted.values()]
    if kind == "live":
        return len(server.hosted)
    if kind == "health":
        return server.health()
    if kind == "metrics":
        return server.metrics.render(server._gauges())
    raise NetError(f"unknown worker command {kind!r}")


# ---------------------------------------------------------------------- the front side


class _Worker:
    """A worker process, its pipe and its loopback address."""

    def __init__(self, index: int, process: Any, conn: Connection):
        self.index, self.process, self.conn = index, process, conn
        self.port = 0
        self.lock = asyncio.Lock()

    @property
    def alive(self) -> bool:
        return bool(self.process.is_alive())

    async def call(self, *cmd: Any) -> Any:
        """Run a command in the worker; raises NetError with the worker's reason."""
        if not self.alive:
            raise NetError(f"worker {self.index} has stopped")
        async with self.lock:
            status, value = await asyncio.to_thread(self._round_trip, cmd)
        if status != "ok":
            raise NetError(value)
        return value

    def _round_trip(self, cmd: tuple[Any, ...]) -> tuple[str, Any]:
        self.conn.send(cmd)
        return self.conn.recv()


class FrontServer(DrillServer):
    """The public face of ``workers`` drill-server processes (see the module docstring)."""

    def __init__(self, config: ServerConfig | None = None, *, workers: int = 2):
        super().__init__(config)
        if workers < 2:
            raise NetError(f"a front needs at least 2 workers, got {workers}")
        self.n_workers = workers
        self.workers: list[_Worker] = []
        self.routes: dict[str, _Worker] = {}
        """Drill id -> the worker that hosts it (or hosted it)."""

    async def start(self) -> None:
        """Listen on the public port, then start the workers (they advertise its address)."""
        await super().start()
        scheduler = self.config.scheduler
        if self._forecast_start is not None:  # the workers' drills share one local cluster
            await self._forecast_start
            scheduler = self.forecaster.address
        inner = dataclasses.replace(self.config, host="127.0.0.1", port=0, certfile=None,
                                    keyfile=None, send_buffer=None, public_url=self.http_url,
                                    scheduler=scheduler)
        ctx = multiprocessing.get_context("spawn")  # no forked threads or event loops
        for i in range(self.n_workers):
            here, there = ctx.Pipe()
            proc = ctx.Process(target=worker_main, args=(inner, there), daemon=True,
                               name=f"drill-worker-{i}")
            proc.start()
            self.workers.append(_Worker(i, proc, here))
        for w in self.workers:
            ready = await asyncio.to_thread(_wait_ready, w.conn, START_TIMEOUT)
            w.port = ready[1]
        self.ops("workers_started", workers=self.n_workers,
                 ports=[w.port for w in self.workers])

    async def close(self) -> None:
        """Stop the workers (each ends its drills) and the front."""
        for w in self.workers:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(w.call("stop"), 30.0)
        for w in self.workers:
            await asyncio.to_thread(w.process.join, 10.0)
            if w.process.is_alive():
                w.process.terminate()
        await super().close()

    async def open_drill(self, scenario: str, *, seed: int | None = None) -> dict[str, Any]:
        """Host a new drill in the worker with the fewest live drills; returns its join
        information (as :meth:`DrillServer.info`) with ``agents`` and ``recording``."""
        lives = await asyncio.gather(*(w.call("live") for w in self.workers if w.alive))
        alive = [w for w in self.workers if w.alive]
        if not alive:
            raise NetError("no worker process is running")
        if sum(lives) >= self.config.max_drills:
            raise ProtocolError("limit", f"this server hosts at most {self.config.max_drills} "
                                "live drills")
        worker = alive[min(range(len(alive)), key=lambda i: lives[i])]
        info = await worker.call("create", self.catalogue.get(scenario, scenario), seed)
        self.routes[info["drill"]] = worker
        self.catalogue.setdefault(info["scenario"], scenario)
        return info

    async def _route(self, drill: Any) -> _Worker | None:
        """The worker that hosts (or hosted) ``drill``, asking them if it is not known."""
        if not isinstance(drill, str):
            return None
        worker = self.routes.get(drill)
        if worker is not None and worker.alive:
            return worker
        for w in self.workers:
            with contextlib.suppress(NetError):
                if w.alive and await w.call("where", drill):
                    self.routes[drill] = w
                    return w
        return None

    # ------------------------------------------------------------------ connections

    async def _handle(self, ws: ServerConnection) -> None:
        abuse = _Bucket(self.config.abuse_rate, self.config.abuse_burst)
        try:
            async with asyncio.timeout(self.config.join_timeout):
                while True:
                    first = await ws.recv()
                    worker = await self._joins(ws, first, abuse)
                    if worker is not None:
                        break
        except TimeoutError:
            await ws.close(1008, "no join in time")
            return
        except ConnectionClosed:
            return
        await self._relay(ws, worker, first)

    async def _joins(self, ws: ServerConnection, frame: Any, abuse: _Bucket) -> _Worker | None:
        """The worker a client's first frames lead to, once one is a ``join`` of a drill
        that is here; refusals are answered as a drill server would."""
        try:
            msg = decode(frame, max_size=self.config.max_message)
            ref = msg.get("ref")
            if msg["type"] != "join":
                raise ProtocolError("not_joined", "send join first", ref=ref)
            worker = await self._route(msg.get("drill"))
            if worker is None:
                raise ProtocolError("auth", "unknown drill, or wrong or missing token"
                                    if msg.get("drill") else
                                    "join needs the drill id ('drill') and a token", ref=ref)
            return worker
        except ProtocolError as exc:
            self.metrics.refusals[exc.code] += 1
            await ws.send(encode(message("error", ref=exc.ref, **exc.fields())))
            if not abuse.take():
                await ws.close(1008, "too many refused messages")
            return None

    async def _relay(self, ws: ServerConnection, worker: _Worker, first: Any) -> None:
        """Pump frames between the client and its drill's worker until either closes."""
        try:
            inner = await connect(f"ws://127.0.0.1:{worker.port}/", compression=None,
                                  max_size=self.config.hard_max_message, ping_interval=None,
                                  write_limit=self.config.write_limit)
        except OSError as exc:
            await ws.send(encode(message("error", code="unavailable", message=f"the drill's "
                                         f"worker cannot be reached ({exc})")))
            await ws.close(1011, "worker unavailable")
            return
        peer = ws.remote_address
        self.ops("relay", worker=worker.index, peer=f"{peer[0]}:{peer[1]}"
                 if isinstance(peer, tuple) else str(peer))
        role: list[str] = []
        """The client's role, once its welcome has gone by."""

        async def up() -> None:
            async for frame in ws:
                if role == ["instructor"] and await self._front_command(ws, frame):
                    continue
                await inner.send(frame)

        async def down() -> None:
            async for frame in inner:
                if not role:
                    with contextlib.suppress(ProtocolError):
                        got = unpack(frame, max_size=1 << 30)
                        if got["type"] == "welcome":
                            role.append(got.get("role", ""))
                await ws.send(frame)

        await inner.send(first)
        tasks = [asyncio.ensure_future(up()), asyncio.ensure_future(down())]
        with contextlib.suppress(ConnectionClosed):
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if inner.close_code is not None and ws.close_code is None:
            await ws.close(inner.close_code, inner.close_reason or "")
        await inner.close()
        await ws.close()

    async def _front_command(self, ws: ServerConnection, frame: Any) -> bool:
        """Answer an instructor's ``create`` or ``list`` here (they concern every worker);
        True if it was one."""
        if not isinstance(frame, bytes) or len(frame) > self.config.max_message:
            return False
        try:
            head = unpack(frame)
        except ProtocolError:
            return False
        if head["type"] not in ("create", "list"):
            return False
        try:
            msg = decode(frame)
        except ProtocolError:
            return False  # the worker answers with its bad_field
        ref = safe_ref(msg)
        if msg["type"] == "list":
            drills = await asyncio.gather(*(w.call("drills") for w in self.workers if w.alive),
                                          return_exceptions=True)
            await ws.send(encode(message("drills", ref=ref, drills=[
                d for part in drills if isinstance(part, list) for d in part])))
            return True
        name = msg["scenario"]
        try:
            if name not in self.catalogue:
                raise ProtocolError("bad_field", f"unknown scenario '{name}' (known: "
                                    f"{', '.join(sorted(self.catalogue))})")
            info = await self.open_drill(name)
        except ProtocolError as exc:
            reply = message("error", ref=ref, **exc.fields())
        except NetError as exc:
            reply = message("error", ref=ref, code="refused", message=str(exc))
        else:
            reply = message("created", ref=ref, **{k: v for k, v in info.items()
                                                    if k not in ("agents", "recording")})
        await ws.send(encode(reply))
        return True

    # ------------------------------------------------------------------ HTTP

    async def _drill_files(self, parts: list[str], target: str, request: Request) -> Response:
        """``/drills/ID/…`` of the drill's worker, forwarded."""
        if parts[0] == "drills" and len(parts) >= 3:
            worker = await self._route(parts[1])
            if worker is None:
                if parts[2] == "info.json":
                    return json_response({"error": "no such drill"}, 404)
                return _no_drill()
            return await asyncio.to_thread(_forward, worker.port, target, request)
        return _not_found()

    async def _health(self) -> dict[str, Any]:
        parts = await asyncio.gather(*(w.call("health") for w in self.workers),
                                     return_exceptions=True)
        ok = [p for p in parts if isinstance(p, dict)]
        return {"ok": len(ok) == len(self.workers), "workers": len(self.workers),
                "workers_up": len(ok), "drills": sum(p["drills"] for p in ok),
                "ended": sum(p["ended"] for p in ok), "clients": sum(p["clients"] for p in ok),
                "max_drills": self.config.max_drills,
                "slow_ticks": [d for p in ok for d in p["slow_ticks"]],
                "rendering": sum(p["rendering"] for p in ok)}

    async def _metrics(self) -> str:
        """Every worker's metrics with a ``worker`` label, grouped by metric family."""
        texts = await asyncio.gather(*(w.call("metrics") for w in self.workers),
                                     return_exceptions=True)
        families: dict[str, list[str]] = {"evacdrill_workers_up": [
            "# HELP evacdrill_workers_up Worker processes answering.",
            "# TYPE evacdrill_workers_up gauge",
            f"evacdrill_workers_up {sum(isinstance(t, str) for t in texts)}"]}
        for w, text in zip(self.workers, texts, strict=True):
            if not isinstance(text, str):
                continue
            for line in text.splitlines():
                name = line.split()[2] if line.startswith("#") else re.split(r"[{ ]", line)[0]
                family = families.setdefault(name, [])
                if line.startswith("#"):
                    if line not in family:
                        family.insert(sum(x.startswith("#") for x in family), line)
                    continue
                family.append(_labelled(line, f'worker="{w.index}"'))
        return "\n".join(line for family in families.values() for line in family) + "\n"


_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (.*)$")


def _labelled(line: str, label: str) -> str:
    """A Prometheus sample line with one more label."""
    m = _SAMPLE.match(line)
    if m is None:
        return line
    name, labels, value = m.groups()
    return f"{name}{{{label}{',' + labels if labels else ''}}} {value}"


def _wait_ready(conn: Connection, timeout: float) -> tuple[str, int]:
    if not conn.poll(timeout):
        raise NetError(f"a worker process did not start within {timeout:g} s")
    ready = conn.recv()
    if not (isinstance(ready, tuple) and ready[0] == "ready"):
        raise NetError(f"a worker process failed to start: {ready!r}")
    return ready


def _forward(port: int, target: str, request: Request) -> Response:
    """GET ``target`` from a worker's loopback HTTP port; its answer as a Response."""
    headers = {k: v for k, v in request.headers.raw_items()
               if k.lower() in ("accept-encoding", "if-none-match", "accept-language")}
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("GET", target, headers=headers)
        res = conn.getresponse()
        body = res.read()
    except OSError as exc:
        return json_response({"error": f"the drill's worker does not answer ({exc})"}, 502)
    finally:
        conn.close()
    out = Headers([("Date", time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime())),
                   ("Content-Length", str(len(body))), ("Connection", "close")])
    for name in _PROXIED_HEADERS:
        value = res.getheader(name)
        if value is not None:
            out[name] = value
    return Response(res.status, res.reason, out, body)
