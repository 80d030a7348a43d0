"""Benchmark of the browser client: headless Chromium against ``drill serve`` on loopback.

For each drill (``hall10k``: the 10 000-person hall of ``tools/bench_net.py``; ``mall10k``:
the built-in mall at 4 storeys, 156 m, load factor 1.21, which gives 10 000 shoppers)
it starts ``drill serve`` in its own process, starts the drill, opens an observer page
at 1280x720 (WebGL on SwiftShader, on the CPU: the figures are a floor, a GPU does
better) and a Python observer (:class:`net.client.DrillClient`), orders everyone out at
once (so that the whole crowd walks), waits ``--settle`` s, then measures over
``--seconds``:

- per tick decode + instance update in the page (``evacdrill.stats().decodeMs``),
  median and p95, ms;
- frames drawn per second, while the crowd walks and then with the drill paused (the
  server idle: what drawing alone costs);
- page open (navigation start) to the first drawn drill, ms;
- bytes received per second by the page and by the Python client over the same window.

Prints one machine-readable line per figure: ``name value unit``::

    python tools/bench_web.py [--drills hall10k mall10k] [--seconds 10] [--settle 8]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from net.client import DrillClient  # noqa: E402
from tools.bench_net import hall_scenario  # noqa: E402

MALL10K = """name = "mall10k"
scene = "mall"
[scene_params]
storeys = 4
width = 156.0
load_factor = 1.21
[simulation]
seed = 1
"""
"""The built-in mall scaled to exactly 10 000 shoppers."""
CHROMIUM_ARGS = ["--no-sandbox", "--use-angle=swiftshader", "--enable-unsafe-swiftshader",
                 "--disable-background-networking", "--disable-component-update"]
SIZE = (1280, 720)
TICK_HZ = 10.0
"""The server's tick rate (drill serve's default), ticks/s."""


class ThreadClient:
    """A Python client (:class:`DrillClient`) on its own loop in a thread."""

    def __init__(self, info: dict[str, Any], role: str):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.client = DrillClient(info["url"], drill=info["drill"], token=info["tokens"][role],
                                  name=f"bench-{role}", keep=False, timeout=120)
        self.call(self.client.connect())

    def call(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(180)

    def request(self, kind: str, **fields: Any) -> dict[str, Any]:
        return self.call(self.client.request(kind, **fields))

    @property
    def bytes(self) -> int:
        """Bytes received so far (WebSocket message payloads)."""
        return self.client.bytes_received

    def close(self) -> None:
        self.call(self.client.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


def serve(scenario: Path) -> tuple[subprocess.Popen[str], dict[str, Any]]:
    """``drill serve`` on a free port; the process and its join line."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "tools.cli", "serve", str(scenario), "--port", "0",
         "--no-record"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        text=True)
    line = proc.stdout.readline()  # type: ignore[union-attr]
    if not line:
        raise SystemExit("drill serve did not start")
    return proc, json.loads(line)


