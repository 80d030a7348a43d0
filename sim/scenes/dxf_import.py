"""Turning 2D CAD plans (DXF, one file per storey) into a scene with ezdxf.

Each file is one storey, the first the lowest, ``storey_height`` apart; or one file holds
the storeys as blocks named after them (``1F``, ``2F``, ``一层``, …). What is on which
layer decides what it is (:data:`LAYERS`, or ``layers``; names compared case-insensitively,
a layer matches a name it starts with, so ``A-WALL-EXT`` is a wall layer):

- **walls**: lines and polylines are wall centre lines or faces, drawn :data:`WALL` thick;
  closed polylines and hatches are solid (columns, wall poché);
- **doors**: anything (blocks, arcs, lines) whose outline marks a door; door gaps in the
  walls stay open, and doors on the outline of the lowest storey are its exits;
- **exits**: closed polylines marking exit areas (besides the doors);
- **stairs**: closed polylines outlining a stair (its flights and half landing, a dog-leg
  as in most Chinese buildings): the same outline on two consecutive storeys is a stair
  between them, entered from the floor at its short side with more floor in front;
- **outline** (optional): a closed polyline around the storey; without it, the outline
  is what the walls and doors enclose.

Units from ``$INSUNITS`` (or ``units``). Errors name the file and what is missing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry import LineString, Polygon

from sim.errors import ScenarioError
from sim.scenes.kit import dogleg_length
from sim.scenes.mesh_geometry import hole_free, largest
from sim.scenes.mesh_import import (
    MIN_DOOR,
    MIN_FLOOR_AREA,
    SIMPLIFY,
    ExitSpec,
    Finding,
    MeshImport,
    _deepen,
    _exits,
    _unique,
)
from sim.scenes.mesh_load import Soup
from sim.scenes.model import Exit, Floor, Scene, Stair

__all__ = ["LAYERS", "import_dxf", "parse_layers", "storey_number"]

LAYERS: dict[str, tuple[str, ...]] = {
    "walls": ("wall", "a-wall", "墙", "s-wall", "柱", "column", "a-cols"),
    "doors": ("door", "a-door", "门"),
    "exits": ("exit", "安全出口", "出口"),
    "stairs": ("stair", "a-flor-strs", "楼梯", "梯"),
    "outline": ("outline", "boundary", "轮廓", "外轮廓"),
}
"""Default layer names per role (prefixes, any case; Chinese names of GB/T 18112 style
plans included)."""
WALL = 0.2
"""Thickness given to wall lines, m."""
UNITS = {1: 0.0254, 2: 0.3048, 4: 0.001, 5: 0.01, 6: 1.0}
"""``$INSUNITS`` codes read: inches, feet, millimetres, centimetres, metres."""
UNIT_NAMES = {"mm": 0.001, "cm": 0.01, "m": 1.0}
FLATTEN = 0.01
"""Arcs and curves are flattened to this tolerance, m."""
STAIR_RISER, STAIR_TREAD = 0.15, 0.28
"""Riser and tread assumed to estimate a stair's walking length, m (GB 50352-2019)."""


def parse_layers(text: str) -> dict[str, tuple[str, ...]]:
    """``"walls=墙,WALL;doors=门"`` as a role → layer names mapping (defaults for the rest)."""
    out = dict(LAYERS)
    for item in filter(None, (p.strip() for p in text.split(";"))):
        role, sep, names = item.partition("=")
        role = role.strip().lower()
        if not sep or role not in LAYERS or not names.strip():
            raise ScenarioError(f"--layers '{item}': expected ROLE=LAYER[,LAYER…] with ROLE one "
                                f"of {', '.join(LAYERS)}")
        out[role] = tuple(n.strip().lower() for n in names.split(",") if n.strip())
    return out


def _role(layer: str, layers: dict[str, tuple[str, ...]]) -> str | None:
    name = layer.strip().lower()
    for role, names in layers.items():
        if any(name.startswith(n) for n in names):
            return role
    return None


def _read(path: Path) -> Any:  # noqa: ANN401 - ezdxf document
    import ezdxf

    if not path.exists():
        raise ScenarioError("no such file", source=str(path))
    try:
        return ezdxf.readfile(str(path))
    except (OSError, ezdxf.DXFError) as exc:
        reason = " ".join(str(exc).split())
        raise ScenarioError(f"not a readable DXF file ({reason})", source=str(path)) from None


