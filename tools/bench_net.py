"""Load benchmarks of the drill server (``drill serve``) on loopback.

Every mode starts ``python -m tools.cli serve`` of the source tree under test in its own
process (working directory and ``PYTHONPATH`` that tree) and connects its clients
(``net.client.DrillClient`` of the same tree). The tree is ``--root DIR``; without it, the
first ``PYTHONPATH`` entry that holds ``tools/cli.py`` and ``net/``, else the repository
this script lives in. Drills are recorded into a temporary folder (``--no-record``: not);
``--evacuate`` sends ``order_evacuation {all: true}`` right after ``start`` (in the mall
nobody moves for the first 30 s otherwise).

One mode per run (the generated hall: 100 m x 100 m, a 4 m exit in the middle of each
wall, ``--agents`` people with pre-movement 0-20 s, started):

- *(default)* ``--clients 10 50 100``: for each count, that many bots (participants
  that move their avatar at 2 Hz and now and then mark or report). Figures per count:
  ticks/s (an observer), p50 / p99 latency from the tick (its server ``ts``) to receipt,
  bytes per client per second, bytes per agent per tick and per moving agent per delta,
  server CPU.
- ``--flood``: one observer times the deltas it receives (longest gap between two, s;
  deltas/s) while one participant without an avatar keeps ``--outstanding`` (30)
  ``view_request`` (``overview``, ``--view-size`` px square, jpeg) in flight: all at
  once at the start, another whenever an answer (``frame`` or ``error``) arrives.
  Figures: longest gap between receipts (window edges included) and between the deltas'
  server ``ts``, ticks/s, frames, answers by error code, answer time p50 / max,
  requests unanswered at the end. ``--outstanding 0``: the same without the flood.
- ``--headset HZ``: one participant with an avatar sends ``pose`` at HZ (its avatar's
  position and heading, a turning ``head`` quaternion; ``ack: true`` with ``--pose-ack``,
  else no ``ack`` field) for ``--seconds`` (default 60). Figures: seconds connected,
  still connected at the end, close code, poses sent, acks and errors by code.
- ``--floors``: a 3-floor building ("1F" with the four exits, "2F", "3F": each the hall,
  ``--agents`` / 3 people, a 4 m stair 2F -> 1F and one 3F -> 2F); ``--clients`` (50)
  participants without an avatar, each sending ``subscribe {floors: [i % 3]}`` after its
  welcome with ``--subscribe`` (its replies counted by type / error code). Figures as the
  default mode's traffic ones.
- ``--drills N [N ...]``: for each N a fresh server of the built-in ``mall`` (about 2 600
  people); N - 1 more mall drills by the instructor's ``create``, all started, 10
  participants without an avatar and one observer on each. Figures per N: min / mean
  ticks/s across the drills, server CPU and RSS, traffic. Stops after the first N whose
  min ticks/s is below ``--stop-below`` (9); last, the largest N with min >= 9.5.

Every mode also reports this process's CPU (``bench_cpu_pct``): near 100 % the clients,
not the server, may be what limits the figures.

Prints one machine-readable line per figure, ``name value unit``, on standard output;
notes, and the server's log when it holds an error, go to standard error::

    python tools/bench_net.py [--clients 10 50 100] [--seconds 20] [--agents 10000]
    python tools/bench_net.py --flood [--view-size 4096] [--outstanding 30]
    python tools/bench_net.py --headset 144 [--seconds 600] [--pose-ack]
    python tools/bench_net.py --floors [--subscribe] [--clients 50]
    python tools/bench_net.py --drills 2 4 6 8 10 12 [--seconds 15] [--stop-below 9]
    python tools/bench_net.py --root /tmp/base --flood      # measure another checkout
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgpack
import numpy as np

HERE = Path(__file__).resolve().parents[1]
"""The repository this script lives in."""


def _root() -> Path:
    """The source tree under test: ``--root``, else a source tree on ``PYTHONPATH``, else
    :data:`HERE` (read before ``net`` is imported, so the clients come from it too)."""
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--root", type=Path)
    root = pre.parse_known_args()[0].root
    if root is None:
        trees = [Path(p) for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
        root = next((p for p in trees if (p / "tools" / "cli.py").is_file()
                     and (p / "net").is_dir()), HERE)
    return root.resolve()


ROOT = _root()
sys.path.insert(0, str(ROOT))

from net.bot import act_as_bot  # noqa: E402
from net.client import DrillClient  # noqa: E402
from net.errors import ClientError  # noqa: E402

Figures = dict[str, tuple[float, str]]
"""Figure name -> (value, unit)."""


# ---------------------------------------------------------------------- scenarios

def hall_scenario(agents: int, side: float = 100.0, floors: int = 1) -> str:
    """A square hall of ``side`` m with a 4 m exit in the middle of each wall (TOML).

    With ``floors`` > 1 a building of that many such halls ("1F", "2F", ..., 4 m apart),
    the exits on 1F, a 4 m x 4 m stair end on each floor linking it to the one below
    (alternately near the west and the east wall), ``agents`` spread over the floors.
    """
    s, h = side, side / 2
    ids = ["G"] if floors == 1 else [f"{i + 1}F" for i in range(floors)]
    exits = {"N": [[h - 2, s - 0.3], [h + 2, s - 0.3], [h + 2, s], [h - 2, s]],
             "S": [[h - 2, 0], [h + 2, 0], [h + 2, 0.3], [h - 2, 0.3]],
             "W": [[0, h - 2], [0.3, h - 2], [0.3, h + 2], [0, h + 2]],
             "E": [[s - 0.3, h - 2], [s, h - 2], [s, h + 2], [s - 0.3, h + 2]]}
    name = "hall10k" if floors == 1 else f"floors{floors}"
    lines = [f'name = "{name}"', "[simulation]", "dt = 0.05", "max_time = 3600", "seed = 1",
             "cell_size = 0.2"]
    for i, fid in enumerate(ids):
        lines += ["[[floors]]", f'id = "{fid}"', f"elevation = {4.0 * i}",
                  f"walkable = [[0, 0], [{s}, 0], [{s}, {s}], [0, {s}]]"]
    for eid, poly in exits.items():
        lines += ["[[exits]]", f'id = "{eid}"', f'floor = "{ids[0]}"', f"polygon = {poly}"]
    for i in range(1, floors):
        x = 10.0 if i % 2 else s - 14.0
        area = [[x, h - 2], [x + 4, h - 2], [x + 4, h + 2], [x, h + 2]]
        lines += ["[[stairs]]", f'id = "S{i + 1}{i}"', "length = 12.0", "width = 4.0",
                  f'from = {{ floor = "{ids[i]}", area = {area} }}',
                  f'to = {{ floor = "{ids[i - 1]}", area = {area} }}']
    for i, fid in enumerate(ids):
        count = agents // floors + (i < agents % floors)
        lines += ["[[groups]]", f'id = "{fid}-all"', f'floor = "{fid}"',
                  f"area = [[2, 2], [{s - 2}, 2], [{s - 2}, {s - 2}], [2, {s - 2}]]",
                  f"count = {count}", "premovement = { min = 0.0, max = 20.0 }"]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------- measuring

def family(pid: int) -> list[int]:
    """A process and its descendants (``drill serve --workers`` has worker processes)."""
    parents: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            parents.setdefault(ppid, []).append(int(stat.parent.name))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(parents.get(p, []))
    return out


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process and its descendants, s (Linux /proc)."""
    total = 0.0
    for p in family(pid):
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    """Resident set size of a process and its descendants, MB (VmRSS of /proc/PID/status)."""
    total = 0.0
    for p in family(pid):
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) / 1024.0
    return total


