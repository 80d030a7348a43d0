"""Writing a scene (and a default population) as a scenario file, TOML version 1.

The output is what ``docs/scenario.md`` describes and :func:`sim.scenario.load_file` reads;
coordinates are rounded to the millimetre.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence

import numpy as np
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from shapely.geometry import Polygon

from sim.scenes.model import Scene

__all__ = ["DEFAULT_DENSITY", "reachable_rooms", "scene_to_toml"]

DEFAULT_DENSITY = 0.1
"""People per m² of walkable area placed by default (an office: 10 m² per person)."""


MIN_ROOM = 0.5
"""Walkable pieces smaller than this (slivers outside walls) are not rooms, m²."""


def _num(v: float) -> str:
    v = round(float(v), 3) + 0.0  # no "-0"
    return f"{v:.3f}".rstrip("0").rstrip(".") if not float(v).is_integer() else str(int(v))


def _points(poly: Polygon) -> str:
    xy = shapely.get_coordinates(poly.exterior)[:-1]
    return "[" + ", ".join(f"[{_num(x)}, {_num(y)}]" for x, y in xy) + "]"


def _str(s: str) -> str:
    return json.dumps(s, ensure_ascii=False)


def reachable_rooms(scene: Scene) -> list[tuple[int, Polygon, bool]]:
    """Each walkable piece (of :data:`MIN_ROOM` or more) of each floor, and whether a way
    out is reachable from it (through its exits, or stairs to pieces that have one)."""
    rooms = [(fi, p) for fi, f in enumerate(scene.floors)
             for p in shapely.get_parts(f.area) if isinstance(p, Polygon) and p.area >= MIN_ROOM]
    n = len(rooms)
    out = np.zeros(n, bool)
    links = []
    for i, (fi, p) in enumerate(rooms):
        out[i] = any(e.floor == fi and e.polygon.intersects(p) for e in scene.exits)
    for st in scene.stairs:
        ends = [[i for i, (fi, p) in enumerate(rooms) if fi == st.floors[k] and
                 p.intersects(st.areas[k])] for k in (0, 1)]
        links += [(a, b) for a in ends[0] for b in ends[1]]
    if links:
        a, b = np.array(links).T
        graph = coo_matrix((np.ones(len(a)), (a, b)), shape=(n, n))
        _, label = connected_components(graph, directed=False)
    else:
        label = np.arange(n)
    ok = np.isin(label, label[out])
    return [(fi, p, bool(ok[i])) for i, (fi, p) in enumerate(rooms)]


def scene_to_toml(scene: Scene, *, header: Iterable[str] = (),
                  density: float | Sequence[float] = DEFAULT_DENSITY, max_time: float = 600.0,
                  premovement: tuple[float, float] | None = None,
                  rooms: Sequence[tuple[int, Polygon, str]] | None = None) -> str:
    """``scene`` as a scenario file, with one group per reachable room at ``density`` p/m²
    (one value, or one per floor) and, if given, a uniform ``premovement`` (s).

    ``rooms`` (floor, area, name) are the rooms to fill, each group named after its room;
    by default every walkable piece of each floor is one."""
    per_floor = ([float(density)] * len(scene.floors) if isinstance(density, int | float)
                 else [float(d) for d in density])
    out = [f"# {line}" for line in header]
    out += ["version = 1", f"name = {_str(scene.name)}", "",
            "[simulation]", f"max_time = {_num(max_time)}", "seed = 1", ""]
    for f in scene.floors:
        out += ["[[floors]]", f"id = {_str(f.id)}", f"elevation = {_num(f.elevation)}",
                f"walkable = {_points(f.walkable)}"]
        if f.obstacles:
            out.append("obstacles = [")
            out += [f"  {_points(o)}," for o in f.obstacles]
            out.append("]")
        if f.zones:
            out.append("zones = [")
            out += [f"  {{ polygon = {_points(z.polygon)}, factor = {_num(z.factor)}, "
                    f"reason = {_str(z.reason)} }}," for z in f.zones]
            out.append("]")
        out.append("")
    for e in scene.exits:
        out += ["[[exits]]", f"id = {_str(e.id)}", f"floor = {_str(scene.floors[e.floor].id)}",
                f"polygon = {_points(e.polygon)}", f"width = {_num(e.width)}"]
        if e.kind != "exit":
            out.append(f"kind = {_str(e.kind)}")
        if not e.open:
            out.append("open = false")
        out.append("")
    for st in scene.stairs:
        ends = [f"{{ floor = {_str(scene.floors[st.floors[k]].id)}, "
                f"area = {_points(st.areas[k])} }}" for k in (0, 1)]
        out += ["[[stairs]]", f"id = {_str(st.id)}", f"kind = {_str(st.kind)}",
                f"length = {_num(st.length)}", f"width = {_num(st.width)}",
                f"from = {ends[0]}", f"to = {ends[1]}", ""]
    pieces = reachable_rooms(scene)
    if rooms is None:
        named = [(fi, room, ok, None) for fi, room, ok in pieces]
    else:  # a named room is reachable when it overlaps a reachable piece of its floor
        named = [(fi, room, any(ok and pf == fi and p.intersects(room)
                                for pf, p, ok in pieces), name) for fi, room, name in rooms]
    n = 0
    for fi, room, ok, name in named:
        count = math.floor(room.area * per_floor[fi] + 0.5)
        if not ok or count < 1:
            continue
        n += 1
        gid = name or f"{scene.floors[fi].id}-room{n}"
        out += ["[[groups]]", f"id = {_str(gid)}",
                f"floor = {_str(scene.floors[fi].id)}", f"area = {_points(room)}",
                f"count = {count}"]
        if premovement is not None:
            out.append(f"premovement = {{ min = {_num(premovement[0])}, "
                       f"max = {_num(premovement[1])} }}")
        out.append("")
    return "\n".join(out)
