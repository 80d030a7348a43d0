"""The ``drill`` command: ``drill run SCENARIO --out DIR [--seed N]``, ``drill export``,
``drill import``, ``drill verify`` (tools/verify_cli.py).

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
    print(f"results written to {args.out}/ "
          "(summary.json, trajectories.txt, events.jsonl, drill.rec)")
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


def _add_render(sub: argparse._SubParsersAction) -> None:
    """``drill render``: the parser is light; Panda3D is imported only when it runs."""
    from render.cli import add_parser

    add_parser(sub)


def _cmd_import(args: argparse.Namespace) -> int:
    from sim.scenes.mesh_import import import_mesh, parse_exit_spec

    if not str(args.out).lower().endswith(".toml"):
        raise ScenarioError(f"--out: '{args.out}' must end in .toml")
    if args.density is not None and not 0 < args.density <= 5:
        raise ScenarioError(f"--density must be in (0, 5] people per m², got {args.density:g}")
    specs = [parse_exit_spec(s) for s in args.exit]
    kinds = {Path(f).suffix.lower() for f in args.mesh}
    if kinds == {".dxf"}:  # 2D plans, one per storey
        from sim.scenes.dxf_import import import_dxf, parse_layers

        result = import_dxf(args.mesh, storey_height=args.storey_height, units=args.units,
                            layers=parse_layers(args.layers or ""), exits=specs,
                            only_exits=args.only_exits)
    elif len(args.mesh) > 1:
        raise ScenarioError("several files are read only as DXF plans (one per storey); "
                            f"got {', '.join(args.mesh)}")
    elif kinds == {".ifc"}:  # BIM: storeys, doors and stairs as modelled
        from sim.scenes.ifc_import import import_ifc

        result = import_ifc(args.mesh[0], exits=specs, only_exits=args.only_exits,
                            furniture=args.furniture)
    else:
        result = import_mesh(args.mesh[0], units=args.units, up=args.up, exits=specs,
                             only_exits=args.only_exits)
    try:
        text = result.to_toml(density=args.density, occupancy=args.occupancy)
    except ScenarioError:
        if args.preview:  # the plans show what cannot be reached (in red)
            from sim.scenes.preview import write_previews

            write_previews(result.scene, args.preview, lang=args.lang)
        raise
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    print(result.report())
    print(f"wrote {out}: {len(result.scene.floors)} floors, {len(result.scene.exits)} exits, "
          f"{len(result.scene.stairs)} stairs")
    if args.preview:
        from sim.scenes.preview import write_previews

        paths = write_previews(result.scene, args.preview, people=_placed(text, out),
                               lang=args.lang)
        print(f"previews: {', '.join(str(p) for p in paths)}")
    return 0


def _placed(text: str, source: Path) -> list:
    """Per floor, the (n, 2) start positions of the people a scenario text places, m."""
    import tomllib

    import numpy as np

    from sim.agents.population import populate
    from sim.scenario import parse

    scenario = parse(tomllib.loads(text), source=str(source))
    crowd = populate(scenario, np.random.default_rng(scenario.settings.seed))
    return [crowd.pos[crowd.floor == fi] for fi in range(len(scenario.scene.floors))]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="drill", description="Evacuation-drill backend.")
    sub = p.add_subparsers(dest="command", required=True)
    __import__("net.cli", fromlist=["add_parsers"]).add_parsers(sub)  # drill serve / join
    __import__("tools.record_cli", fromlist=["add_parsers"]).add_parsers(sub)  # replay, report…
    __import__("tools.verify_cli", fromlist=["add_parser"]).add_parser(sub)  # drill verify
    __import__("tools.sweep", fromlist=["add_parser"]).add_parser(sub)  # drill sweep
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
    m = sub.add_parser("import", help="turn a building model (IFC, or a mesh: GLB, OBJ, STL, "
                                      "PLY, OFF) into a scenario: floors, walls, exits, stairs")
    m.add_argument("mesh", nargs="+", help="the IFC or mesh file, or DXF plans (one per "
                                           "storey, lowest first)")
    m.add_argument("--out", required=True, help="the scenario .toml to write")
    m.add_argument("--units", default="auto", choices=("auto", "m", "cm", "mm"),
                   help="length unit of the mesh (default: from the storey height)")
    m.add_argument("--up", default="auto", choices=("auto", "y", "z"),
                   help="up axis of the mesh (default: y for glTF, else from the faces)")
    m.add_argument("--exit", action="append", default=[], metavar="ID:x,y,floor",
                   help="an exit at a point (metres, after units and axes), on a floor by id "
                        "or index; repeatable")
    m.add_argument("--furniture", action="store_true",
                   help="IFC: furniture is an obstacle too")
    m.add_argument("--layers", metavar="ROLE=LAYER,…;…",
                   help="DXF: layer names per role (walls, doors, exits, stairs, outline), "
                        "e.g. 'walls=墙,WALL;doors=门' (defaults: docs/import.md)")
    m.add_argument("--storey-height", type=float, default=3.0,
                   help="DXF: height between storeys, m (default 3)")
    m.add_argument("--only-exits", action="store_true",
                   help="only the named exits and --exit points: no openings in the outer "
                        "wall are taken as doors")
    m.add_argument("--preview", metavar="DIR", help="write a plan PNG per floor into DIR")
    m.add_argument("--occupancy", default="office",
                   choices=("office", "school", "mall", "residential"),
                   help="who is in the building: density per floor and pre-movement "
                        "(default office: 0.1 per m², 30-90 s; docs/import.md)")
    m.add_argument("--density", type=float, default=None,
                   help="people per m² on every floor instead of the occupancy's")
    m.add_argument("--lang", default="zh", choices=("zh", "en"),
                   help="language of the preview labels (default zh)")
    m.set_defaults(func=_cmd_import)
    _add_render(sub)
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