class Window:
    """A measuring window: wall time, and CPU of the server and of this process."""

    def __init__(self, server_pid: int):
        self.pid = server_pid
        self.t0 = time.monotonic()
        self.cpu0, self.own0 = cpu_seconds(server_pid), time.process_time()
        self.wall = 0.0
        self.figures: Figures = {}

    def stop(self) -> Figures:
        """End the window; returns server and bench CPU, % of one core."""
        self.wall = max(time.monotonic() - self.t0, 1e-9)
        self.figures = {
            "server_cpu_pct": (100.0 * (cpu_seconds(self.pid) - self.cpu0) / self.wall, "%"),
            "bench_cpu_pct": (100.0 * (time.process_time() - self.own0) / self.wall, "%")}
        return self.figures


def emit(name: str, value: float, unit: str) -> None:
    """Print one figure, ``name value unit`` (integers as integers)."""
    text = str(int(value)) if isinstance(value, int) else f"{value:.3f}"
    print(f"{name} {text} {unit}", flush=True)


def emit_all(prefix: str, figures: Figures) -> None:
    """Print every figure as ``prefix.name value unit``."""
    for name, (value, unit) in figures.items():
        emit(f"{prefix}.{name}", value, unit)


def note(text: str) -> None:
    """A remark for people, on standard error."""
    print(f"bench: {text}", file=sys.stderr, flush=True)


