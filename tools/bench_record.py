"""Benchmark of drill recordings at 10 000 agents: cost, size, seek time.

    python tools/bench_record.py [--agents 10000] [--seconds 60] [--seeks 30]

Runs the 10 000-agent hall of ``tools/bench_net.py`` (100 m x 100 m, four 4 m exits,
pre-movement 0-20 s) for ``--seconds`` of simulated time with a :class:`Recorder`
attached exactly as ``drill run`` attaches it (a frame every 2 steps, 10 Hz), timing
``Drill.step`` and ``Recorder.frame`` separately in the same run. Then it opens the
recording and seeks to random times, first through the index, then in a copy cut in
the middle of its last chunk (no index: the chunk headers are scanned on open).

Prints one ``name value unit`` line per figure. The one-hour size is extrapolated two
ways: linearly from the whole measured run (``one_hour_extrapolated``: as a drill that
goes on like the measured one), and from the densest 10 s window of the run
(``one_hour_at_peak_rate``: every agent inside and walking for the whole hour, an upper
bound).
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim.drill import Drill  # noqa: E402
from sim.metrics import compute  # noqa: E402
from sim.recording import FRAME_HZ, Player, Recorder, Recording, scenario_of  # noqa: E402
from sim.scenario import load_file  # noqa: E402
from tools.bench_net import hall_scenario  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--agents", type=int, default=10_000)
    p.add_argument("--seconds", type=float, default=60.0, help="simulated seconds to record")
    p.add_argument("--seeks", type=int, default=30)
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        scen = Path(tmp) / "hall.toml"
        scen.write_text(hall_scenario(args.agents))
        sc = load_file(scen)
        drill = Drill(sc)
        path = Path(tmp) / "bench.rec"
        rec = Recorder(path, drill, scenario=scenario_of(str(scen)))
        every = max(1, round(1.0 / (FRAME_HZ * drill.dt)))
        t_step = t_rec = 0.0
        rec.frame(drill)
        steps = int(round(args.seconds / drill.dt))
        for _ in range(steps):
            t0 = time.perf_counter()
            events = drill.step()
            t1 = time.perf_counter()
            if drill.tick % every == 0 or any(e["type"] != "evacuated" for e in events):
                rec.frame(drill, events)
            t_rec += time.perf_counter() - t1
            t_step += t1 - t0
        t1 = time.perf_counter()
        rec.close()
        t_rec += time.perf_counter() - t1
        size = path.stat().st_size
        sim_s = drill.time
        print(f"agents {drill.total} count")
        print(f"agents_inside_at_end {drill.remaining} count")
        print(f"simulated {sim_s:.1f} s")
        print(f"step_wall_per_sim_s {t_step / sim_s:.4f} s/s")
        print(f"record_wall_per_sim_s {t_rec / sim_s:.4f} s/s")
        print(f"record_cost_vs_simulation {100 * t_rec / t_step:.2f} %")
        print(f"frames {rec.frames} count")
        print(f"file_bytes {size} B")
        print(f"bytes_per_sim_s {size / sim_s:.0f} B/s")
        print(f"bytes_per_agent_frame {size / max(rec.frames, 1) / drill.total:.3f} B")
        print(f"one_hour_extrapolated {size / sim_s * 3600 / 1e6:.1f} MB")
        peak = _peak_rate(path)
        print(f"peak_bytes_per_sim_s {peak:.0f} B/s")
        print(f"one_hour_at_peak_rate {peak * 3600 / 1e6:.1f} MB")
        t0 = time.perf_counter()
        with Recording(path) as r:
            compute(r)
        print(f"metrics_wall {time.perf_counter() - t0:.2f} s")
        rng = random.Random(1)
        for label, target in (("indexed", path), ("scanned", _cut(path, Path(tmp)))):
            t0 = time.perf_counter()
            r = Recording(target)
            player = Player(r)
            open_s = time.perf_counter() - t0
            end = r.chunks[-1].t + 1.0
            worst = 0.0
            for _ in range(args.seeks):
                t = rng.uniform(0, end)
                t0 = time.perf_counter()
                player.seek(t)
                worst = max(worst, time.perf_counter() - t0)
            print(f"open_{label} {open_s:.3f} s")
            print(f"seek_max_{label} {worst:.3f} s")
            r.close()


def _peak_rate(path: Path) -> float:
    """Highest bytes per simulated second over the keyframe intervals (10 s windows)."""
    with Recording(path) as r:
        starts = [c for c in r.chunks if c.key]
        ends = [c.offset for c in starts[1:]] + [r.end_offset]
        rates = [(end - c.offset) / r.header["keyframe_s"] for c, end in zip(starts, ends,
                                                                                strict=True)]
    return max(rates[:-1] or rates)  # the last window may be short


def _cut(path: Path, tmp: Path) -> Path:
    """A copy of the recording cut inside its last data chunk (as a killed recorder's)."""
    with Recording(path) as r:
        cut = r.chunks[-1].offset + 100
    out = tmp / "cut.rec"
    out.write_bytes(path.read_bytes()[:cut])
    return out


if __name__ == "__main__":
    main()
