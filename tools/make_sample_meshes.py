"""Write the sample building meshes in ``assets/meshes/`` (run again to regenerate them).

    python tools/make_sample_meshes.py [--out assets/meshes]

- ``office_two_storey.glb``: a two-storey office as a designer would model it (glTF, y-up,
  metres): slabs, a roof, outer walls with doors, partitions, a straight stair of 20 solid
  steps in a stairwell cut into the upper slab, a balustrade round the opening, and exits
  named ``EXIT_Main`` and ``出口_East``.
- ``shop_mm.obj``: a one-storey shop in millimetres, z-up, with shelving and two doors in the
  outer wall but no named exits (``drill import`` finds the doors as openings).
- ``hall_cm.stl``: a hall in centimetres, z-up, one door, no names at all (STL has none).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import trimesh

OUT = Path(__file__).resolve().parent.parent / "assets" / "meshes"


def box(x0: float, y0: float, z0: float, x1: float, y1: float, z1: float) -> trimesh.Trimesh:
    """An axis-aligned box between two corners, m."""
    return trimesh.creation.box(bounds=[[x0, y0, z0], [x1, y1, z1]])


def walls_with_doors(x0: float, y0: float, x1: float, y1: float, t: float, z0: float,
                     z1: float, doors: dict[str, list[tuple[float, float]]]) -> list:
    """Outer walls of thickness ``t`` inside the rectangle, with door gaps per side
    ("s", "n": x intervals; "w", "e": y intervals)."""

    def pieces(a: float, b: float, gaps: list[tuple[float, float]]) -> list[tuple[float, float]]:
        out, cur = [], a
        for g0, g1 in sorted(gaps):
            out.append((cur, g0))
            cur = g1
        out.append((cur, b))
        return [(p, q) for p, q in out if q - p > 1e-6]

    parts = []
    for a, b in pieces(x0, x1, doors.get("s", [])):
        parts.append(box(a, y0, z0, b, y0 + t, z1))
    for a, b in pieces(x0, x1, doors.get("n", [])):
        parts.append(box(a, y1 - t, z0, b, y1, z1))
    for a, b in pieces(y0 + t, y1 - t, doors.get("w", [])):
        parts.append(box(x0, a, z0, x0 + t, b, z1))
    for a, b in pieces(y0 + t, y1 - t, doors.get("e", [])):
        parts.append(box(x1 - t, a, z0, x1, b, z1))
    return parts


def office() -> trimesh.Scene:
    """The two-storey office, z-up (the caller turns it y-up for glTF)."""
    s = trimesh.Scene()
    L, W, H, SLAB = 20.0, 12.0, 3.5, 0.2
    rise, tread, steps = H / 20, 0.28, 20
    sx0, sy0, sy1 = 13.0, 10.4, 11.6  # the flight climbs along +x
    sx1 = sx0 + steps * tread
    s.add_geometry(box(0, 0, -SLAB, L, W, 0), node_name="Slab_Ground")
    upper = trimesh.util.concatenate([
        box(0, 0, H - SLAB, L, sy0 - 0.1, H), box(0, sy1 + 0.1, H - SLAB, L, W, H),
        box(0, sy0 - 0.1, H - SLAB, sx0, sy1 + 0.1, H),
        box(sx1, sy0 - 0.1, H - SLAB, L, sy1 + 0.1, H)])
    s.add_geometry(upper, node_name="Slab_First")
    s.add_geometry(box(0, 0, 2 * H - SLAB, L, W, 2 * H), node_name="Roof")
    ground = walls_with_doors(0, 0, L, W, 0.25, 0, H - SLAB,
                              {"s": [(9.0, 10.8)], "e": [(2.0, 3.2)]})
    ground += [box(0, 6.0, 0, 5.0, 6.12, H - SLAB), box(6.0, 6.0, 0, 12.0, 6.12, H - SLAB)]
    s.add_geometry(trimesh.util.concatenate(ground), node_name="Walls_Ground")
    first = walls_with_doors(0, 0, L, W, 0.25, H, 2 * H - SLAB, {})
    for x0, x1 in ((0, 3.0), (4.0, 9.0), (10.0, 16.0), (17.0, L)):
        first.append(box(x0, 6.0, H, x1, 6.12, 2 * H - SLAB))
    s.add_geometry(trimesh.util.concatenate(first), node_name="Walls_First")
    rail = [box(sx0 - 0.05, sy0 - 0.15, H, sx1, sy0 - 0.1, H + 1.0)]
    s.add_geometry(trimesh.util.concatenate(rail), node_name="Balustrade")
    flight = [box(sx0 + i * tread, sy0, 0, sx0 + (i + 1) * tread, sy1, (i + 1) * rise)
              for i in range(steps)]
    s.add_geometry(trimesh.util.concatenate(flight), node_name="Steps")
    s.add_geometry(box(9.0, 0.0, 0.0, 10.8, 0.4, 0.02), node_name="EXIT_Main")
    s.add_geometry(box(L - 0.4, 2.0, 0.0, L, 3.2, 0.02), node_name="出口_East")
    return s


def shop() -> trimesh.Scene:
    """The one-storey shop, z-up, in metres (scaled to mm by the caller)."""
    s = trimesh.Scene()
    L, W, H = 15.0, 10.0, 3.0
    s.add_geometry(box(0, 0, -0.15, L, W, 0), node_name="floor")
    s.add_geometry(trimesh.util.concatenate(walls_with_doors(
        0, 0, L, W, 0.2, 0, H, {"s": [(6.0, 7.6)], "n": [(12.0, 13.0)]})), node_name="walls")
    shelves = [box(2.0 + 3.0 * i, 3.0, 0, 3.0 + 3.0 * i, 7.5, 1.8) for i in range(4)]
    s.add_geometry(trimesh.util.concatenate(shelves), node_name="shelving")
    s.add_geometry(box(12.5, 1.0, 0, 14.5, 2.0, 1.0), node_name="counter")
    return s


def hall() -> trimesh.Trimesh:
    """The hall, z-up, in metres (scaled to cm by the caller)."""
    L, W, H = 30.0, 20.0, 4.5
    parts = [box(0, 0, -0.2, L, W, 0)]
    parts += walls_with_doors(0, 0, L, W, 0.3, 0, H, {"w": [(9.0, 11.0)]})
    parts += [box(10.0 + 6.0 * i, 9.0, 0, 10.6 + 6.0 * i, 9.6, H) for i in range(3)]  # columns
    return trimesh.util.concatenate(parts)


def main() -> None:
    """Write the three samples and print their sizes."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default=str(OUT), help="folder to write into")
    out = Path(p.parse_args().out)
    out.mkdir(parents=True, exist_ok=True)
    y_up = trimesh.transformations.rotation_matrix(-np.pi / 2, (1, 0, 0))
    sc = office()
    sc.apply_transform(y_up)
    (out / "office_two_storey.glb").write_bytes(sc.export(file_type="glb"))
    sh = shop()
    sh.apply_scale(1000.0)
    (out / "shop_mm.obj").write_text(sh.export(file_type="obj"), encoding="utf-8")
    h = hall()
    h.apply_scale(100.0)
    (out / "hall_cm.stl").write_bytes(h.export(file_type="stl"))
    for f in sorted(out.iterdir()):
        print(f"{f}: {f.stat().st_size} bytes")


if __name__ == "__main__":
    main()