def reset_traffic(clients: Sequence[DrillClient]) -> None:
    """Forget the latencies and bytes received so far (start of a window)."""
    for c in clients:
        c.latencies.clear()
        c.bytes_received = 0


def traffic(clients: Sequence[DrillClient], wall: float) -> Figures:
    """Tick-to-receipt latency p50 / p99 (ms), bytes per client per second and resyncs
    of ``clients`` since :func:`reset_traffic`, over ``wall`` s."""
    lat = np.concatenate([np.asarray(c.latencies, float) for c in clients]) * 1000.0
    pct = (lambda q: float(np.percentile(lat, q))) if len(lat) else (lambda q: float("nan"))
    return {"latency_p50_ms": (pct(50), "ms"), "latency_p99_ms": (pct(99), "ms"),
            "bytes_per_client_per_s": (sum(c.bytes_received for c in clients)
                                       / len(clients) / wall, "B/s"),
            "resyncs": (sum(c.gaps for c in clients), "count")}


def answer_kind(msg: dict[str, Any]) -> str:
    """``error.CODE`` for an error, else the message type."""
    return f"error.{msg.get('code')}" if msg.get("type") == "error" else str(msg.get("type"))


def counted(counts: Counter[str]) -> Figures:
    """Counts by kind as figures (``ack``, ``error.busy``, ...), most common first."""
    return {kind: (n, "count") for kind, n in counts.most_common()}


# ---------------------------------------------------------------------- server, clients

@dataclass
class Server:
    """A ``drill serve`` process and its join line (drill, url, tokens)."""

    proc: subprocess.Popen[str]
    info: dict[str, Any]

    @property
    def pid(self) -> int:
        return self.proc.pid


@contextlib.asynccontextmanager
async def serve(scenario: str, *, record: bool, toml: str | None = None,
                extra: Sequence[str] = ()) -> AsyncIterator[Server]:
    """Run ``drill serve SCENARIO`` of :data:`ROOT` on a free port for the block.

    ``scenario`` is a built-in name, or with ``toml`` the file name to write it to (in a
    temporary folder, which also holds the recordings and the server's log). An error in
    the log is echoed to standard error when the server is stopped.
    """
    with tempfile.TemporaryDirectory(prefix="bench_net_") as tmp:
        if toml is not None:
            (Path(tmp) / scenario).write_text(toml)
            scenario = str(Path(tmp) / scenario)
        tok, log = Path(tmp) / "tokens.json", Path(tmp) / "server.log"
        rec = ["--record", str(Path(tmp) / "rec")] if record else ["--no-record"]
        path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
        with log.open("w") as err:
            proc = subprocess.Popen(
                [sys.executable, "-m", "tools.cli", "serve", scenario, "--port", "0",
                 "--tokens", str(tok), *rec, *extra], cwd=ROOT,
                env={**os.environ, "PYTHONPATH": path}, stdout=subprocess.PIPE, stderr=err,
                text=True)
        try:
            line = await asyncio.to_thread(proc.stdout.readline)  # type: ignore[union-attr]
            if not line:
                raise SystemExit(f"server did not start: {log.read_text()[-3000:]}")
            yield Server(proc, json.loads(line))
        finally:
            proc.terminate()
            proc.wait(10)
            text = log.read_text(errors="replace")
            if "Traceback" in text or "ERROR" in text or "Error" in text:
                note(f"the server's log holds errors; its end:\n{text[-3000:]}")