def measure(browser: Any, name: str, scenario: Path, seconds: float, settle: float) -> None:
    proc, info = serve(scenario)
    try:
        ins = ThreadClient(info, "instructor")
        ins.request("start")
        ins.request("order_evacuation", all=True)  # everyone walks now: a busy stream
        ins.close()
        py = ThreadClient(info, "observer")
        ctx = browser.new_context(viewport={"width": SIZE[0], "height": SIZE[1]},
                                  device_scale_factor=1)
        page = ctx.new_page()
        page.goto(info["links"]["observer"], wait_until="load", timeout=120_000)
        page.wait_for_function("() => window.evacdrill && window.evacdrill.state().frames > 0"
                               " && window.evacdrill.stats().firstDrawMs > 0",
                               polling=100, timeout=120_000)
        first = page.evaluate("() => window.evacdrill.stats().firstDrawMs")
        renderer = page.evaluate("""() => { const gl = document.createElement('canvas')
            .getContext('webgl2'); const e = gl && gl.getExtension('WEBGL_debug_renderer_info');
            return e ? gl.getParameter(e.UNMASKED_RENDERER_WEBGL) : 'unknown'; }""")
        page.evaluate("() => window.evacdrill.setCamera('overview')")
        time.sleep(settle)
        s0 = page.evaluate("() => [window.evacdrill.state(), window.evacdrill.stats()]")
        py0, t0, pseq0, psnap0 = py.bytes, time.monotonic(), py.client.seq, py.client.snapshots
        time.sleep(seconds)
        s1 = page.evaluate("() => [window.evacdrill.state(), window.evacdrill.stats()]")
        py1, wall, pseq1, psnap1 = (py.bytes, time.monotonic() - t0, py.client.seq,
                                    py.client.snapshots)
        py.close()
        # The same view with the drill paused: drawing alone, the server idle.
        ins = ThreadClient(info, "instructor")
        ins.request("pause")
        time.sleep(1.0)
        f0, p0 = page.evaluate("() => window.evacdrill.state().frames"), time.monotonic()
        time.sleep(min(seconds, 5.0))
        paused_fps = (page.evaluate("() => window.evacdrill.state().frames") - f0) / (
            time.monotonic() - p0)
        ins.close()
        ctx.close()
        (st0, ss0), (st1, ss1) = s0, s1
        decode = np.asarray(ss1["decodeMs"], float)
        ticks = max(int(round(wall * TICK_HZ)), 1)
        decode = decode[-ticks:] if len(decode) else decode
        print(f"# {name}: {st1['total']} agents, {st1['agents']} drawn at the end, "
              f"status {st1['status']}, t = {st1['t']:.1f} s; WebGL renderer: {renderer}",
              flush=True)
        swift = "swiftshader" if "swiftshader" in renderer.lower() else "gpu"
        print(f"{name}.agents {st1['agents']} count", flush=True)
        print(f"{name}.decode_update_median {np.median(decode):.3f} ms/tick", flush=True)
        print(f"{name}.decode_update_p95 {np.percentile(decode, 95):.3f} ms/tick", flush=True)
        print(f"{name}.fps_{swift}_{SIZE[0]}x{SIZE[1]} "
              f"{(st1['frames'] - st0['frames']) / wall:.2f} frames/s", flush=True)
        print(f"{name}.fps_paused_{swift}_{SIZE[0]}x{SIZE[1]} {paused_fps:.2f} frames/s",
              flush=True)
        print(f"{name}.open_to_first_draw {first:.0f} ms", flush=True)
        print(f"{name}.page_bytes_per_s {(ss1['bytesIn'] - ss0['bytesIn']) / wall:.0f} B/s",
              flush=True)
        print(f"{name}.python_bytes_per_s {(py1 - py0) / wall:.0f} B/s", flush=True)
        # Per server tick (bytes between two sequence numbers x 10 Hz): the two clients are
        # sampled at slightly different moments, ticks line the windows up exactly.
        page_tick = (ss1["bytesIn"] - ss0["bytesIn"]) / max(ss1["seq"] - ss0["seq"], 1)
        py_tick = (py1 - py0) / max(pseq1 - pseq0, 1)
        print(f"{name}.page_bytes_per_tick_s {page_tick * TICK_HZ:.0f} B/s", flush=True)
        print(f"{name}.python_bytes_per_tick_s {py_tick * TICK_HZ:.0f} B/s", flush=True)
        print(f"{name}.page_snapshots {ss1['snapshots'] - ss0['snapshots']} count", flush=True)
        print(f"{name}.python_snapshots {psnap1 - psnap0} count", flush=True)
    finally:
        proc.terminate()
        proc.wait(20)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--drills", nargs="+", default=["hall10k", "mall10k"],
                   choices=["hall10k", "mall10k"])
    p.add_argument("--seconds", type=float, default=10.0, help="measuring window per drill")
    p.add_argument("--settle", type=float, default=8.0,
                   help="seconds after the first draw before measuring")
    args = p.parse_args()
    chromium = os.environ.get("EVACDRILL_CHROMIUM") or shutil.which("chromium")
    if chromium is None:
        raise SystemExit("no chromium on PATH")
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            for name in args.drills:
                path = Path(tmp) / f"{name}.toml"
                path.write_text(hall_scenario(10_000) if name == "hall10k" else MALL10K)
                measure(browser, name, path, args.seconds, args.settle)
        finally:
            browser.close()


if __name__ == "__main__":
    main()
