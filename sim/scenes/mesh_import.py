"""Turning a building mesh into a scene: floors, walls and obstacles, exits and stairs.

The rules (``docs/import.md`` explains them for designers):

- **Floors.** Faces that point up (within 10°) are grouped by height (faces less than
  :data:`LEVEL_TOL` apart form one level). A level is a floor when it carries at least
  :data:`MIN_FLOOR_AREA` of surface once strips narrower than 0.3 m (wall tops) are
  dropped, and has :data:`MIN_HEADROOM` to any larger level. The topmost level is dropped
  as a roof when nothing stands on it.
- **Walls and obstacles.** The mesh is cut at :data:`SLICE_HEIGHTS` above each floor; what
  the cuts enclose is an obstacle; single-sided surfaces (walls with no thickness) become
  :data:`THIN_WALL` thick strips. Holes in a floor (stairwells, atriums) are obstacles too.
- **Exits.** Parts named ``EXIT*``, ``出口*`` or ``安全出口*`` (node, mesh or material name,
  case-insensitive; ``REFUGE*`` / ``避难*`` for refuges), points given by the user, and
  only when neither gives one, openings in the outer wall of the lowest floor.
- **Stairs.** Sloped or stepped surfaces between two floors that climb through most of the
  storey (or parts named ``stair*``, ``escalator*``, ``楼梯*``, ``扶梯*``) link the floors;
  length and width are estimated from their footprint.

Each floor, exit and stair carries the rule that found it (:attr:`MeshImport.findings`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry import Point, Polygon

from sim.errors import ScenarioError
from sim.scenes.export import EXTRAS_KEY
from sim.scenes.mesh_geometry import (
    face_frames,
    footprint,
    hole_free,
    largest,
    open_cut_faces,
    section_area,
    section_segments,
)
from sim.scenes.mesh_load import Part, Soup, load_soup
from sim.scenes.model import Exit, Floor, Scene, SpeedZone, Stair
from sim.scenes.occupancy import occupancy as occupancy_type
from sim.scenes.scenario_toml import reachable_rooms, scene_to_toml

__all__ = [
    "EXTRAS_KEY",
    "ExitSpec",
    "Finding",
    "MeshImport",
    "import_mesh",
    "parse_exit_spec",
]

LEVEL_TOL = 0.3
"""Upward faces closer in height than this belong to one level, m."""
MIN_FLOOR_AREA = 4.0
"""Least walkable surface of a floor, m²."""
MIN_HEADROOM = 2.0
"""Least height between two floors; of two levels closer than this the larger wins, m."""
SLICE_HEIGHTS = (0.3, 1.0, 1.7)
"""Heights above a floor at which the mesh is cut to find walls and obstacles, m."""
THIN_WALL = 0.1
"""Thickness given to single-sided wall surfaces, m."""
OPENING = 0.15
"""Half the width of floor strips that are dropped (wall tops, ledges), m."""
MIN_DOOR = 0.7
"""Least width of an opening in the outer wall that counts as a door, m."""
MAX_DOOR = 12.0
"""Widest opening taken as a door; wider ones are open sides, reported, not exits, m."""
EXIT_DEPTH = 0.3
"""Least depth of an exit area, m."""
POINT_EXIT = 1.0
"""Side of the square exit area placed at a user-given point, m."""
MARKER_REACH = 1.0
"""An exit marker this close outside a floor is matched to the nearest door opening, m."""
SIMPLIFY = 0.005
"""Outlines are simplified to this tolerance (drops the extra vertices of fine meshes), m."""
STAIR_END = 1.2
"""Least side of a stair end area, m."""
EXIT_NAME = re.compile(r"^\s*(exit|安全出口|出口)", re.IGNORECASE)
REFUGE_NAME = re.compile(r"^\s*(refuge|避难)", re.IGNORECASE)
STAIR_NAME = re.compile(r"^\s*(stair|escalator|incline|楼梯|扶梯|斜巷)", re.IGNORECASE)
FLOOR_NAME = re.compile(r"^floor:(.+)$")
PREFIXED = re.compile(r"^(?:exit|refuge|stair):(.+)$", re.IGNORECASE)


@dataclass(frozen=True)
class Finding:
    """How one floor, exit or stair was found (for the report and the preview)."""

    kind: str
    """"floor", "exit", "stair", "dropped" or "warning"."""
    id: str
    rule: str
    detail: str = ""


@dataclass(frozen=True)
class ExitSpec:
    """An exit the user placed by hand (``--exit ID:x,y,floor``)."""

    id: str
    x: float
    y: float
    floor: str


@dataclass
class MeshImport:
    """The result of importing a mesh."""

    scene: Scene
    source: str
    triangles: int
    notes: list[str]
    """Assumptions made (units, up axis), in English."""
    findings: list[Finding] = field(default_factory=list)
    rooms: list[tuple[int, Polygon, str]] | None = None
    """Named rooms (floor, area, name) to place people in, one group each (IFC spaces);
    None: every walkable piece is a room."""

    def to_toml(self, density: float | None = None, occupancy: str = "office") -> str:
        """The scene as a scenario file with a population of ``occupancy`` type (its density
        per floor, or ``density`` p/m² everywhere, and its pre-movement), checked as
        ``drill run`` checks it; raises :class:`ScenarioError` if it would not load, if a
        floor cannot reach an exit, or if people somewhere cannot (the floor is named).

        Floors and rooms left without people are noted in :attr:`findings`."""
        import tomllib

        from sim.drill import Drill
        from sim.scenario import parse

        occ = occupancy_type(occupancy)
        storey = np.argsort(np.argsort([f.elevation for f in self.scene.floors]))
        per_floor = [density if density is not None else occ.density_on(int(k))
                     for k in storey]
        self._check_floors(per_floor)
        header = [f"Imported by `drill import` from {Path(self.source).name} "
                  f"({self.triangles} triangles)."]
        header += [f"Assumed {n}." for n in self.notes]
        header += [f"{f.kind} {f.id}: {f.rule}" + (f" ({f.detail})" if f.detail else "")
                   for f in self.findings]
        people = (f"{density:g} per m²" if density is not None else
                  "per m²: " + ", ".join(f"{f.id} {d:g}" for f, d in
                                         zip(self.scene.floors, per_floor, strict=True)))
        header.append(f"People ({occ.name}): one group per room that can reach a way out, "
                      f"{people}, pre-movement {occ.premovement[0]:g}-{occ.premovement[1]:g} s "
                      "(uniform); edit [[groups]] to suit the drill.")
        text = scene_to_toml(self.scene, header=header, density=per_floor,
                             premovement=occ.premovement, rooms=self.rooms)
        if "[[groups]]" not in text:
            raise ScenarioError("no room on any floor can reach an exit: check the exits and "
                                "the stairs in the preview (--preview DIR)", source=self.source)
        # The check drill run makes: everybody placed can reach an exit.
        Drill(parse(tomllib.loads(text), source=self.source + " (imported)"))
        return text + "\n"

    def _check_floors(self, density: list[float]) -> None:
        """Refuse a floor nobody could leave; note rooms and floors left without people."""
        rooms = reachable_rooms(self.scene)
        for fi, f in enumerate(self.scene.floors):
            mine = [(p, ok) for i, p, ok in rooms if i == fi]
            area = sum(p.area for p, _ in mine)
            if mine and not any(ok for _, ok in mine):
                linked = any(fi in st.floors for st in self.scene.stairs)
                why = ("its stairs lead to no floor with an exit" if linked else
                       "no stair links it to a floor with an exit")
                raise ScenarioError(
                    f"floor {f.id} (z={f.elevation:g} m, {area:.0f} m² walkable) cannot reach "
                    f"an exit: {why}. Name the stair part stair_… (or 楼梯…) in the mesh, or "
                    f"add an exit on it with --exit ID:x,y,{f.id}; the preview (--preview DIR) "
                    "shows it in red", source=self.source)
            cut = [p for p, ok in mine if not ok]
            if cut:
                self.findings.append(Finding(
                    "warning", f.id, f"{len(cut)} room(s) cannot reach an exit: nobody placed "
                    "there", f"{sum(p.area for p in cut):.0f} m²"))
            placed = sum(math.floor(p.area * density[fi] + 0.5) for p, ok in mine if ok)
            if mine and not placed:
                self.findings.append(Finding(
                    "warning", f.id, "no people placed: its rooms are too small for the "
                    "density", f"{area:.0f} m² at {density[fi]:g} per m²"))

    def report(self) -> str:
        """A plain-text report: what was assumed and what was found by which rule."""
        lines = [f"imported {self.source}: {self.triangles} triangles"]
        lines += [f"  assumed {n}" for n in self.notes]
        for f in self.findings:
            lines.append(f"  {f.kind} {f.id}: {f.rule}" + (f" ({f.detail})" if f.detail else ""))
        return "\n".join(lines)


# --------------------------------------------------------------------------- the steps


def parse_exit_spec(text: str) -> ExitSpec:
    """``"ID:x,y,floor"`` (floor by id or 0-based index) as an :class:`ExitSpec`."""
    head, sep, rest = text.rpartition(":")
    parts = rest.split(",")
    if not sep or not head or len(parts) != 3:
        raise ScenarioError(f"--exit '{text}': expected ID:x,y,floor, e.g. EXIT_1:12.5,0.2,1F")
    try:
        x, y = float(parts[0]), float(parts[1])
    except ValueError:
        raise ScenarioError(f"--exit '{text}': x and y must be numbers (metres)") from None
    if not (math.isfinite(x) and math.isfinite(y)):
        raise ScenarioError(f"--exit '{text}': x and y must be finite")
    return ExitSpec(id=head, x=x, y=y, floor=parts[2].strip())


def _level_of(z: float, levels: list[float]) -> int:
    """Index of the highest level at or below ``z`` (+ tolerance), else the lowest."""
    below = [i for i, e in enumerate(levels) if e <= z + LEVEL_TOL]
    return max(below, key=lambda i: levels[i]) if below else int(np.argmin(levels))


@dataclass
class _Level:
    elevation: float
    area: float
    rows: np.ndarray


def _levels(up: np.ndarray, a: np.ndarray, zc: np.ndarray,
            findings: list[Finding]) -> list[_Level]:
    rows = np.flatnonzero(up)
    if len(rows) == 0:
        return []
    zs, w = zc[rows], a[rows]
    heights, inv = np.unique(np.round(zs, 2), return_inverse=True)
    area = np.bincount(inv, weights=w)
    order = np.argsort(zs, kind="stable")
    cum = np.concatenate([[0.0], np.cumsum(w[order])])
    kept: list[_Level] = []
    for u in np.argsort(-area, kind="stable"):  # one iteration per distinct height (1 cm)
        if area[u] < 0.05 * MIN_FLOOR_AREA:
            break  # the rest are specks: no floor is made of them alone
        z = float(heights[u])
        lo, hi = np.searchsorted(zs[order], [z - LEVEL_TOL / 2, z + LEVEL_TOL / 2 + 1e-9])
        total = float(cum[hi] - cum[lo])
        if total < MIN_FLOOR_AREA:
            continue
        if any(abs(z - k.elevation) < MIN_HEADROOM for k in kept):
            if area[u] >= MIN_FLOOR_AREA and all(abs(z - k.elevation) > LEVEL_TOL for k in kept):
                findings.append(Finding("dropped", f"z={z:g}", "less than "
                                        f"{MIN_HEADROOM:g} m below or above a larger floor",
                                        f"{area[u]:.1f} m² of upward faces: furniture or a "
                                        "ledge"))
            continue
        kept.append(_Level(z + 0.0, total, rows[order[lo:hi]]))
    return sorted(kept, key=lambda c: c.elevation)


def _walkable(tris: np.ndarray, part: np.ndarray) -> Polygon:
    area = footprint(tris, grow=0.005, groups=part)
    area = shapely.buffer(shapely.buffer(area, -OPENING, join_style="mitre"), OPENING,
                          join_style="mitre")
    return largest(shapely.set_precision(shapely.simplify(area, SIMPLIFY), 0.001))


def _cut(soup: Soup, rows: np.ndarray, z: float) -> shapely.Geometry:
    """What the plane at ``z`` cuts, solid, from the triangles ``rows`` (part by part)."""
    if len(rows) == 0:
        return Polygon()
    z += 1e-5  # off any vertex modelled exactly at a slice height
    seg, hit = section_segments(soup.tris[rows], z)
    if len(seg) == 0:
        return Polygon()
    cut_rows = rows[hit]
    owner = soup.part[cut_rows]
    solids = []
    for p in np.unique(owner):  # one iteration per named part, not per triangle
        mine = owner == p
        lonely = open_cut_faces(soup.tris[cut_rows[mine]], z)
        solids.append(section_area(seg[mine], THIN_WALL, lonely))
    return shapely.union_all(solids)


def _part_sets(parts: list[Part]) -> tuple[set[int], set[int], set[int]]:
    exits, refuges, stairs = set(), set(), set()
    for i, p in enumerate(parts):
        role = p.extras.get(EXTRAS_KEY, {}).get("role") if isinstance(
            p.extras.get(EXTRAS_KEY), dict) else None
        if role in ("exit", "refuge") or any(EXIT_NAME.match(n) for n in p.names):
            exits.add(i)
        if role == "refuge" or any(REFUGE_NAME.match(n) for n in p.names):
            exits.add(i)
            refuges.add(i)
        if role == "stair" or any(STAIR_NAME.match(n) for n in p.names):
            stairs.add(i)
    return exits, refuges, stairs - exits


def _name_of(part: Part, pattern: re.Pattern) -> str:
    for n in part.names:
        if pattern.match(n):
            m = PREFIXED.match(n)
            return m.group(1) if m else n.strip()
    return part.node or part.mesh


def _unique(name: str, taken: set[str]) -> str:
    out, k = name, 2
    while out in taken:
        out, k = f"{name}-{k}", k + 1
    taken.add(out)
    return out


def _deepen(poly: Polygon) -> Polygon:
    rect = shapely.minimum_rotated_rectangle(poly)
    xy = shapely.get_coordinates(rect)[:4]
    sides = [math.dist(xy[k], xy[(k + 1) % 4]) for k in range(2)] if len(xy) >= 4 else [0, 0]
    short = min(sides)
    if short < EXIT_DEPTH:
        poly = shapely.buffer(poly, (EXIT_DEPTH - short) / 2, join_style="mitre")
    return largest(shapely.set_precision(poly, 0.001))


def _extras(part: Part) -> dict[str, Any]:
    x = part.extras.get(EXTRAS_KEY)
    return x if isinstance(x, dict) else {}


# --------------------------------------------------------------------------- import


def import_mesh(path: str | Path, *, units: str = "auto", up: str = "auto",
                exits: Sequence[ExitSpec] = (), name: str | None = None,
                only_exits: bool = False) -> MeshImport:
    """Read a building mesh and find its floors, walls, exits and stairs (metres, z up).

    ``exits`` are added to the exits found (named parts, or else openings in the outer
    wall); with ``only_exits`` no openings are taken. Raises :class:`ScenarioError` naming
    the file and what was (not) found.
    """
    path = Path(path)
    soup = load_soup(path, units=units, up=up)
    src = str(path)
    findings: list[Finding] = []
    if _up_hint(soup):
        findings.append(Finding("warning", "up axis", _up_hint(soup).strip(" ()")))
    a, nz, zc = face_frames(soup.tris)
    exit_parts, refuge_parts, stair_parts = _part_sets(soup.parts)
    special = np.isin(soup.part, list(exit_parts | stair_parts))
    is_stair = np.isin(soup.part, list(stair_parts))
    up_face = (nz > 0.985) & (a > 0)

    levels = _levels(up_face & ~is_stair, a, zc, findings)
    if not levels:
        total = float(a[up_face].sum())
        raise ScenarioError(
            f"no floor found: no upward-facing horizontal surface of {MIN_FLOOR_AREA:g} m² or "
            f"more (upward faces total {total:.1f} m²); check the up axis (--up y or --up z) "
            f"and that floors are modelled as surfaces{_up_hint(soup)}", source=src)
    elevations = [lv.elevation for lv in levels]

    # Walkable outline and obstacles per level.
    walk, holes, cuts = [], [], []
    solid_rows = np.flatnonzero(~special)  # named exits and stairs are not obstacles
    outlines = [_walkable(soup.tris[lv.rows], soup.part[lv.rows]) for lv in levels]
    for lv, w in zip(levels, outlines, strict=True):
        if w.area < MIN_FLOOR_AREA:
            findings.append(Finding("dropped", f"z={lv.elevation:g}", "only narrow strips "
                                    f"(under {2 * OPENING:g} m wide): wall tops or ledges"))
    levels = [lv for lv, w in zip(levels, outlines, strict=True) if w.area >= MIN_FLOOR_AREA]
    outlines = [w for w in outlines if w.area >= MIN_FLOOR_AREA]
    if not levels:
        raise ScenarioError("no floor found: the upward-facing surfaces are all narrow strips "
                            f"(under {2 * OPENING:g} m wide)", source=src)
    elevations = [lv.elevation for lv in levels]
    for k, (lv, w) in enumerate(zip(levels, outlines, strict=True)):
        headroom = (elevations[k + 1] - lv.elevation) if k + 1 < len(levels) else math.inf
        zr = soup.tris[solid_rows, :, 2]
        near = solid_rows[(zr.max(axis=1) > lv.elevation) &
                          (zr.min(axis=1) < lv.elevation + max(SLICE_HEIGHTS))]
        cut = shapely.union_all([_cut(soup, near, lv.elevation + h)
                                 for h in SLICE_HEIGHTS
                                 if h < headroom - 0.3])
        walk.append(w)
        holes.append([Polygon(r) for r in w.interiors])
        cuts.append(shapely.set_precision(cut, 0.001))

    # The topmost level is a roof when nothing stands on it.
    while len(levels) > 1 and cuts[-1].is_empty:
        findings.append(Finding("dropped", f"z={levels[-1].elevation:g}", "roof: the top level "
                                "has no walls or obstacles on it", f"{walk[-1].area:.0f} m²"))
        for lst in (levels, walk, holes, cuts, elevations):
            lst.pop()

    floor_ids = _floor_ids(soup, levels, a)
    stairs, ends = _stairs(soup, levels, floor_ids, a, nz, zc, is_stair, special, walk,
                           stair_parts, findings)
    zones = _zones(soup, elevations, findings)
    floors = []
    for k, lv in enumerate(levels):
        obst = shapely.union_all([cuts[k], *holes[k]])
        if ends[k]:
            obst = shapely.difference(obst, shapely.union_all(ends[k]))
        obst = shapely.intersection(obst, shapely.buffer(Polygon(walk[k].exterior), 0.5))
        pieces = hole_free(shapely.set_precision(shapely.simplify(obst, SIMPLIFY), 0.001),
                           min_area=0.005)
        floors.append(Floor(id=floor_ids[k], elevation=lv.elevation,
                            walkable=Polygon(walk[k].exterior), obstacles=tuple(pieces),
                            zones=tuple(z for fi, z in zones if fi == k)))
        if floors[-1].area.is_empty or floors[-1].area.area < MIN_FLOOR_AREA:
            raise ScenarioError(f"floor {floor_ids[k]} at z={lv.elevation:g} m: the obstacles "
                                "cover the whole floor", source=src)
        findings.append(Finding("floor", floor_ids[k], "upward faces at one height",
                                f"z={lv.elevation:g} m, {floors[-1].area.area:.0f} m² walkable, "
                                f"{len(pieces)} obstacles"))
    stairs = _place_stair_ends(stairs, floors, findings)
    exit_list = _exits(soup, floors, exit_parts, refuge_parts, exits, findings, src,
                       only_exits)
    scene = Scene(name=name or path.stem, floors=tuple(floors), exits=tuple(exit_list),
                  stairs=tuple(stairs))
    return MeshImport(scene=scene, source=src, triangles=len(soup.tris), notes=soup.notes,
                      findings=findings)


def _zones(soup: Soup, elevations: list[float],
           findings: list[Finding]) -> list[tuple[int, SpeedZone]]:
    """Slow zones from parts that ``drill export`` marked (extras role "zone")."""
    out = []
    for p, part in enumerate(soup.parts):  # one iteration per named part
        x = _extras(part)
        if x.get("role") != "zone":
            continue
        tris = soup.tris[soup.part == p]
        poly = largest(shapely.set_precision(footprint(tris), 0.001))
        factor = float(x.get("factor", 1.0))
        if poly.is_empty or not 0.05 <= factor <= 1.0:
            continue
        fi = _level_of(float(tris[..., 2].min()), elevations)
        out.append((fi, SpeedZone(polygon=poly, factor=factor,
                                  reason=str(x.get("reason", "slow")))))
        findings.append(Finding("zone", part.node, "marked by drill export",
                                f"speed x{factor:g} ({x.get('reason', 'slow')})"))
    return out


def _floor_ids(soup: Soup, levels: list[_Level], a: np.ndarray) -> list[str]:
    ids: list[str] = []
    taken: set[str] = set()
    for k, lv in enumerate(levels):
        owners = np.bincount(soup.part[lv.rows], weights=a[lv.rows], minlength=len(soup.parts))
        top = soup.parts[int(np.argmax(owners))]
        m = FLOOR_NAME.match(top.node) or FLOOR_NAME.match(top.mesh)
        ids.append(_unique(m.group(1) if m else f"{k + 1}F", taken))
    return ids


# --------------------------------------------------------------------------- stairs


@dataclass
class _StairDraft:
    id: str
    lower: int
    upper: int
    low: np.ndarray
    high: np.ndarray
    width: float
    length: float
    kind: str
    rule: str


def _stairs(soup: Soup, levels: list[_Level], floor_ids: list[str], a: np.ndarray,
            nz: np.ndarray, zc: np.ndarray, is_stair: np.ndarray, special: np.ndarray,
            walk: list[Polygon], stair_parts: set[int], findings: list[Finding],
            ) -> tuple[list[_StairDraft], list[list[Polygon]]]:
    elev = np.array([lv.elevation for lv in levels])
    drafts: list[_StairDraft] = []
    taken: set[str] = set()
    # Named parts: one stair each, between the levels nearest its bottom and top.
    for p in sorted(stair_parts):
        rows = np.flatnonzero(soup.part == p)
        z = soup.tris[rows, :, 2]
        lo = int(np.argmin(np.abs(elev - z.min())))
        hi = int(np.argmin(np.abs(elev - z.max())))
        part = soup.parts[p]
        if lo == hi:
            findings.append(Finding("warning", part.node, "named as a stair but does not "
                                    "link two floors", f"z {z.min():.2f}–{z.max():.2f} m"))
            continue
        d = _draft(soup.tris[rows], elev[lo], elev[hi], _extras(part))
        sid = _unique(_name_of(part, STAIR_NAME), taken)
        kind = _extras(part).get("kind") or _stair_kind(part, d[3])
        drafts.append(_StairDraft(sid, lo, hi, *d, kind=kind, rule=f"named '{part.node}'"))
    # Unnamed sloped or stepped geometry between consecutive floors.
    climbing = (nz > 0.1) & ~special
    for k in range(len(levels) - 1):
        z0, z1 = elev[k], elev[k + 1]
        h = z1 - z0
        between = np.flatnonzero(climbing & (zc > z0 + 0.05) & (zc < z1 - 0.05))
        for r in _pieces(soup, between):  # one iteration per candidate stair
            if len(r) == 0:
                continue
            z = soup.tris[r, :, 2]
            bands = np.zeros(6, bool)
            lo_b = np.clip(((z.min(axis=1) - z0) / h * 6).astype(int), 0, 5)
            hi_b = np.clip(((z.max(axis=1) - z0) / h * 6).astype(int), 0, 5)
            for b in range(6):
                bands[b] = ((lo_b <= b) & (hi_b >= b)).any()
            if not (z.min() <= z0 + 0.4 * h and z.max() >= z1 - 0.4 * h
                    and bands.sum() >= 4):
                continue
            d = _draft(soup.tris[r], z0, z1, {})
            sid = _unique(f"stair-{floor_ids[k]}-{floor_ids[k + 1]}", taken)
            kind = "incline" if math.atan2(h, max(d[3] ** 2 - h * h, 0) ** 0.5) < \
                math.radians(20) else "stair"
            drafts.append(_StairDraft(sid, k, k + 1, *d, kind=kind,
                                      rule="sloped or stepped faces climbing "
                                           f"{h:.2f} m between {floor_ids[k]} and "
                                           f"{floor_ids[k + 1]}"))
    ends: list[list[Polygon]] = [[] for _ in levels]
    for d in drafts:
        for fi, pt in ((d.lower, d.low), (d.upper, d.high)):
            ends[fi].append(_end_square(pt, d.width))
    return drafts, ends


def _pieces(soup: Soup, rows: np.ndarray) -> list[np.ndarray]:
    """``rows`` grouped by part, then by touching footprints (0.1 m apart at most)."""
    out = []
    for p in np.unique(soup.part[rows]):  # one iteration per part
        r = rows[soup.part[rows] == p]
        comps = shapely.get_parts(footprint(soup.tris[r], grow=0.05))
        tree = shapely.STRtree(comps)
        cent = shapely.points(soup.tris[r, :, :2].mean(axis=1))
        pairs = tree.query(cent, predicate="intersects")
        owner = np.full(len(r), -1)
        owner[pairs[0]] = pairs[1]
        out += [r[owner == c] for c in range(len(comps)) if (owner == c).any()]
    return out


def _stair_kind(part: Part, length: float) -> str:
    names = " ".join(part.names).lower()
    if "escalator" in names or "扶梯" in names:
        return "escalator"
    if "incline" in names or "斜巷" in names:
        return "incline"
    return "stair"


def _draft(tris: np.ndarray, z0: float, z1: float, extras: dict[str, Any],
           ) -> tuple[np.ndarray, np.ndarray, float, float]:
    """Low end, high end (plan points), width and walking length of a stair's triangles.

    The ends are found on the faces one walks on (treads, or the slope): the sides and
    undersides of solid steps, which all start at the floor, would put the low end in
    the middle of the flight.
    """
    n = np.cross(tris[:, 1] - tris[:, 0], tris[:, 2] - tris[:, 0])
    norm = np.linalg.norm(n, axis=1)
    walked = n[:, 2] > 0.5 * np.maximum(norm, 1e-12)
    v = (tris[walked] if walked.any() else tris).reshape(-1, 3)
    zmin, zmax = v[:, 2].min(), v[:, 2].max()
    span = max(zmax - zmin, 1e-6)
    low = v[v[:, 2] <= zmin + 0.1 * span, :2].mean(axis=0)
    high = v[v[:, 2] >= zmax - 0.1 * span, :2].mean(axis=0)
    rise = abs(z1 - z0)
    fp = footprint(tris, grow=0.005)
    rect = shapely.minimum_rotated_rectangle(fp)
    xy = shapely.get_coordinates(rect)[:4]
    sides = sorted(math.dist(xy[k], xy[(k + 1) % 4]) for k in range(2)) if len(xy) >= 4 \
        else [1.0, 1.0]
    short, long_ = sides
    if float(np.hypot(*(high - low))) >= 0.5 * long_:
        width, run = short, float(np.hypot(*(high - low)))  # one straight flight
    else:
        width, run = short / 2, 2 * long_  # two flights side by side (dog-leg)
    width = float(extras.get("width", width))
    length = float(extras.get("length", math.hypot(run, rise)))
    return low, high, float(np.clip(width, 0.5, 20.0)), float(np.clip(length, 0.5, 5000.0))


def _end_square(pt: np.ndarray, width: float) -> Polygon:
    s = max(width, STAIR_END) / 2
    return shapely.box(pt[0] - s, pt[1] - s, pt[0] + s, pt[1] + s)


def _split_shared_ends(drafts: list[_StairDraft]) -> dict[tuple[int, int], Polygon]:
    """End squares by (draft, end), two ends on one floor that overlap cut apart.

    At a dog-leg's landing the flight from below arrives beside the flight going on up:
    their end squares overlap. Each keeps the side of the line halfway between the two end
    points that its own point is on (whoever stands there then knows which stair it is).
    """
    ends = {(i, k): (fi, pt) for i, d in enumerate(drafts)
            for k, (fi, pt) in enumerate(((d.upper, d.high), (d.lower, d.low)))}
    squares = {key: _end_square(pt, drafts[key[0]].width) for key, (_, pt) in ends.items()}
    keys = list(ends)
    for a in range(len(keys)):
        for b in range(a + 1, len(keys)):
            ka, kb = keys[a], keys[b]
            (fa, pa), (fb, pb) = ends[ka], ends[kb]
            if ka[0] == kb[0] or fa != fb:
                continue
            sa, sb = squares[ka], squares[kb]
            if shapely.intersection(sa, sb).area <= 0.25 * min(sa.area, sb.area):
                continue
            gap = pb - pa
            if float(np.hypot(*gap)) < 0.1:
                continue  # one point: nothing tells them apart (drill run says so)
            mid, far = (pa + pb) / 2, 1e3 * gap / float(np.hypot(*gap))
            normal = np.array([-far[1], far[0]])
            side_a = Polygon([mid + normal, mid + normal - far, mid - normal - far,
                              mid - normal])
            squares[ka] = shapely.intersection(sa, side_a)
            squares[kb] = shapely.difference(sb, side_a)
    return squares


def _place_stair_ends(drafts: list[_StairDraft], floors: list[Floor],
                      findings: list[Finding]) -> list[Stair]:
    out = []
    squares = _split_shared_ends(drafts)
    for i, d in enumerate(drafts):
        areas = []
        for k, (fi, pt) in enumerate(((d.upper, d.high), (d.lower, d.low))):
            end = largest(shapely.set_precision(
                shapely.intersection(squares[i, k], floors[fi].area), 0.001))
            if end.area < 0.2:
                findings.append(Finding("warning", d.id, "stair skipped: its end at "
                                        f"({pt[0]:.1f}, {pt[1]:.1f}) is not on the walkable "
                                        f"area of floor {floors[fi].id}"))
                break
            areas.append(end)
        if len(areas) < 2:
            continue
        out.append(Stair(id=d.id, floors=(d.upper, d.lower), areas=(areas[0], areas[1]),
                         length=round(d.length, 2), width=round(d.width, 2), kind=d.kind))
        findings.append(Finding("stair", d.id, d.rule,
                                f"{floors[d.upper].id} → {floors[d.lower].id}, {d.kind}, "
                                f"length {d.length:.1f} m, width {d.width:.2f} m"))
    return out


# --------------------------------------------------------------------------- exits


def _exits(soup: Soup, floors: list[Floor], exit_parts: set[int], refuge_parts: set[int],
           specs: Sequence[ExitSpec], findings: list[Finding], src: str,
           only_exits: bool = False) -> list[Exit]:
    out: list[Exit] = []
    taken: set[str] = set()
    elev = [f.elevation for f in floors]
    doors: dict[int, list[Exit]] = {}  # openings of each floor's outer wall, found once

    def openings(fi: int) -> list[Exit]:
        if fi not in doors:
            doors[fi] = _openings(floors, [], set(), fi)
        return doors[fi]

    for p in sorted(exit_parts):
        part = soup.parts[p]
        tris = soup.tris[soup.part == p]
        fi = _level_of(float(tris[..., 2].min()), elev)
        poly = _deepen(shapely.convex_hull(footprint(tris, grow=0.005)))
        x = _extras(part)
        rule = f"named '{part.node}'"
        width = float(x.get("width", _width(poly)))
        if shapely.intersection(poly, floors[fi].area).area <= 1e-6:
            door = _door_near(poly, openings(fi), floors[fi])
            if door is None:
                raise ScenarioError(
                    f"exit '{part.node}' lies {floors[fi].area.distance(poly):.1f} m outside "
                    f"the walkable area of floor {floors[fi].id} (at z={tris[..., 2].min():g} "
                    f"m) and no door opening is within {MARKER_REACH:g} m of it; move it onto "
                    "the floor or rename it", source=src)
            poly, width = door.polygon, door.width
            rule += f", outside the floor: matched to the door opening {_at(door)}"
        kind = "refuge" if p in refuge_parts else str(x.get("kind", "exit"))
        pattern = REFUGE_NAME if p in refuge_parts and not any(
            EXIT_NAME.match(n) for n in part.names) else EXIT_NAME
        eid = _unique(_name_of(part, pattern), taken)
        out.append(Exit(id=eid, floor=fi, polygon=poly, width=width,
                        open=bool(x.get("open", True)), kind=kind))
        findings.append(Finding("exit", eid, rule,
                                f"{kind} on {floors[fi].id}, {out[-1].width:.2f} m wide"))
    given: list[Exit] = []
    for s in specs:
        fi = _floor_by_ref(floors, s, src)
        pt = Point(s.x, s.y)
        gap = floors[fi].area.distance(pt)
        h = POINT_EXIT / 2
        poly = shapely.box(s.x - h, s.y - h, s.x + h, s.y + h)
        width, rule = POINT_EXIT, "--exit"
        door = _door_near(pt, openings(fi), floors[fi]) if gap > 0 else None
        if door is not None:
            poly, width = door.polygon, door.width
            rule += f", outside the floor: matched to the door opening {_at(door)}"
        elif gap > POINT_EXIT:
            raise ScenarioError(f"--exit {s.id}: ({s.x:g}, {s.y:g}) lies {gap:.1f} m outside "
                                f"the walkable area of floor {floors[fi].id}", source=src)
        eid = _unique(s.id, taken)
        given.append(Exit(id=eid, floor=fi, polygon=poly, width=width))
        findings.append(Finding("exit", eid, rule, f"at ({s.x:g}, {s.y:g}) on "
                                f"{floors[fi].id}"))
    if not out and not only_exits:
        # No named exits: the openings of the ground floor's outer wall are the doors; an
        # --exit adds to them (one placed on an opening takes its place).
        fi = int(np.argmin(elev))
        for door in _openings(floors, findings, taken, fi):
            if not any(g.floor == fi and g.polygon.intersects(door.polygon) for g in given):
                out.append(door)
    out += given
    if not out:
        raise ScenarioError("no exit found: name a node EXIT_1 (or 出口1) in the mesh, or pass "
                            "--exit ID:x,y,floor (e.g. --exit E1:0.2,5,"
                            f"{floors[0].id}); no opening of {MIN_DOOR:g}–{MAX_DOOR:g} m was "
                            f"found in the outer wall of floor {floors[0].id}"
                            f"{_up_hint(soup)}", source=src)
    return out


def _door_near(shape: Any, doors: list[Exit], floor: Floor) -> Exit | None:
    """The door opening nearest ``shape`` (a marker outside ``floor``) within
    :data:`MARKER_REACH`, or None."""
    if floor.area.distance(shape) > MARKER_REACH or not doors:
        return None
    gaps = [d.polygon.distance(shape) for d in doors]
    k = int(np.argmin(gaps))
    return doors[k] if gaps[k] <= MARKER_REACH else None


def _at(door: Exit) -> str:
    c = door.polygon.centroid
    return f"({c.x:.1f}, {c.y:.1f}), {door.width:.2f} m"


def _up_hint(soup: Soup) -> str:
    """A hint when the up axis in use is not the one the faces suggest, else ''."""
    if soup.up_faces == soup.up:
        return ""
    return (f" (the mesh was read {soup.up}-up, but most horizontal faces face "
            f"{soup.up_faces}: try --up {soup.up_faces})")


def _width(poly: Polygon) -> float:
    rect = shapely.minimum_rotated_rectangle(poly)
    xy = shapely.get_coordinates(rect)[:4]
    return max(math.dist(xy[k], xy[(k + 1) % 4]) for k in range(2))


def _floor_by_ref(floors: list[Floor], s: ExitSpec, src: str) -> int:
    for i, f in enumerate(floors):
        if f.id == s.floor:
            return i
    if s.floor.isdigit() and int(s.floor) < len(floors):
        return int(s.floor)
    names = ", ".join(f.id for f in floors)
    raise ScenarioError(f"--exit {s.id}: no floor '{s.floor}' (floors: {names}; or an index "
                        f"0–{len(floors) - 1})", source=src)


def _openings(floors: list[Floor], findings: list[Finding], taken: set[str],
              fi: int) -> list[Exit]:
    """Gaps of :data:`MIN_DOOR`–:data:`MAX_DOOR` in the outer wall of floor ``fi``."""
    f = floors[fi]
    ring = f.walkable.exterior
    walls = shapely.union_all(f.obstacles) if f.obstacles else Polygon()
    free = shapely.line_merge(shapely.difference(ring, shapely.buffer(walls, 0.005)))
    out = []
    for seg in shapely.get_parts(free):  # one iteration per gap in the outer wall
        length = seg.length
        if length < MIN_DOOR:
            continue
        if length > MAX_DOOR:
            findings.append(Finding("warning", f.id, f"{length:.1f} m of the outer wall is open "
                                    "(no wall found): not taken as a door"))
            continue
        poly = largest(shapely.set_precision(
            shapely.buffer(seg, EXIT_DEPTH / 2, cap_style="flat"), 0.001))
        eid = _unique(f"opening-{len(out) + 1}", taken)
        out.append(Exit(id=eid, floor=fi, polygon=poly, width=round(length, 2)))
        c = seg.interpolate(0.5, normalized=True)
        findings.append(Finding("exit", eid, "opening in the outer wall",
                                f"{length:.2f} m wide at ({c.x:.1f}, {c.y:.1f}) on {f.id}"))
    return out