def client(info: dict[str, Any], role: str, name: str, *, keep: bool = False,
           avatar: bool | None = None, kind: type[DrillClient] = DrillClient) -> Any:
    """A ``kind`` client (not yet connected) of the drill of ``info`` (a join line or
    ``created``) in ``role``; replies within 60 s."""
    return kind(info["url"], drill=info["drill"], token=info["tokens"][role], name=name,
                keep=keep, timeout=60.0, avatar=avatar)


async def connect_all(clients: Sequence[DrillClient], batch: int = 10) -> None:
    """Connect and join ``clients``, ``batch`` at a time."""
    for i in range(0, len(clients), batch):
        await asyncio.gather(*(c.connect() for c in clients[i:i + batch]))


async def close_all(clients: Sequence[DrillClient]) -> None:
    """Close ``clients`` (errors ignored)."""
    await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)


async def start(info: dict[str, Any], *, evacuate: bool = False) -> DrillClient:
    """Connect an instructor to the drill of ``info`` and start it (with ``evacuate``, also
    ``order_evacuation {all: true}``: nobody waits out a pre-movement time); returns the
    instructor, connected."""
    ins = client(info, "instructor", "bench-instructor")
    await ins.connect()
    steps: list[tuple[str, dict[str, Any]]] = [("start", {})]
    if evacuate:
        steps.append(("order_evacuation", {"all": True}))
    for kind, fields in steps:
        reply = await ins.request(kind, **fields)
        if reply.get("type") != "ack":
            note(f"{kind} in drill {info['drill']}: {answer_kind(reply)} "
                 f"{reply.get('message')}")
    return ins


@contextlib.asynccontextmanager
async def started_hall(args: argparse.Namespace, floors: int = 1) -> AsyncIterator[Server]:
    """A server of the generated hall (or building of ``floors``), its drill started."""
    toml = hall_scenario(args.agents, floors=floors)
    async with serve(f"hall{floors}.toml", toml=toml, record=not args.no_record) as srv:
        ins = await start(srv.info, evacuate=args.evacuate)
        emit("agents", args.agents, "count")
        try:
            yield srv
        finally:
            await ins.close()


# ---------------------------------------------------------------------- client count mode

class Observer(DrillClient):
    """Counts moved agents in every delta, to report bytes per moving agent."""

    moved_total = 0
    agents_total = 0
    delta_bytes = 0

    def count(self, frame: bytes) -> None:
        d = msgpack.unpackb(frame, raw=False, strict_map_key=False)
        if d.get("type") != "delta":
            return
        n = len(self.agents.ids)
        moved = int(np.unpackbits(np.frombuffer(d.get("moved", b""), np.uint8)).sum())
        moved += len(d.get("far", b"")) // 16
        self.moved_total += moved
        self.agents_total += n
        self.delta_bytes += len(frame)


async def measure(srv: Server, n: int, seconds: float) -> Figures:
    """``n`` bots for ``seconds`` after 2 s of settling: ticks, latency, bytes, CPU."""
    bots = [client(srv.info, "participant", f"bot{i}") for i in range(n)]
    await connect_all(bots)
    obs: Observer = client(srv.info, "observer", "bench", keep=True, kind=Observer)
    await obs.connect()
    acting = [asyncio.create_task(act_as_bot(b, duration=seconds + 5, seed=i))
              for i, b in enumerate(bots)]
    await asyncio.sleep(2.0)  # settle: joins, welcome snapshots
    reset_traffic(bots)
    seq0, win = obs.seq, Window(srv.pid)
    end = win.t0 + seconds
    while time.monotonic() < end:
        try:
            msg = await obs.next(timeout=1.0)
        except TimeoutError:
            continue
        if msg.get("type") == "delta":
            obs.count(msgpack.packb(msg, use_bin_type=True))
    cpu = win.stop()
    ticks = max(obs.seq - seq0, 1)
    for task in acting:
        task.cancel()
    await close_all([*bots, obs])
    net = traffic(bots, win.wall)
    return {
        "ticks_per_s": ((obs.seq - seq0) / win.wall, "1/s"),
        "latency_p50_ms": net["latency_p50_ms"], "latency_p99_ms": net["latency_p99_ms"],
        "bytes_per_client_per_s": net["bytes_per_client_per_s"],
        "bytes_per_agent_per_tick": (obs.delta_bytes / max(obs.agents_total, 1), "B"),
        "bytes_per_moving_agent": (obs.delta_bytes / max(obs.moved_total, 1), "B"),
        "moving_agents_per_tick": (obs.moved_total / ticks, "count"),
        "agents_inside": (len(obs.agents.ids), "count"),
        **cpu, "resyncs": net["resyncs"],
    }


