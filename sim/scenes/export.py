"""Writing a scene as glTF binary (GLB) for workstations and VR clients, via trimesh.

Each floor becomes a node ``floor:<id>`` (a 0.2 m slab), its walls ``walls:<id>`` (the outline
and the obstacles extruded to the storey height), each exit ``exit:<id>`` (a green pad), each
stair ``stair:<id>`` (a ramp between its two end areas) and each slow zone
``zone:<floor>:<n>``. Exit and stair nodes carry glTF ``extras`` under the key ``evacdrill``
(exits: role, width, open; stairs: role, kind, length, width; slow zones: role,
factor, reason), which ``drill import`` reads
back. Coordinates are metres; the file is y-up as glTF requires (scene x → x,
scene y → -z, scene z → y).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import shapely
from shapely.geometry import Polygon

from sim.errors import ScenarioError
from sim.scenes.model import Scene

EXTRAS_KEY = "evacdrill"
"""Key of the glTF extras written on exit and stair nodes."""

__all__ = ["DEFAULT_STOREY", "WALL_THICKNESS", "scene_to_trimesh", "export_glb"]

DEFAULT_STOREY = 3.5
"""Wall height when a floor has no floor above it, m."""
MAX_WALL = 6.0
"""Walls stop at this height when the next floor is further up (mine levels), m."""
WALL_THICKNESS = 0.2
"""Thickness given to outline walls, m."""
SLAB = 0.2
"""Floor slab thickness, m."""
COLOURS = {
    "floor": (200, 200, 200, 255),
    "walls": (150, 150, 160, 255),
    "exit": (40, 200, 80, 255),
    "refuge": (40, 160, 220, 255),
    "stair": (230, 150, 40, 255),
    "zone": (200, 60, 60, 120),
}


def _extrude(poly: shapely.Geometry, z0: float, height: float, colour: tuple) -> list:
    import trimesh

    meshes = []
    for part in shapely.get_parts(poly):
        if not isinstance(part, Polygon) or part.area < 1e-9:
            continue
        m = trimesh.creation.extrude_polygon(part, height)
        m.apply_translation((0.0, 0.0, z0))
        m.visual.face_colors = colour
        meshes.append(m)
    return meshes


def _merge(meshes: list):  # noqa: ANN202 - trimesh is imported lazily
    import trimesh

    return trimesh.util.concatenate(meshes) if meshes else None


def scene_to_trimesh(scene: Scene):  # noqa: ANN201 - returns trimesh.Scene
    """The scene as a ``trimesh.Scene`` with one named node per floor, wall set, exit, stair."""
    import trimesh

    out = trimesh.Scene()
    elevations = sorted({f.elevation for f in scene.floors})

    def storey(z: float) -> float:
        above = [e for e in elevations if e > z + 1e-6]
        return min(above[0] - z, MAX_WALL) if above else DEFAULT_STOREY

    def add(name: str, mesh, extras: dict | None = None) -> None:  # noqa: ANN001
        if mesh is not None:
            if extras:
                mesh.metadata["extras"] = {EXTRAS_KEY: extras}
            out.add_geometry(mesh, node_name=name, geom_name=name)

    for fi, f in enumerate(scene.floors):
        z, h = f.elevation, storey(f.elevation)
        add(f"floor:{f.id}", _merge(_extrude(f.area, z - SLAB, SLAB, COLOURS["floor"])))
        walls = shapely.union_all([_outer_walls(f, [e for e in scene.exits if e.floor == fi]),
                                   *f.obstacles])
        add(f"walls:{f.id}", _merge(_extrude(walls, z, h, COLOURS["walls"])))
        for n, zone in enumerate(f.zones):
            add(f"zone:{f.id}:{n}", _merge(_extrude(zone.polygon, z, 0.05, COLOURS["zone"])),
                {"role": "zone", "factor": zone.factor, "reason": zone.reason})
    for e in scene.exits:
        z = scene.floors[e.floor].elevation
        add(f"exit:{e.id}", _merge(_extrude(e.polygon, z, 0.05, COLOURS[e.kind])),
            {"role": e.kind, "width": e.width, "open": e.open})
    for st in scene.stairs:
        add(f"stair:{st.id}", _stair_mesh(scene, st),
            {"role": "stair", "kind": st.kind, "length": st.length, "width": st.width})
    # glTF is y-up.
    out.apply_transform(trimesh.transformations.rotation_matrix(-np.pi / 2, (1, 0, 0)))
    return out


def _outer_walls(floor, exits: list) -> shapely.Geometry:  # noqa: ANN001
    """The outer walls: a band outside the walkable outline, with a door at each exit."""
    band = shapely.difference(
        shapely.buffer(floor.walkable, WALL_THICKNESS, join_style="mitre"), floor.walkable)
    if not exits:
        return band
    doors = [shapely.buffer(shapely.intersection(floor.walkable.exterior,
                                                 shapely.buffer(e.polygon, 1e-6)),
                            2 * WALL_THICKNESS, cap_style="flat") for e in exits]
    return shapely.difference(band, shapely.union_all(doors))


def _stair_mesh(scene: Scene, st):  # noqa: ANN001, ANN202
    """A ramp of the stair's width from one end area's centre to the other's."""
    import trimesh

    (a, b), (za, zb) = ([p.centroid for p in st.areas],
                        [scene.floors[f].elevation for f in st.floors])
    pa, pb = np.array([a.x, a.y, za]), np.array([b.x, b.y, zb])
    axis = pb - pa
    length = float(np.linalg.norm(axis))
    if length < 1e-6:
        return None
    ramp = trimesh.creation.box(extents=(length, st.width, 0.15))
    along = axis / length
    side = np.cross((0.0, 0.0, 1.0), along)
    if np.linalg.norm(side) < 1e-9:  # a vertical link: any horizontal side will do
        side = np.array([0.0, 1.0, 0.0])
    side /= np.linalg.norm(side)
    frame = np.eye(4)
    frame[:3, :3] = np.column_stack([along, side, np.cross(along, side)])
    frame[:3, 3] = (pa + pb) / 2
    ramp.apply_transform(frame)  # the ramp's width stays level: it is never rolled
    ramp.visual.face_colors = COLOURS["stair"]
    return ramp


def export_glb(scene: Scene, path: str | Path) -> Path:
    """Write ``scene`` to ``path`` as GLB; returns the path."""
    try:
        import trimesh  # noqa: F401
    except ImportError:
        raise ScenarioError("exporting needs trimesh: pip install 'evacdrill[export]'") from None
    path = Path(path)
    data = scene_to_trimesh(scene).export(file_type="glb")
    path.write_bytes(data)
    return path
