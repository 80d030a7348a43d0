"""Benchmark of the headless renderer: ms per frame of the mall overview.

    python tools/bench_render.py [--agents 1000 10000] [--frames 30] [--size 1280x720]

For each crowd size the built-in ``mall`` scenario is populated with that many agents
(its own groups, scaled; everyone starts at once so all move) and stepped between frames,
so the agent update (numpy → vertex arrays) is part of every frame. One JSON line per
figure: frame = snapshot + agent update + draw + read back to RAM; encode times apart;
the display module and the GL vendor/renderer strings name what drew it.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sim.drill import Drill  # noqa: E402
from sim.scenario import Scenario, load  # noqa: E402


def mall_with(n: int) -> Scenario:
    """The built-in mall scenario with ``n`` agents, all starting at once."""
    s = load("mall")
    total = sum(g.count for g in s.groups)
    counts = [max(1, round(g.count * n / total)) for g in s.groups]
    counts[counts.index(max(counts))] += n - sum(counts)
    groups = tuple(dataclasses.replace(g, count=c, premovement_min=0.0, premovement_max=0.0)
                   for g, c in zip(s.groups, counts, strict=True))
    return dataclasses.replace(s, groups=groups)


def ms(samples: list[float]) -> dict[str, float]:
    s = sorted(samples)
    return {"median": round(statistics.median(s) * 1e3, 2),
            "p90": round(s[int(0.9 * (len(s) - 1))] * 1e3, 2)}


def bench(n: int, frames: int, size: tuple[int, int], camera: str) -> list[dict]:
    from render.renderer import Renderer
    from render.state import snapshot

    t0 = time.perf_counter()
    drill = Drill(mall_with(n))
    setup = time.perf_counter() - t0
    renderer = Renderer(drill.scene)
    info = renderer.info()
    for _ in range(3):  # warm up: buffer creation, first uploads
        renderer.render(snapshot(drill), camera, size)
    step_t, frame_t, update_t, png_t, jpeg_t = [], [], [], [], []
    for _ in range(frames):
        t = time.perf_counter()
        drill.step()
        step_t.append(time.perf_counter() - t)
        t = time.perf_counter()
        state = snapshot(drill)
        renderer.render(state, camera, size)
        frame_t.append(time.perf_counter() - t)
        t = time.perf_counter()
        renderer.agents.update(state.agents, min_radius=renderer.placement.min_radius)
        update_t.append(time.perf_counter() - t)
        t = time.perf_counter()
        renderer.encode("png")
        png_t.append(time.perf_counter() - t)
        t = time.perf_counter()
        renderer.encode("jpeg")
        jpeg_t.append(time.perf_counter() - t)
    base = {"scene": "mall", "camera": camera, "size": f"{size[0]}x{size[1]}",
            "agents": len(state.agents), "frames": frames, "pipe": info["module"],
            "vendor": info["vendor"], "renderer": info["renderer"]}
    rows = [("frame_ms", frame_t), ("agent_update_ms", update_t), ("encode_png_ms", png_t),
            ("encode_jpeg_ms", jpeg_t), ("sim_step_ms", step_t)]
    out = [{"name": name, **base, **ms(v), "unit": "ms"} for name, v in rows]
    out.append({"name": "setup_s", **base, "value": round(setup, 2), "unit": "s"})
    renderer.close()
    return out


def main(argv: list[str] | None = None) -> int:
    from render.renderer import parse_size

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--agents", type=int, nargs="+", default=[1000, 10000])
    p.add_argument("--frames", type=int, default=30)
    p.add_argument("--size", default="1280x720")
    p.add_argument("--camera", default="overview")
    args = p.parse_args(argv)
    size = parse_size(args.size)
    for n in args.agents:
        for row in bench(n, args.frames, size, args.camera):
            print(json.dumps(row), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