async def bench_clients(args: argparse.Namespace) -> None:
    """The default mode: bots on the hall, for each ``--clients`` count."""
    async with started_hall(args) as srv:
        for n in args.clients or [10, 50, 100]:
            emit_all(f"clients{n}", await measure(srv, n, args.seconds))


# ---------------------------------------------------------------------- --flood

async def delta_times(obs: DrillClient, until: float) -> tuple[list[float], list[float]]:
    """Receipt times (monotonic s) and server ``ts`` of the deltas a ``keep`` client gets
    until ``until`` (monotonic s) or until its connection closes."""
    got: list[float] = []
    stamps: list[float] = []
    while (left := until - time.monotonic()) > 0:
        try:
            msg = await obs.next("delta", timeout=left)
        except (TimeoutError, ClientError):
            break
        got.append(time.monotonic())
        stamps.append(float(msg["ts"]))
    return got, stamps


async def bench_flood(args: argparse.Namespace) -> None:
    """View requests in flight while an observer times the deltas."""
    async with started_hall(args) as srv:
        obs = client(srv.info, "observer", "bench-observer", keep=True)
        viewers = [client(srv.info, "participant", f"bench-viewer{i}", avatar=False)
                   for i in range(args.viewers)]
        await connect_all([obs, *viewers])
        answers: Counter[str] = Counter()
        waits: list[float] = []
        size = [args.view_size, args.view_size]

        async def ask(viewer: DrillClient) -> None:  # one request in flight at a time
            while not viewer.closed.is_set():
                sent = time.monotonic()
                try:
                    reply = await viewer.request("view_request", camera="overview",
                                                 size=size, format="jpeg")
                except ClientError:
                    answers["no_reply"] += 1  # 60 s without an answer, or closed
                    continue
                answers[answer_kind(reply)] += 1
                waits.append(time.monotonic() - sent)

        win = Window(srv.pid)
        askers = [asyncio.create_task(ask(v)) for v in viewers for _ in range(args.outstanding)]
        got, stamps = await delta_times(obs, win.t0 + args.seconds)
        cpu = win.stop()
        for task in askers:
            task.cancel()
        edges = np.diff([win.t0, *got, win.t0 + win.wall])
        waits_ms = np.asarray(waits) * 1000.0
        emit_all("flood", {
            "view_size": (args.view_size, "px"),
            "max_delta_gap_s": (float(edges.max()), "s"),
            "max_tick_gap_s": (float(np.diff(stamps).max()) if len(stamps) > 1
                               else float("nan"), "s"),
            "ticks_per_s": (len(got) / win.wall, "1/s"),
            "frames": (answers["frame"], "count"),
            "errors": (sum(n for k, n in answers.items() if k.startswith("error.")), "count"),
            **counted(Counter({k: n for k, n in answers.items() if k != "frame"})),
            "unanswered_at_end": (sum(not t.done() for t in askers), "count"),
            "answer_p50_ms": (float(np.percentile(waits_ms, 50)) if len(waits) else
                              float("nan"), "ms"),
            "answer_max_ms": (float(waits_ms.max()) if len(waits) else float("nan"), "ms"),
            "observer_resyncs": (obs.gaps, "count"),
            "still_connected": (sum(not v.closed.is_set() for v in viewers), "count"),
            **cpu})
        await close_all([obs, *viewers])


# ---------------------------------------------------------------------- --headset

