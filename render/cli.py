"""``drill render``: PNG/JPEG stills or numbered sequences of a scenario or a run folder.

::

    drill render SCENARIO|RUN_DIR [--time T | --every S] [--camera SPEC] [--size WxH] --out PATH

A scenario (built-in name or .toml) is simulated with :class:`sim.drill.Drill` up to each
time asked for; a run folder (``drill run`` output) is read back (:mod:`render.recording`).
Panda3D is imported only when the command runs, not when the parser is built.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from render.errors import RenderError

__all__ = ["MAX_FRAMES", "add_parser", "run"]

MAX_FRAMES = 100_000
"""Most frames one ``--every`` sequence may have."""
SUFFIXES = {".png": "png", ".jpg": "jpeg", ".jpeg": "jpeg"}


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``render`` command to ``drill``'s sub-command parsers."""
    p = subparsers.add_parser(
        "render", help="render pictures of a scenario or a run folder (headless Panda3D)",
        description="Render PNG/JPEG stills, or a numbered sequence, of a drill offscreen.")
    p.add_argument("source", help="a built-in scenario name, a .toml path, or a folder "
                                  "written by 'drill run'")
    p.add_argument("--time", type=float, default=None, metavar="T",
                   help="simulated time of the still, s (default 0); with --every, the end")
    p.add_argument("--every", type=float, default=None, metavar="S",
                   help="a sequence: one frame every S simulated seconds (out_0000.png, ...) "
                        "until --time, the end of the run folder, or everyone is out")
    p.add_argument("--camera", default="overview",
                   help="overview[:top] | floors (every floor on one sheet, with clock, "
                        "counts and legend) | floor:N[:oblique] | pose:x,y,z,heading,pitch | "
                        "follow:ID (default overview)")
    p.add_argument("--lang", default="zh", choices=("zh", "en"),
                   help="language of the words on a floors sheet (default zh)")
    p.add_argument("--size", default="1280x720", help="WIDTHxHEIGHT in pixels")
    p.add_argument("--out", required=True, help="the .png or .jpg file to write (a sequence "
                                                "numbers it: out_0000.png, ...)")
    p.add_argument("--scenario", default=None,
                   help="for a run folder: the scenario (name or .toml) to rebuild its scene "
                        "from, when not the one its summary.json names")
    p.add_argument("--seed", type=int, default=None, help="override the scenario's seed")
    p.set_defaults(func=run)
    return p


def _times(args: argparse.Namespace, end: float) -> list[float]:
    for name in ("time", "every"):
        v = getattr(args, name)
        if v is not None and (not math.isfinite(v) or v < 0 or (name == "every" and v == 0)):
            sign = "positive" if name == "every" else "non-negative"
            raise RenderError(f"--{name}: {v:g} must be a {sign} number of seconds")
    if args.every is None:
        return [args.time or 0.0]
    until = end if args.time is None else args.time
    count = int(math.floor(until / args.every + 1e-9)) + 1
    if count > MAX_FRAMES:
        raise RenderError(f"--every: {count} frames is more than {MAX_FRAMES}; use a larger S")
    return [i * args.every for i in range(count)]


def _drill_states(scenario: Any, seed: int | None, times: list[float],
                  until_empty: bool) -> Iterator[Any]:
    """States at ``times``; with ``until_empty``, the last is the first with nobody inside."""
    from render.state import snapshot
    from sim.drill import Drill

    drill = Drill(scenario, seed=seed)
    for t in times:
        while drill.time < t - 1e-9 and drill.remaining > 0:
            drill.step()
        yield snapshot(drill)
        if until_empty and drill.remaining == 0:
            return


def _sheet(renderer: Any, scene: Any, state: Any, fmt: str, lang: str) -> bytes:
    """Every floor of ``state`` on one sheet (:mod:`render.sheet`), as ``fmt``."""
    from render.camera import parse_camera
    from render.sheet import floor_sheet

    def draw(i: int, size: tuple[int, int]) -> bytes:
        renderer.render(state, parse_camera(f"floor:{i}"), size)
        return bytes(renderer.encode("png"))

    png = floor_sheet(scene, state, draw, lang=lang)
    if fmt == "png":
        return png
    import io

    import matplotlib.image as mpimg
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    plt.imsave(buf, mpimg.imread(io.BytesIO(png), format="png")[:, :, :3], format="jpeg")
    return buf.getvalue()


def run(args: argparse.Namespace) -> int:
    """Run ``drill render``; returns the exit status (errors raise RenderError/SimError)."""
    from render.camera import parse_camera
    from render.recording import is_run_dir, open_run
    from render.renderer import parse_size

    out = Path(args.out)
    fmt = SUFFIXES.get(out.suffix.lower())
    if fmt is None:
        raise RenderError(f"--out: '{out}' must end in .png or .jpg")
    if out.is_dir():
        raise RenderError(f"--out: '{out}' is a folder; give a file name like frame.png")
    size = parse_size(args.size)
    sheet = args.camera == "floors"
    camera = None if sheet else parse_camera(args.camera)
    if args.seed is not None and args.seed < 0:
        raise RenderError(f"--seed must be a non-negative integer, got {args.seed}")
    if is_run_dir(args.source):
        rec = open_run(args.source, args.scenario)
        scene, notes = rec.scenario.scene, rec.notes
        times = _times(args, rec.end_time)
        states: Iterator[Any] = (rec.state_at(t) for t in times)
    else:
        from sim.scenario import load

        if args.scenario is not None:
            raise RenderError("--scenario is only for run folders")
        scenario = load(args.source)
        max_time = scenario.settings.max_time
        times = _times(args, max_time)
        if times[-1] > max_time + 1e-9:
            raise RenderError(f"--time: {times[-1]:g} s is after the scenario's max_time "
                              f"({max_time:g} s)")
        scene, notes = scenario.scene, ()
        states = _drill_states(scenario, args.seed, times,
                               until_empty=args.every is not None and args.time is None)
    for note in notes:
        print(f"drill: note: {note}", file=sys.stderr)
    from render.renderer import Renderer

    renderer = Renderer(scene)
    out.parent.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    try:
        for i, state in enumerate(states):
            path = out if args.every is None else out.with_name(f"{out.stem}_{i:04d}{out.suffix}")
            if sheet:
                path.write_bytes(_sheet(renderer, scene, state, fmt, args.lang))
            else:
                renderer.render(state, camera, size)
                path.write_bytes(renderer.encode(fmt))
            paths.append(path)
    finally:
        renderer.close()
    info = renderer.info()
    what = str(paths[0]) if len(paths) == 1 else f"{len(paths)} frames {paths[0]} … {paths[-1]}"
    shape = "every floor on a sheet" if sheet else f"{size[0]}x{size[1]}"
    print(f"wrote {what} ({shape}, {info['module']}: {info['renderer']})")
    return 0