def _shapes(entities: Any, layers: dict[str, tuple[str, ...]], scale: float  # noqa: ANN401
            ) -> tuple[dict[str, list[Any]], set[str]]:
    """Per role, the shapely geometries of ``entities`` (blocks exploded), in metres; and
    every layer name seen."""
    from ezdxf import path as dxfpath

    out: dict[str, list[Any]] = {r: [] for r in LAYERS}
    seen: set[str] = set()

    def add(e: Any, role: str) -> None:  # noqa: ANN401
        kind = e.dxftype()
        if kind == "INSERT":
            for v in e.virtual_entities():
                add(v, role)
            return
        if kind in ("TEXT", "MTEXT", "DIMENSION", "POINT", "ATTRIB", "ATTDEF"):
            return
        if kind == "HATCH":
            for p in dxfpath.from_hatch(e):
                xy = np.array([(v.x, v.y) for v in p.flattening(FLATTEN / scale)]) * scale
                if len(xy) >= 3:
                    out[role].append(Polygon(xy).buffer(0))
            return
        try:
            p = dxfpath.make_path(e)
        except (TypeError, ValueError):
            return
        xy = np.array([(v.x, v.y) for v in p.flattening(FLATTEN / scale)]) * scale
        if len(xy) < 2:
            return
        closed = bool(getattr(e, "closed", False) or getattr(e, "is_closed", False)) or (
            len(xy) > 3 and np.allclose(xy[0], xy[-1])) or kind == "CIRCLE"
        out[role].append(Polygon(xy).buffer(0) if closed and len(xy) >= 3
                         else LineString(xy))

    for e in entities:
        layer = e.dxf.get("layer", "0")
        seen.add(layer)
        role = _role(layer, layers)
        if role is not None:
            add(e, role)
    return out, seen


def import_dxf(paths: Sequence[str | Path], *, storey_height: float = 3.0,
               units: str = "auto", layers: dict[str, tuple[str, ...]] | None = None,
               exits: Sequence[ExitSpec] = (), only_exits: bool = False,
               name: str | None = None) -> MeshImport:
    """Read one DXF plan per storey (lowest first) and build the floors, walls, doors,
    exits and stairs. Raises :class:`ScenarioError` naming the file and what is wrong."""
    if not 2.0 <= storey_height <= 10.0:
        raise ScenarioError(f"--storey-height must be 2 to 10 m, got {storey_height:g}")
    layers = layers or LAYERS
    paths = [Path(p) for p in paths]
    findings: list[Finding] = []
    floors: list[Floor] = []
    doors: list[list[Polygon]] = []
    marked: list[list[Polygon]] = []
    stair_outlines: list[list[Polygon]] = []
    notes: list[str] = []
    taken: set[str] = set()
    plans = _plans(paths, units, notes)
    for k, (path, label, entities, scale) in enumerate(plans):
        shapes, seen = _shapes(entities, layers, scale)
        if not shapes["walls"]:
            found = ", ".join(sorted(seen)) or "none"
            raise ScenarioError(f"no walls: no entity on a wall layer "
                                f"({', '.join(layers['walls'])}; layers in the file: {found}); "
                                "name the layers with --layers walls=LAYER", source=str(path))
        lines = [g for g in shapes["walls"] if g.geom_type == "LineString"]
        solids = [g for g in shapes["walls"] if g.geom_type != "LineString"]
        walls = shapely.union_all([shapely.buffer(shapely.union_all(lines), WALL / 2,
                                                  cap_style="flat", join_style="mitre")]
                                  + solids) if lines else shapely.union_all(solids)
        door_boxes = [shapely.envelope(g) if g.geom_type == "LineString" else
                      shapely.minimum_rotated_rectangle(g) for g in shapes["doors"]]
        outline = _outline(shapes["outline"], walls, door_boxes)
        if outline.is_empty or outline.area < MIN_FLOOR_AREA:
            raise ScenarioError("no storey outline: the walls (and doors) enclose no area; "
                                "close the outer wall or draw an outline layer",
                                source=str(path))
        sid = _unique(label or f"{k + 1}F", taken)
        stairs_here = [g for g in shapes["stairs"] if g.geom_type == "Polygon"]
        obst = shapely.union_all([walls, *stairs_here]) if stairs_here else walls
        obst = shapely.difference(obst, shapely.union_all(door_boxes)) if door_boxes else obst
        obst = shapely.intersection(obst, shapely.buffer(outline, 0.5))
        pieces = hole_free(shapely.set_precision(shapely.simplify(obst, SIMPLIFY), 0.001),
                           min_area=0.005)
        floor = Floor(id=sid, elevation=round(k * storey_height, 3), walkable=outline,
                      obstacles=tuple(pieces))
        floors.append(floor)
        doors.append(door_boxes)
        marked.append([g for g in shapes["exits"] if g.geom_type == "Polygon"])
        stair_outlines.append(stairs_here)
        findings.append(Finding("floor", sid, f"plan {path.name}"
                                + (f", block {label}" if label else ""),
                                f"z={floor.elevation:g} m, {floor.area.area:.0f} m² walkable, "
                                f"{len(pieces)} obstacles, {len(door_boxes)} doors"))
    stairs = _stairs(floors, stair_outlines, storey_height, findings)
    exit_list = _door_exits(floors, doors, marked, only_exits, findings)
    if exits:
        soup = Soup(tris=np.zeros((0, 3, 3)), part=np.zeros(0, np.int32), parts=[], notes=[],
                    units="m", up="z")
        exit_list += _exits(soup, floors, set(), set(), exits, findings, str(paths[0]),
                            only_exits=True)
    if not exit_list:
        raise ScenarioError("no exit found: no door on the outline of the lowest storey and no "
                            "exit layer; pass --exit ID:x,y,floor", source=str(paths[0]))
    scene = Scene(name=name or paths[0].stem, floors=tuple(floors), exits=tuple(exit_list),
                  stairs=tuple(stairs))
    return MeshImport(scene=scene, source=str(paths[0]), triangles=0, notes=notes,
                      findings=findings)


