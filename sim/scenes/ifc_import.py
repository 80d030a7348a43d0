"""Turning a BIM model (IFC2X3, IFC4) into a scene with IfcOpenShell.

What the model says is used as it is, and only the plan is worked out from geometry:

- **Floors**: every ``IfcBuildingStorey`` with its elevation; its walkable outline is the
  top of its slabs (``IfcSlab``; without slabs, its spaces), holes in it (stairwells,
  atriums) are obstacles.
- **Obstacles**: walls, curtain walls, columns and railings (and furniture with
  ``furniture=True``), cut at :data:`sim.scenes.mesh_import.SLICE_HEIGHTS` above each floor,
  so that door openings stay open.
- **Exits**: doors (``IfcDoor``, with their ``OverallWidth``) in the outer envelope of the
  lowest storey; outer doors higher up are reported, not taken. ``--exit`` points add to
  them (``only_exits`` leaves the doors out).
- **Stairs**: ``IfcStair`` and ``IfcRamp`` (their flights), between the storeys nearest
  their lowest and highest points, with width, run and rise from their geometry.
- **Rooms**: spaces (``IfcSpace``) with their names become the groups of people (so orders
  by zone work); without spaces, each walkable piece is a room.

Units come from the file (IfcOpenShell returns geometry in metres). Each floor, exit and
stair carries the rule that found it, as for meshes (:class:`MeshImport`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry import Point, Polygon

from sim.errors import ScenarioError
from sim.scenes.mesh_geometry import footprint, hole_free, largest
from sim.scenes.mesh_import import (
    MAX_DOOR,
    MIN_FLOOR_AREA,
    SIMPLIFY,
    SLICE_HEIGHTS,
    ExitSpec,
    Finding,
    MeshImport,
    _cut,
    _deepen,
    _draft,
    _exits,
    _place_stair_ends,
    _StairDraft,
    _unique,
    _walkable,
    _width,
)
from sim.scenes.mesh_load import Part, Soup
from sim.scenes.model import Exit, Floor, Scene

__all__ = ["SCHEMAS", "import_ifc"]

SCHEMAS = ("IFC2X3", "IFC4")
"""IFC schemas read."""
OBSTACLES = ("IfcWall", "IfcCurtainWall", "IfcColumn", "IfcRailing")
"""Element classes that are obstacles on a floor plan (subclasses included)."""
FURNITURE = ("IfcFurnishingElement",)
"""Obstacles too with ``furniture=True`` (IFC4 ``IfcFurniture`` is a subclass)."""
SLAB_TOP = 0.6
"""Slab faces this close to a storey's elevation are its floor, m."""
OUTSIDE = 0.6
"""A door is in the outer envelope when a point this far on one side of it is outside the
floor outline, m."""


def _open(path: Path) -> Any:  # noqa: ANN401 - ifcopenshell.file
    import ifcopenshell

    if not path.exists():
        raise ScenarioError("no such file", source=str(path))
    try:
        f = ifcopenshell.open(str(path))
    except Exception as exc:  # IfcOpenShell raises its own and plain errors
        reason = " ".join(str(exc).split())
        raise ScenarioError(f"not a readable IFC file ({reason})", source=str(path)) from None
    if f.schema not in SCHEMAS:
        raise ScenarioError(f"unsupported IFC schema '{f.schema}': IFC2X3 and IFC4 are read "
                            "(export the model as IFC4 or IFC2X3)", source=str(path))
    units = [u for p in f.by_type("IfcProject") if p.UnitsInContext
             for u in p.UnitsInContext.Units or ()
             if getattr(u, "UnitType", None) == "LENGTHUNIT"]
    if not units:
        raise ScenarioError("the file declares no length unit (IfcProject.UnitsInContext): "
                            "cannot tell metres from millimetres; export it with units",
                            source=str(path))
    return f


def _shapes(f: Any, elements: list[Any]) -> dict[int, np.ndarray]:  # noqa: ANN401
    """Triangles (m, 3, 3) in metres, world coordinates, of each element id that has any."""
    import ifcopenshell.geom

    out: dict[int, np.ndarray] = {}
    if not elements:
        return out
    settings = ifcopenshell.geom.settings()
    settings.set("use-world-coords", True)
    it = ifcopenshell.geom.iterator(settings, f, 1, include=elements)
    if not it.initialize():
        return out
    while True:  # one iteration per element with a shape
        shape = it.get()
        verts = np.asarray(shape.geometry.verts, float).reshape(-1, 3)
        faces = np.asarray(shape.geometry.faces, np.int64).reshape(-1, 3)
        if len(faces):
            out[shape.id] = verts[faces]
        if not it.next():
            break
    return out