async def bench_headset(args: argparse.Namespace) -> None:
    """One participant sends ``pose`` at ``--headset`` Hz for ``--seconds``."""
    async with started_hall(args) as srv:
        head = client(srv.info, "participant", "bench-headset", keep=True)
        await head.connect()
        pid = str(head.participant_id)
        await head.until(lambda c: "pos" in c.avatars.get(pid, {}), timeout=30.0)
        replies: Counter[str] = Counter()

        async def listen() -> None:
            while True:
                try:
                    msg = await head.next("ack", "error")
                except TimeoutError:
                    continue
                except ClientError:  # closed
                    return
                replies[answer_kind(msg)] += 1

        listener = asyncio.create_task(listen())
        win = Window(srv.pid)
        end, period, sent = win.t0 + args.seconds, 1.0 / args.headset, 0
        next_at = win.t0
        while time.monotonic() < end and not head.closed.is_set():
            avatar = head.avatars.get(pid, {})
            x, y, z = (v / 100.0 for v in avatar["pos"])
            yaw = 0.6 * math.sin(2.0 * math.pi * 0.2 * (time.monotonic() - win.t0))
            fields: dict[str, Any] = {
                "position": [x, y, z], "heading": avatar.get("heading", 0) / 1000.0,
                "head": [0.0, 0.0, math.sin(yaw / 2), math.cos(yaw / 2)]}
            if args.pose_ack:
                fields["ack"] = True
            try:
                await head.send("pose", **fields)
            except ClientError:
                break
            sent += 1
            next_at += period
            now = time.monotonic()
            if next_at < now - 0.1:
                next_at = now  # late (a stalled loop): no burst to catch up
            await asyncio.sleep(max(next_at - now, 0.0))
        cpu = win.stop()
        connected = win.wall
        figures: Figures = {"hz": (args.headset, "1/s"), "seconds": (args.seconds, "s"),
                            "connected_s": (connected, "s"),
                            "still_connected": (int(not head.closed.is_set()), "bool")}
        if head.closed.is_set() and head.ws is not None:
            figures["close_code"] = (head.ws.close_code or 0, "code")
            note(f"headset closed after {connected:.1f} s: code {head.ws.close_code} "
                 f"{head.ws.close_reason!r}")
        await asyncio.sleep(0.5)  # the last replies
        listener.cancel()
        figures |= {"poses_sent": (sent, "count"), "poses_per_s": (sent / connected, "1/s"),
                    "errors": (sum(n for k, n in replies.items() if k != "ack"), "count"),
                    **counted(replies), **cpu}
        emit_all("headset", figures)
        await head.close()


# ---------------------------------------------------------------------- --floors

async def subscribe(c: DrillClient, floors: list[int]) -> str:
    """Send ``subscribe {floors}``; the answer's kind (``no_reply`` after 5 s)."""
    try:
        return answer_kind(await asyncio.wait_for(c.request("subscribe", floors=floors), 5.0))
    except (TimeoutError, ClientError):
        return "no_reply"


async def bench_floors(args: argparse.Namespace) -> None:
    """Participants without an avatar on a 3-floor building, for each ``--clients``."""
    async with started_hall(args, floors=3) as srv:
        for n in args.clients or [50]:
            bots = [client(srv.info, "participant", f"p{i}", avatar=False) for i in range(n)]
            obs = client(srv.info, "observer", "bench-observer")
            await connect_all([*bots, obs])
            answers: Counter[str] = Counter()
            if args.subscribe:
                answers.update(await asyncio.gather(*(subscribe(b, [i % 3])
                                                      for i, b in enumerate(bots))))
            await asyncio.sleep(2.0)  # settle: joins, snapshots
            reset_traffic(bots)
            seq0, win = obs.seq, Window(srv.pid)
            await asyncio.sleep(args.seconds)
            cpu = win.stop()
            emit_all(f"floors.clients{n}", {
                "ticks_per_s": ((obs.seq - seq0) / win.wall, "1/s"),
                **traffic(bots, win.wall),
                **{f"subscribe.{k}": v for k, v in counted(answers).items()}, **cpu})
            await close_all([*bots, obs])


# ---------------------------------------------------------------------- --drills