def _plans(paths: list[Path], units: str, notes: list[str]
           ) -> list[tuple[Path, str | None, Any, float]]:
    """(file, storey name or None, entities, metres per drawing unit) per storey, lowest
    first: each file's model space, or, for a single file that defines blocks named as
    storeys (1F, F2, L3, 一层, 2层, …), each such block."""
    out = []
    for k, path in enumerate(paths):
        doc = _read(path)
        scale, note = _scale(doc, units, path)
        if k == 0:
            notes.append(note)
        storeys = sorted(((n, b) for b in doc.blocks
                          if (n := storey_number(b.name)) is not None), key=lambda p: p[0])
        if len(paths) == 1 and storeys:
            notes.append(f"storeys from the blocks {', '.join(b.name for _, b in storeys)}")
            return [(path, b.name, b, scale) for _, b in storeys]
        out.append((path, None, doc.modelspace(), scale))
    return out


_CHINESE_DIGITS = {c: i for i, c in enumerate("零一二三四五六七八九十")}


def storey_number(name: str) -> int | None:
    """The storey a block name stands for (``1F``, ``F2``, ``L3``, ``一层``, ``2层``,
    ``B1`` for a basement: −1), or None."""
    import re

    n = name.strip().upper()
    if m := re.fullmatch(r"(\d+)F|F(\d+)|L(\d+)|(\d+)层|(\d+)/F", n):
        return int(next(g for g in m.groups() if g))
    if m := re.fullmatch(r"B(\d+)|-(\d+)F|地下(\d+)层", n):
        return -int(next(g for g in m.groups() if g))
    if m := re.fullmatch(r"([一二三四五六七八九十]{1,3})层", name.strip()):
        digits = [_CHINESE_DIGITS[c] for c in m.group(1)]
        if digits == [10]:
            return 10
        if len(digits) == 1:
            return digits[0]
        if digits[0] == 10:  # 十一 … 十九
            return 10 + digits[1]
        return digits[0] * 10 + (digits[2] if len(digits) == 3 else 0)
    return None


def _scale(doc: Any, units: str, path: Path) -> tuple[float, str]:  # noqa: ANN401
    if units != "auto":
        if units not in UNIT_NAMES:
            raise ScenarioError(f"--units must be one of m, cm, mm, auto; got '{units}'")
        return UNIT_NAMES[units], f"units {units} (given)"
    code = int(doc.header.get("$INSUNITS", 0) or 0)
    if code not in UNITS:
        raise ScenarioError(f"units missing: the drawing's $INSUNITS is {code} (unitless or "
                            "unknown); pass --units mm (or cm, m)", source=str(path))
    return UNITS[code], f"units from $INSUNITS = {code} (1 drawing unit = {UNITS[code]:g} m)"


def _outline(drawn: list[Any], walls: Any, doors: list[Polygon]) -> Polygon:  # noqa: ANN401
    """The storey's outline: the drawn one, or what walls and doors enclose."""
    polys = [g for g in drawn if g.geom_type == "Polygon"]
    if polys:
        return largest(shapely.union_all(polys))
    ring = shapely.union_all([walls, *doors])
    return Polygon(largest(shapely.set_precision(ring, 0.001)).exterior)