def _name(el: Any, fallback: str) -> str:  # noqa: ANN401
    for attr in ("Name", "LongName"):
        v = getattr(el, attr, None)
        if isinstance(v, str) and v.strip():
            return v.strip()
    return fallback


def _elevation(st: Any, scale: float) -> float:  # noqa: ANN401
    """Elevation of a storey, m (its attribute, else its placement)."""
    import ifcopenshell.util.placement

    if st.Elevation is not None:
        return round(float(st.Elevation) * scale, 4)
    if st.ObjectPlacement is not None:
        m = ifcopenshell.util.placement.get_local_placement(st.ObjectPlacement)
        return round(float(m[2, 3]) * scale, 4)
    return 0.0


def _storey_of(el: Any) -> Any | None:  # noqa: ANN401
    import ifcopenshell.util.element

    st = ifcopenshell.util.element.get_container(el) or ifcopenshell.util.element.get_aggregate(
        el)
    while st is not None and not st.is_a("IfcBuildingStorey"):
        st = ifcopenshell.util.element.get_aggregate(st)
    return st


def import_ifc(path: str | Path, *, exits: Sequence[ExitSpec] = (), only_exits: bool = False,
               name: str | None = None, furniture: bool = False) -> MeshImport:
    """Read an IFC file and build its floors, walls, doors, stairs and rooms (metres).

    Raises :class:`ScenarioError` naming the file and what is wrong with it.
    """
    import ifcopenshell.util.unit

    path = Path(path)
    src = str(path)
    f = _open(path)
    scale = float(ifcopenshell.util.unit.calculate_unit_scale(f))
    findings: list[Finding] = []
    storeys = f.by_type("IfcBuildingStorey")
    if not storeys:
        raise ScenarioError("no storey (IfcBuildingStorey) in the file: nothing to walk on",
                            source=src)
    obstacle_classes = OBSTACLES + (FURNITURE if furniture else ())
    obstacles = [e for c in obstacle_classes for e in f.by_type(c)]
    slabs, spaces = list(f.by_type("IfcSlab")), list(f.by_type("IfcSpace"))
    doors = list(f.by_type("IfcDoor"))
    stairs = list(f.by_type("IfcStair")) + list(f.by_type("IfcRamp"))
    flights = {s.id(): _flights(s) for s in stairs}
    loose = [e for c in ("IfcStairFlight", "IfcRampFlight") for e in f.by_type(c)
             if not any(e in fl for fl in flights.values())]
    shapes = _shapes(f, obstacles + slabs + spaces + doors + stairs + loose
                     + [fl for fls in flights.values() for fl in fls])
    if not shapes:
        raise ScenarioError("the file has no geometry (no element has a body "
                            "representation)", source=src)
    levels = sorted(((_elevation(st, scale), st) for st in storeys),
                    key=lambda p: p[0])
    by_storey: dict[int, list[Any]] = {}
    for el in slabs + spaces + doors:
        st = _storey_of(el)
        if st is not None:
            by_storey.setdefault(st.id(), []).append(el)

    # Obstacles of all storeys in one soup: walls are cut wherever they stand.
    parts, rows = [], []
    for k, el in enumerate(e for e in obstacles if e.id() in shapes):
        parts.append(Part(node=_name(el, el.GlobalId), mesh="", material=""))
        rows.append(np.full(len(shapes[el.id()]), k, np.int32))
    solid_ids = [e.id() for e in obstacles if e.id() in shapes]
    soup = Soup(tris=np.concatenate([shapes[i] for i in solid_ids]) if solid_ids
                else np.zeros((0, 3, 3)), part=np.concatenate(rows) if rows
                else np.zeros(0, np.int32), parts=parts, notes=[], units="m", up="z")
    zr = soup.tris[..., 2]

    floors: list[Floor] = []
    floor_storey: list[Any] = []
    taken: set[str] = set()
    for k, (elev, st) in enumerate(levels):
        mine = by_storey.get(st.id(), [])
        walk = _floor_outline(mine, shapes, elev)
        rule = "slabs of the storey"
        if walk.is_empty:
            walk = _space_outline(mine, shapes)
            rule = "spaces of the storey (no slab)"
        sid = _unique(_name(st, f"{k + 1}F"), taken)
        if walk.is_empty or walk.area < MIN_FLOOR_AREA:
            findings.append(Finding("dropped", sid, "storey without slabs or spaces to walk "
                                    "on", f"z={elev:g} m"))
            continue
        head = levels[k + 1][0] - elev if k + 1 < len(levels) else 3.0
        near = np.flatnonzero((zr.max(axis=1) > elev) & (zr.min(axis=1) < elev + max(
            SLICE_HEIGHTS))) if len(zr) else np.zeros(0, np.int64)
        cut = shapely.union_all([_cut(soup, near, elev + h) for h in SLICE_HEIGHTS
                                 if h < head - 0.3]) if len(near) else Polygon()
        holes = [Polygon(r) for r in walk.interiors]
        obst = shapely.union_all([shapely.set_precision(cut, 0.001), *holes])
        obst = shapely.intersection(obst, shapely.buffer(Polygon(walk.exterior), 0.5))
        pieces = hole_free(shapely.set_precision(shapely.simplify(obst, SIMPLIFY), 0.001),
                           min_area=0.005)
        floor = Floor(id=sid, elevation=elev, walkable=Polygon(walk.exterior),
                      obstacles=tuple(pieces))
        if floor.area.is_empty or floor.area.area < MIN_FLOOR_AREA:
            findings.append(Finding("dropped", sid, "the walls cover the whole storey",
                                    f"z={elev:g} m"))
            continue
        floors.append(floor)
        floor_storey.append(st)
        findings.append(Finding("floor", sid, f"IfcBuildingStorey '{_name(st, sid)}', {rule}",
                                f"z={elev:g} m, {floor.area.area:.0f} m² walkable, "
                                f"{len(pieces)} obstacles"))
    if not floors:
        raise ScenarioError("no floor found: no storey has slabs or spaces of "
                            f"{MIN_FLOOR_AREA:g} m² or more", source=src)
    elev = np.array([fl.elevation for fl in floors])

    drafts = _stair_drafts(stairs + loose, flights, shapes, elev, [fl.id for fl in floors],
                           findings)
    stair_list = _place_stair_ends(drafts, floors, findings)
    exit_list = [] if only_exits else _door_exits(doors, shapes, floors, floor_storey, scale,
                                                  findings)
    if exits:
        exit_list += _exits(soup, floors, set(), set(), exits, findings, src, only_exits=True)
    if not exit_list:
        raise ScenarioError("no exit found: no door (IfcDoor) in the outer walls of the lowest "
                            f"storey {floors[int(np.argmin(elev))].id}; pass --exit ID:x,y,floor",
                            source=src)
    taken_ids: set[str] = set()
    exit_list = [Exit(id=_unique(e.id, taken_ids), floor=e.floor, polygon=e.polygon,
                      width=e.width, open=e.open, kind=e.kind) for e in exit_list]
    project = f.by_type("IfcProject")
    title = name or (_name(project[0], path.stem) if project else path.stem)
    scene = Scene(name=title, floors=tuple(floors), exits=tuple(exit_list),
                  stairs=tuple(stair_list))
    unit = ifcopenshell.util.unit.get_project_unit(f, "LENGTHUNIT")
    unit_name = f"{getattr(unit, 'Prefix', None) or ''}{getattr(unit, 'Name', 'unit')}".lower()
    result = MeshImport(scene=scene, source=src, triangles=int(sum(len(t) for t in
                                                                    shapes.values())),
                        notes=[f"schema {f.schema}", f"units {unit_name} (1 unit = {scale:g} m, "
                               "from the file)"], findings=findings)
    result.rooms = _rooms(spaces, shapes, floors, floor_storey)
    return result