async def drills_once(n: int, args: argparse.Namespace) -> Figures:
    """``n`` mall drills on one fresh server, 10 clients and an observer on each."""
    async with serve("mall", record=not args.no_record,
                     extra=args.server_args.split()) as srv:
        infos = [srv.info]
        instructors = [await start(srv.info, evacuate=args.evacuate)]
        for _ in range(n - 1):
            created = await instructors[0].request("create", scenario="mall")
            if created.get("type") != "created":
                note(f"create #{len(infos) + 1}: {answer_kind(created)} "
                     f"{created.get('message')}")
                break
            infos.append(created)
            instructors.append(await start(created, evacuate=args.evacuate))
        bots = [client(info, "participant", f"d{d}p{i}", avatar=False)
                for d, info in enumerate(infos) for i in range(10)]
        observers = [client(info, "observer", f"d{d}obs") for d, info in enumerate(infos)]
        await connect_all([*bots, *observers])
        await asyncio.sleep(args.settle)
        reset_traffic(bots)
        seq0, win = [o.seq for o in observers], Window(srv.pid)
        await asyncio.sleep(args.seconds)
        cpu = win.stop()
        ticks = [(o.seq - s) / win.wall for o, s in zip(observers, seq0, strict=True)]
        rss = rss_mb(srv.pid)
        await close_all([*bots, *observers, *instructors])
    return {"drills": (len(infos), "count"),
            "ticks_per_s_min": (min(ticks), "1/s"),
            "ticks_per_s_mean": (sum(ticks) / len(ticks), "1/s"),
            **cpu, "server_rss_mb": (rss, "MB"), **traffic(bots, win.wall)}


async def bench_drills(args: argparse.Namespace) -> None:
    """For each ``--drills`` N, ticks/s of N drills on one server; the largest N held."""
    best = 0
    for n in args.drills:
        figures = await drills_once(n, args)
        emit_all(f"drills{n}", figures)
        low = figures["ticks_per_s_min"][0]
        if low >= 9.5:
            best = max(best, n)
        if low < args.stop_below:
            note(f"{n} drills: min {low:.2f} ticks/s < {args.stop_below}; stopping")
            break
    emit("drills.max_n_at_9_5_ticks_per_s", best, "count")


# ---------------------------------------------------------------------- command line

def main() -> None:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--flood", action="store_true",
                      help="view_request flood; longest gap between deltas")
    mode.add_argument("--headset", type=float, metavar="HZ",
                      help="one participant sends pose at HZ; does it stay connected")
    mode.add_argument("--floors", action="store_true",
                      help="3-floor building, participants without an avatar")
    mode.add_argument("--drills", type=int, nargs="+", metavar="N",
                      help="N mall drills on one server, for each N")
    p.add_argument("--clients", type=int, nargs="+",
                   help="client counts (default: 10 50 100; with --floors: 50)")
    p.add_argument("--seconds", type=float, default=None,
                   help="measuring window, s (default 20; with --headset 60)")
    p.add_argument("--agents", type=int, default=10_000,
                   help="people in the generated hall or building")
    p.add_argument("--view-size", type=int, default=4096, metavar="PX",
                   help="--flood: width = height of the requested views, px")
    p.add_argument("--server-args", default="", metavar="ARGS",
                   help="--drills: more options of `drill serve`, e.g. '--workers 1'")
    p.add_argument("--viewers", type=int, default=1,
                   help="--flood: clients asking for views, each with --outstanding requests")
    p.add_argument("--outstanding", type=int, default=30,
                   help="--flood: view requests kept in flight")
    p.add_argument("--pose-ack", action="store_true",
                   help="--headset: send ack: true with every pose (newer servers)")
    p.add_argument("--subscribe", action="store_true",
                   help="--floors: each client subscribes to floor i %% 3")
    p.add_argument("--settle", type=float, default=3.0,
                   help="--drills: seconds between attaching the clients and measuring")
    p.add_argument("--stop-below", type=float, default=9.0, metavar="TICKS",
                   help="--drills: stop after an N whose min ticks/s is below this")
    p.add_argument("--evacuate", action="store_true",
                   help="order everyone to evacuate at the start (no pre-movement wait)")
    p.add_argument("--no-record", action="store_true", help="serve with --no-record")
    p.add_argument("--root", type=Path, default=ROOT,
                   help="source tree to run (default: a tree on PYTHONPATH, else this repo)")
    args = p.parse_args()
    if args.headset is not None and args.headset <= 0:
        p.error("--headset: HZ must be above 0")
    if args.seconds is None:
        args.seconds = 60.0 if args.headset else 20.0
    note(f"code under test: {ROOT}")
    bench = (bench_flood if args.flood else bench_headset if args.headset is not None else
             bench_floors if args.floors else bench_drills if args.drills else bench_clients)
    asyncio.run(bench(args))


if __name__ == "__main__":
    main()