def _door_exits(floors: list[Floor], doors: list[list[Polygon]], marked: list[list[Polygon]],
                only_exits: bool, findings: list[Finding]) -> list[Exit]:
    out: list[Exit] = []
    taken: set[str] = set()
    for fi, polys in enumerate(marked):
        for p in polys:
            eid = _unique(f"exit-{len(out) + 1}", taken)
            out.append(Exit(id=eid, floor=fi, polygon=_deepen(p),
                            width=round(_long_side(p), 2)))
            findings.append(Finding("exit", eid, "closed polyline on an exit layer",
                                    f"on {floors[fi].id}"))
    if only_exits or out:
        return out
    low = floors[0]
    edge = low.walkable.exterior
    for d in doors[0]:
        if edge.distance(d) > WALL:
            continue
        width = _long_side(d)
        if width < MIN_DOOR:
            continue
        # The part of the door symbol in the wall (not the leaf's swing into the room).
        gap = shapely.intersection(d, shapely.buffer(edge, WALL + 0.05))
        poly = _deepen(shapely.intersection(gap, low.walkable))
        if poly.is_empty or not poly.intersects(low.area):
            continue
        eid = _unique(f"door-{len(out) + 1}", taken)
        out.append(Exit(id=eid, floor=0, polygon=poly, width=round(width, 2)))
        c = d.centroid
        findings.append(Finding("exit", eid, "door on the outline of the lowest storey",
                                f"{width:.2f} m wide at ({c.x:.1f}, {c.y:.1f}) on {low.id}"))
    return out


def _long_side(p: Polygon) -> float:
    xy = shapely.get_coordinates(shapely.minimum_rotated_rectangle(p))[:4]
    return max(math.dist(xy[k], xy[(k + 1) % 4]) for k in range(2)) if len(xy) >= 4 else 0.0


def _stairs(floors: list[Floor], outlines: list[list[Polygon]], storey: float,
            findings: list[Finding]) -> list[Stair]:
    """A dog-leg stair wherever the same stair outline is drawn on two consecutive storeys;
    both ends lie at the short side with more floor in front of it."""
    out: list[Stair] = []
    for k in range(len(floors) - 1):
        for a in outlines[k]:
            b = next((p for p in outlines[k + 1] if p.intersects(a) and
                      p.intersection(a).area > 0.5 * min(p.area, a.area)), None)
            if b is None:
                continue
            rect = shapely.minimum_rotated_rectangle(a)
            xy = shapely.get_coordinates(rect)[:4]
            sides = [(math.dist(xy[i], xy[(i + 1) % 4]), i) for i in range(4)]
            short, _ = min(sides)
            width = short / 2  # two flights side by side
            # The floor side: the short side with more floor in front of it. A dog-leg's
            # flight up starts from one half of it and the flight from below arrives at the
            # other half of the side on the floor above.
            best, side = None, None
            for length, i in sides:
                if abs(length - short) > 1e-6:
                    continue
                seg = LineString([xy[i], xy[(i + 1) % 4]])
                front = shapely.intersection(
                    shapely.buffer(seg, max(width, 0.6), cap_style="flat"), floors[k].area)
                if best is None or front.area > best.area:
                    best, side = front, (xy[i], xy[(i + 1) % 4])
            p0, p1 = np.asarray(side[0]), np.asarray(side[1])
            mid = (p0 + p1) / 2
            ends = []
            for fi, (a0, a1) in ((k + 1, (mid, p1)), (k, (p0, mid))):
                half = shapely.buffer(LineString([a0, a1]), max(width, 0.6), cap_style="flat")
                ends.append(largest(shapely.set_precision(
                    shapely.intersection(half, floors[fi].area), 0.001)))
            sid = f"stair-{floors[k].id}-{floors[k + 1].id}-{len(out) + 1}"
            if min(e.area for e in ends) < 0.2:
                findings.append(Finding("warning", sid, "stair skipped: no floor in front of "
                                        "its short sides"))
                continue
            length = dogleg_length(storey, width, STAIR_RISER, STAIR_TREAD)
            out.append(Stair(id=sid, floors=(k + 1, k), areas=(ends[0], ends[1]),
                             length=round(length, 2), width=round(width, 2)))
            findings.append(Finding("stair", sid, "stair outline on both storeys' stair layers",
                                    f"dog-leg, width {width:.2f} m, length {length:.1f} m"))
    return out
