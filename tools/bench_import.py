"""Benchmark ``drill import``: seconds and peak memory for meshes of 10 k, 100 k and 1 M triangles,
and for IFC models of a few thousand elements.

    python tools/bench_import.py [--sizes 10000 100000 1000000] [--scene mall]
    python tools/bench_import.py --ifc [--bays 10] [--storeys 10 20]

IFC: the test house of ``tests/ifc_models.py`` (slabs, walls, doors in openings, spaces, a
stair per storey) repeated ``--bays`` times side by side and ``--storeys`` high.

Each mesh is a built-in scene exported to GLB (as ``drill export`` does) whose parts are
subdivided until the whole has about the wanted number of triangles: the same building,
as finely tessellated as a CAD export can be. Every size is imported in a fresh process, so
that its peak resident memory (``VmHWM``) is its own; the process's memory after
importing numpy, shapely and trimesh is printed too. One JSON line per size.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def make_mesh(scene_name: str, target: int, path: Path) -> int:
    """Write the scene as GLB with about ``target`` triangles; returns the count."""
    import numpy as np
    import trimesh

    from sim.scenario import load
    from sim.scenes.export import scene_to_trimesh

    sc = scene_to_trimesh(load(scene_name).scene)
    base = sum(len(g.faces) for g in sc.geometry.values())
    if target > base:
        # Area-proportional split: edge length so that the total is about the target.
        area = sum(g.area for g in sc.geometry.values())
        edge = float(np.sqrt(2 * area / max(target - base, 1)))
        for _ in range(6):
            count = 0
            for name, g in list(sc.geometry.items()):
                v, f = trimesh.remesh.subdivide_to_size(g.vertices, g.faces, max_edge=edge,
                                                        max_iter=30)
                count += len(f)
                m = trimesh.Trimesh(v, f, process=False)
                m.metadata.update(g.metadata)
                sc.geometry[name] = m
            if abs(count - target) <= 0.25 * target:
                break
            edge *= float(np.sqrt(count / target))
            sc = scene_to_trimesh(load(scene_name).scene)
    path.write_bytes(sc.export(file_type="glb"))
    return sum(len(g.faces) for g in sc.geometry.values())


def _hwm_kb() -> int:
    """Peak resident memory of this process, kB (VmHWM: unlike ru_maxrss, not inherited)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _child(mesh: str) -> None:
    import numpy  # noqa: F401
    import shapely  # noqa: F401
    import trimesh  # noqa: F401

    base = _hwm_kb()
    from sim.scenes.mesh_import import import_mesh

    t0 = time.perf_counter()
    if mesh.endswith(".ifc"):
        from sim.scenes.ifc_import import import_ifc

        r = import_ifc(mesh)
    else:
        r = import_mesh(mesh)
    t1 = time.perf_counter()
    text = r.to_toml()
    t2 = time.perf_counter()
    peak = _hwm_kb()
    print(json.dumps({"triangles": r.triangles, "import_s": round(t1 - t0, 3),
                      "toml_and_check_s": round(t2 - t1, 3), "floors": len(r.scene.floors),
                      "exits": len(r.scene.exits), "stairs": len(r.scene.stairs),
                      "obstacles": sum(len(f.obstacles) for f in r.scene.floors),
                      "toml_bytes": len(text.encode()), "peak_rss_mb": round(peak / 1024, 1),
                      "rss_before_import_mb": round(base / 1024, 1)}))


def _bench_ifc(bays: int, storeys: list[int]) -> None:
    """Write the test house ``bays`` wide and each of ``storeys`` high, import each."""
    sys.path.insert(0, str(ROOT / "tests"))
    import ifcopenshell
    from ifc_models import house

    with tempfile.TemporaryDirectory() as tmp:
        for n in storeys:
            path = Path(tmp) / f"house_{bays}x{n}.ifc"
            t0 = time.perf_counter()
            house(path, storeys=n, bays=bays)
            made = time.perf_counter() - t0
            elements = len(ifcopenshell.open(str(path)).by_type("IfcElement"))
            out = subprocess.run([sys.executable, __file__, "--child", str(path)], check=True,
                                 capture_output=True, text=True, cwd=ROOT)
            row = json.loads(out.stdout.strip().splitlines()[-1])
            row.update(ifc_elements=elements, bays=bays, storeys=n, write_s=round(made, 1),
                       file_mb=round(path.stat().st_size / 2**20, 1))
            print(json.dumps(row), flush=True)


def main() -> None:
    """Build the meshes and import each in its own process."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    p.add_argument("--scene", default="mall")
    p.add_argument("--ifc", action="store_true", help="benchmark IFC models instead")
    p.add_argument("--bays", type=int, default=10)
    p.add_argument("--storeys", type=int, nargs="+", default=[10, 20])
    p.add_argument("--child", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        _child(args.child)
        return
    if args.ifc:
        _bench_ifc(args.bays, args.storeys)
        return
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            path = Path(tmp) / f"{args.scene}_{n}.glb"
            count = make_mesh(args.scene, n, path)
            out = subprocess.run([sys.executable, __file__, "--child", str(path)], check=True,
                                 capture_output=True, text=True, cwd=ROOT)
            row = json.loads(out.stdout.strip().splitlines()[-1])
            row.update(target=n, scene=args.scene, file_mb=round(path.stat().st_size / 2**20, 1))
            print(json.dumps(row), flush=True)
            assert row["triangles"] == count


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