def _flights(stair: Any) -> list[Any]:  # noqa: ANN401
    import ifcopenshell.util.element

    return [e for e in ifcopenshell.util.element.get_decomposition(stair)
            if e.is_a("IfcStairFlight") or e.is_a("IfcRampFlight")]


def _floor_outline(elements: list[Any], shapes: dict[int, np.ndarray], elev: float) -> Polygon:
    """Top faces of the storey's slabs near its elevation, as one walkable outline."""
    tops = []
    for el in elements:
        if not el.is_a("IfcSlab") or el.id() not in shapes:
            continue
        t = shapes[el.id()]
        n = np.cross(t[:, 1] - t[:, 0], t[:, 2] - t[:, 0])
        up = n[:, 2] > 0.985 * np.linalg.norm(n, axis=1)
        top = up & (np.abs(t[..., 2].mean(axis=1) - elev) <= SLAB_TOP)
        if top.any():
            tops.append(t[top])
    if not tops:
        return Polygon()
    tris = np.concatenate(tops)
    return _walkable(tris, np.zeros(len(tris), np.int32))


def _space_outline(elements: list[Any], shapes: dict[int, np.ndarray]) -> Polygon:
    """The storey's spaces, grown by half a wall so that doors between them join them."""
    fps = [footprint(shapes[e.id()], grow=0.005) for e in elements
           if e.is_a("IfcSpace") and e.id() in shapes]
    if not fps:
        return Polygon()
    return largest(shapely.buffer(shapely.union_all(fps), 0.15, join_style="mitre"))


