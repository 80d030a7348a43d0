"""The ``drill`` command: ``drill run SCENARIO --out DIR [--seed N]``, ``drill export``.

Errors in what the user gave (scenario files, arguments) print one line naming the file,
field and problem, and exit with status 2; never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from sim.errors import ScenarioError, SimError

__all__ = ["main"]

EXIT_USAGE = 2


def _cmd_run(args: argparse.Namespace) -> int:
    from sim.run import run, terminal_progress
    from sim.scenario import load

    if args.seed is not None and args.seed < 0:
        raise ScenarioError(f"--seed must be a non-negative integer, got {args.seed}")
    if Path(args.out).exists() and not Path(args.out).is_dir():
        raise ScenarioError(f"--out: '{args.out}' exists and is not a folder")
    scenario = load(args.scenario)
    progress = terminal_progress() if sys.stderr.isatty() and not args.quiet else None
    result = run(scenario, args.out, seed=args.seed, progress=progress)
    print(json.dumps({k: result[k] for k in (
        "scenario", "agents", "evacuated", "evacuation_time_s", "exits", "sim_time_s",
        "wall_time_s")}, ensure_ascii=False))
    print(f"results written to {args.out}/ (summary.json, trajectories.txt, events.jsonl)")
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from sim.scenario import load
    from sim.scenes.export import export_glb

    if not str(args.out).lower().endswith(".glb"):
        raise ScenarioError(f"--out: '{args.out}' must end in .glb")
    scene = load(args.scene).scene
    path = export_glb(scene, args.out)
    nodes = len(scene.floors) * 2 + len(scene.exits) + len(scene.stairs)
    print(f"wrote {path} ({path.stat().st_size} bytes): {len(scene.floors)} floors, "
          f"{len(scene.exits)} exits, {len(scene.stairs)} stairs, ~{nodes} nodes")
    return 0


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="drill", description="Evacuation-drill backend.")
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="run a scenario to the end and write its results")
    r.add_argument("scenario", help="a built-in scenario name or a path to a .toml file")
    r.add_argument("--out", required=True, help="folder for summary.json, trajectories, events")
    r.add_argument("--seed", type=int, default=None, help="override the scenario's seed")
    r.add_argument("--quiet", action="store_true", help="no progress bar")
    r.set_defaults(func=_cmd_run)
    x = sub.add_parser("export", help="write a scene as glTF binary (.glb) for 3D/VR clients")
    x.add_argument("scene", help="a built-in scene or scenario name, or a .toml path")
    x.add_argument("--out", required=True, help="the .glb file to write")
    x.set_defaults(func=_cmd_export)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``drill`` console script; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        return int(args.func(args))
    except SimError as exc:
        print(f"drill: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:
        print(f"drill: error: {exc.filename or ''}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("drill: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
