"""Live forecast benchmark: a served drill forecast by its instructor while clients watch.

    python tools/bench_forecast.py [--scenario mall] [--at 60] [--runs 8] [--workers N]
                                   [--clients 2] [--repeat 2]

Serves the scenario on loopback with a local forecast cluster (``--workers`` processes,
default one per core), joins an instructor and ``--clients`` participants over real
WebSockets, runs the drill fast to ``--at`` simulated seconds, then at real time asks for a
forecast of ``--runs`` copies, ``--repeat`` times in a row. Prints one JSON line per
forecast: the time to answer (request to ``forecast_result``) and to the first estimate
(the first ``forecast_progress`` with one), the state frames per second
each participant received meanwhile (the drill's tick rate as its clients see it), the
forecast (P50 / P95 remaining), the tick rate with no forecast running, for reference, and
the cores this process (the server and its clients) used, with and without a forecast.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from net.client import DrillClient  # noqa: E402
from net.server import DrillServer, ServerConfig  # noqa: E402


class _Ticks:
    """Counts the state frames (deltas) a client receives."""

    def __init__(self, client: DrillClient):
        self.client = client
        self.base = 0

    def mark(self) -> None:
        self.base = self.client.deltas

    def rate(self, seconds: float) -> float:
        return round((self.client.deltas - self.base) / seconds, 2)


async def _bench(a: argparse.Namespace) -> None:
    t_start = time.monotonic()
    server = DrillServer(ServerConfig(port=0, forecast=True, forecast_workers=a.workers))
    await server.start()
    try:
        room = await server.add_drill(a.scenario)
        await server._forecast_start  # the local cluster: measured apart
        cluster_s = time.monotonic() - t_start

        def join(role: str, name: str) -> DrillClient:
            return DrillClient(server.url, drill=room.id, token=room.tokens[role], name=name,
                               avatar=False, timeout=600.0)

        ins = join("instructor", "instructor")
        watchers = [join("participant", f"p{i}") for i in range(a.clients)]
        await ins.connect()
        for w in watchers:
            w.keep = False  # count frames, do not queue them
            await w.connect()
        ticks = [_Ticks(w) for w in watchers]
        await ins.request("speed", factor=a.fast)
        await ins.request("start")
        while room.drill.time < a.at - a.idle - 1.5:  # then real time up to --at
            await asyncio.sleep(0.05)
        await ins.request("speed", factor=1.0)
        await asyncio.sleep(1.0)
        for t in ticks:
            t.mark()
        cpu0 = time.process_time()
        await asyncio.sleep(a.idle)
        idle = [t.rate(a.idle) for t in ticks]
        idle_cpu = (time.process_time() - cpu0) / a.idle
        for k in range(a.repeat):
            for t in ticks:
                t.mark()
            t0, cpu0 = time.monotonic(), time.process_time()
            ack = await ins.request("forecast", runs=a.runs)
            first = None  # when the first estimate came (forecast_progress with remaining_s)
            while True:
                msg = await ins.next("forecast_progress", "forecast_result", "error",
                                     timeout=1200)
                if msg["type"] == "forecast_progress":
                    if first is None and msg.get("remaining_s"):
                        first = time.monotonic() - t0
                    continue
                if msg.get("id") == ack.get("id") or msg["type"] == "error":
                    break
            wall = time.monotonic() - t0
            cpu = (time.process_time() - cpu0) / wall
            rem = msg.get("remaining_s") or {}
            print(json.dumps({
                "scenario": a.scenario, "agents": int(room.drill.total), "forecast": k + 1,
                "at_s": msg.get("t"), "runs": a.runs, "workers": server.forecaster.workers,
                "answer_s": round(wall, 2),
                "first_estimate_s": None if first is None else round(first, 2),
                "ticks_per_s": [t.rate(wall) for t in ticks],
                "ticks_per_s_idle": idle, "remaining_p50_s": rem.get("p50"),
                "remaining_p95_s": rem.get("p95"), "finished": msg.get("finished"),
                "failed": len(msg.get("failed", [])), "cluster_start_s": round(cluster_s, 2),
                "copy_wall_s": msg.get("run_wall_s"),
                "server_and_clients_cpu": round(cpu, 2), "idle_cpu": round(idle_cpu, 2),
                "error": msg.get("message")}, ensure_ascii=False), flush=True)
        for c in (ins, *watchers):
            await c.close()
    finally:
        await server.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default="mall")
    ap.add_argument("--at", type=float, default=60.0, help="simulated s of the fork")
    ap.add_argument("--runs", type=int, default=8, help="copies per forecast (K)")
    ap.add_argument("--workers", type=int, default=None, help="local cluster processes")
    ap.add_argument("--clients", type=int, default=2, help="participants watching")
    ap.add_argument("--repeat", type=int, default=2, help="forecasts in a row")
    ap.add_argument("--fast", type=float, default=5.0, help="drill speed until --at")
    ap.add_argument("--idle", type=float, default=5.0, help="s of ticks counted with no "
                                                             "forecast")
    asyncio.run(_bench(ap.parse_args()))


if __name__ == "__main__":
    main()
