"""Load benchmark of the drill server: a 10 000-agent drill, 10 / 50 / 100 bot clients.

Starts ``drill serve`` on a generated scenario (a 100 m x 100 m hall, 4 exits, 10 000
people with pre-movement 0-20 s) in its own process, starts the drill, then for each
client count connects that many bots (participants that move their avatar at 2 Hz and
now and then mark or report) on loopback and measures for ``--seconds``:

- ticks per second held (deltas per second seen by an observer client),
- p50 / p99 latency from the tick (its server timestamp) to receipt by a client,
- bytes per client per second, bytes per agent per tick and per moving agent per delta,
- server CPU (utime + stime of the server process over the window, % of one core).

Prints one machine-readable line per figure: ``name value unit``::

    python tools/bench_net.py [--clients 10 50 100] [--seconds 20] [--agents 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import msgpack
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from net.bot import act_as_bot  # noqa: E402
from net.client import DrillClient  # noqa: E402


def hall_scenario(agents: int, side: float = 100.0) -> str:
    """A square hall of ``side`` m with a 4 m exit in the middle of each wall (TOML)."""
    s, h = side, side / 2
    exits = {"N": [[h - 2, s - 0.3], [h + 2, s - 0.3], [h + 2, s], [h - 2, s]],
             "S": [[h - 2, 0], [h + 2, 0], [h + 2, 0.3], [h - 2, 0.3]],
             "W": [[0, h - 2], [0.3, h - 2], [0.3, h + 2], [0, h + 2]],
             "E": [[s - 0.3, h - 2], [s, h - 2], [s, h + 2], [s - 0.3, h + 2]]}
    lines = ['name = "hall10k"', "[simulation]", "dt = 0.05", "max_time = 3600", "seed = 1",
             "cell_size = 0.2", "[[floors]]", 'id = "G"',
             f"walkable = [[0, 0], [{s}, 0], [{s}, {s}], [0, {s}]]"]
    for eid, poly in exits.items():
        lines += ["[[exits]]", f'id = "{eid}"', 'floor = "G"', f"polygon = {poly}"]
    lines += ["[[groups]]", 'id = "all"', 'floor = "G"',
              f"area = [[2, 2], [{s - 2}, 2], [{s - 2}, {s - 2}], [2, {s - 2}]]",
              f"count = {agents}", "premovement = { min = 0.0, max = 20.0 }"]
    return "\n".join(lines) + "\n"


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process, s (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


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


async def measure(url: str, info: dict, n: int, seconds: float, server_pid: int) -> dict:
    drill, tokens = info["drill"], info["tokens"]
    bots = [DrillClient(url, drill=drill, token=tokens["participant"], name=f"bot{i}",
                        keep=False, timeout=60) for i in range(n)]
    for i in range(0, n, 10):
        await asyncio.gather(*(b.connect() for b in bots[i:i + 10]))
    obs = Observer(url, drill=drill, token=tokens["observer"], name="bench", keep=True,
                   timeout=60)
    await obs.connect()
    acting = [asyncio.create_task(act_as_bot(b, duration=seconds + 5, seed=i))
              for i, b in enumerate(bots)]
    await asyncio.sleep(2.0)  # settle: joins, welcome snapshots
    for b in bots:
        b.latencies.clear()
        b.bytes_received = 0
    seq0, t0, cpu0 = obs.seq, time.monotonic(), cpu_seconds(server_pid)
    end = t0 + seconds
    while time.monotonic() < end:
        try:
            msg = await obs.next(timeout=1.0)
        except TimeoutError:
            continue
        if msg.get("type") == "delta":
            obs.count(msgpack.packb(msg, use_bin_type=True))
    wall = time.monotonic() - t0
    cpu = cpu_seconds(server_pid) - cpu0
    seq1 = obs.seq
    lat = np.concatenate([np.asarray(b.latencies) for b in bots]) * 1000.0
    rx = sum(b.bytes_received for b in bots)
    gaps = sum(b.gaps for b in bots)
    for task in acting:
        task.cancel()
    await asyncio.gather(*(b.close() for b in bots), obs.close(), return_exceptions=True)
    ticks = max(seq1 - seq0, 1)
    return {
        "ticks_per_s": (seq1 - seq0) / wall,
        "latency_p50_ms": float(np.percentile(lat, 50)) if len(lat) else float("nan"),
        "latency_p99_ms": float(np.percentile(lat, 99)) if len(lat) else float("nan"),
        "bytes_per_client_per_s": rx / n / wall,
        "bytes_per_agent_per_tick": obs.delta_bytes / max(obs.agents_total, 1),
        "bytes_per_moving_agent": obs.delta_bytes / max(obs.moved_total, 1),
        "moving_agents_per_tick": obs.moved_total / ticks,
        "agents_inside": len(obs.agents.ids),
        "server_cpu_pct": 100.0 * cpu / wall,
        "resyncs": gaps,
    }


async def run(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        scen = Path(tmp) / "hall10k.toml"
        scen.write_text(hall_scenario(args.agents))
        tok = Path(tmp) / "tokens.json"
        proc = subprocess.Popen(
            [sys.executable, "-m", "tools.cli", "serve", str(scen), "--port", "0",
             "--tokens", str(tok)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True)
        try:
            line = await asyncio.to_thread(proc.stdout.readline)  # type: ignore[union-attr]
            if not line:
                raise SystemExit(f"server did not start: {proc.stderr.read()}")  # type: ignore[union-attr]
            info = json.loads(line)
            url = info["url"]
            async with DrillClient(url, drill=info["drill"], token=info["tokens"]["instructor"],
                                   name="bench-instructor", keep=False, timeout=60) as ins:
                await ins.request("start")
                print(f"agents {args.agents} count", flush=True)
                for n in args.clients:
                    r = await measure(url, info, n, args.seconds, proc.pid)
                    for key, value in r.items():
                        print(f"clients{n}.{key} {value:.3f}", flush=True)
        finally:
            proc.terminate()
            proc.wait(10)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--clients", type=int, nargs="+", default=[10, 50, 100])
    p.add_argument("--seconds", type=float, default=20.0, help="measuring window per count")
    p.add_argument("--agents", type=int, default=10_000)
    asyncio.run(run(p.parse_args()))


if __name__ == "__main__":
    main()