def _door_exits(doors: list[Any], shapes: dict[int, np.ndarray], floors: list[Floor],
                storeys: list[Any], scale: float, findings: list[Finding]) -> list[Exit]:
    """Doors in the outer envelope of the lowest floor, as exits."""
    lowest = int(np.argmin([fl.elevation for fl in floors]))
    out: list[Exit] = []
    taken: set[str] = set()
    for k, d in enumerate(doors):
        if d.id() not in shapes:
            continue
        st = _storey_of(d)
        if st is None or st not in storeys:
            continue
        fi = storeys.index(st)
        fp = largest(shapely.set_precision(footprint(shapes[d.id()], grow=0.005), 0.001))
        if fp.is_empty:
            continue
        width = float(d.OverallWidth) * scale if d.OverallWidth else _width(fp)
        if not _outer(fp, floors[fi]) or not 0.5 <= width <= MAX_DOOR:
            continue
        did = _unique(_name(d, f"door-{k + 1}"), taken)
        if fi != lowest:
            findings.append(Finding("warning", did, f"outer door on {floors[fi].id}: not an exit "
                                    "(a balcony, or a door to an outside stair?); pass --exit "
                                    "to make it one"))
            continue
        poly = _deepen(fp)
        if shapely.intersection(poly, floors[fi].area).area <= 1e-6:
            findings.append(Finding("warning", did, "outer door not on the walkable area: "
                                    "skipped"))
            continue
        out.append(Exit(id=did, floor=fi, polygon=poly, width=round(width, 3)))
        c = fp.centroid
        findings.append(Finding("exit", did, "IfcDoor in the outer wall",
                                f"{width:.2f} m wide at ({c.x:.1f}, {c.y:.1f}) on "
                                f"{floors[fi].id}"))
    return out


def _outer(fp: Polygon, floor: Floor) -> bool:
    """Whether a door footprint lies in the outer envelope of ``floor``."""
    rect = shapely.minimum_rotated_rectangle(fp)
    xy = shapely.get_coordinates(rect)[:4]
    if len(xy) < 4:
        return False
    a, b = xy[1] - xy[0], xy[2] - xy[1]
    thin = a if np.hypot(*a) < np.hypot(*b) else b  # across the door leaf: the way through
    u = thin / max(float(np.hypot(*thin)), 1e-9)
    c = np.asarray(fp.centroid.coords[0])
    outline = Polygon(floor.walkable.exterior)
    return any(not outline.contains(Point(*(c + s * OUTSIDE * u))) for s in (-1.0, 1.0))


def _stair_drafts(stairs: list[Any], flights: dict[int, list[Any]],
                  shapes: dict[int, np.ndarray], elev: np.ndarray, ids: list[str],
                  findings: list[Finding]) -> list[_StairDraft]:
    """One draft per IfcStair / IfcRamp (its flights' geometry, or its own)."""
    out: list[_StairDraft] = []
    taken: set[str] = set()
    for k, s in enumerate(stairs):
        parts = [shapes[e.id()] for e in flights.get(s.id(), []) if e.id() in shapes]
        if not parts and s.id() in shapes:
            parts = [shapes[s.id()]]
        if not parts:
            continue
        tris = np.concatenate(parts)
        z = tris[..., 2]
        lo, hi = int(np.argmin(np.abs(elev - z.min()))), int(np.argmin(np.abs(elev - z.max())))
        sid = _unique(_name(s, f"stair-{k + 1}"), taken)
        if lo == hi:
            findings.append(Finding("warning", sid, f"{s.is_a()} does not link two storeys",
                                    f"z {z.min():.2f}–{z.max():.2f} m"))
            continue
        low, high, width, length = _draft(tris, elev[lo], elev[hi], {})
        ramp = s.is_a("IfcRamp") or s.is_a("IfcRampFlight")
        out.append(_StairDraft(sid, lo, hi, low, high, width, length,
                               kind="incline" if ramp else "stair",
                               rule=f"{s.is_a()} between {ids[lo]} and {ids[hi]}"))
    return out


def _rooms(spaces: list[Any], shapes: dict[int, np.ndarray], floors: list[Floor],
           storeys: list[Any]) -> list[tuple[int, Polygon, str]] | None:
    """The spaces, by floor, with their names, clipped to the walkable area (or None)."""
    out = []
    taken: set[str] = set()
    for k, sp in enumerate(spaces):
        st = _storey_of(sp)
        if sp.id() not in shapes or st is None or st not in storeys:
            continue
        fi = storeys.index(st)
        room = largest(shapely.intersection(footprint(shapes[sp.id()], grow=0.005),
                                            floors[fi].area))
        if not room.is_empty and room.area >= 0.5:
            out.append((fi, room, _unique(_name(sp, f"space-{k + 1}"), taken)))
    return out or None
