"""Hazards as geometry: fire (flame cone), smoke (a grey volume up to the ceiling), flood
(a water slab), gas (a yellow-green cloud), a blocked exit (a red barrier in the doorway),
power cut and alarm (a marker at their point). A handful per drill: one mesh each.
"""

from __future__ import annotations

import shapely
from panda3d.core import NodePath

from render.building import Building, mesh_node
from render.palette import HAZARD_COLOURS
from sim.hazards import Hazard
from sim.scenes.model import Scene

__all__ = ["MIN_RADIUS", "build_hazards"]

MIN_RADIUS = 0.5
"""Hazards given with a smaller radius (or none) are drawn this wide, m."""


def _shape(scene: Scene, building: Building, h: Hazard):  # noqa: ANN202 - trimesh mesh
    import trimesh

    z = scene.floors[h.floor].elevation
    storey = float(building.storey[h.floor])
    r = max(h.radius, MIN_RADIUS)
    if h.kind == "blocked_exit":
        polygon = shapely.Point(h.x, h.y).buffer(r)
        if h.exit in {e.id for e in scene.exits}:
            ex = scene.exits[scene.exit_index(h.exit)]
            polygon, z = ex.polygon, scene.floors[ex.floor].elevation
        part = max(shapely.get_parts(shapely.buffer(polygon, 0.05)), key=lambda p: p.area)
        mesh = trimesh.creation.extrude_polygon(part, 2.0)
        mesh.apply_translation((0, 0, z))
    elif h.kind == "fire":
        mesh = trimesh.creation.cone(radius=r, height=min(2.5, 0.9 * storey), sections=16)
        mesh.apply_translation((h.x, h.y, z))
    elif h.kind in ("smoke", "gas", "flood"):
        height = {"smoke": 0.95 * storey, "gas": min(2.0, storey), "flood": 0.3}[h.kind]
        mesh = trimesh.creation.cylinder(radius=r, height=height, sections=24)
        mesh.apply_translation((h.x, h.y, z + height / 2 + 0.01))
    else:  # power_cut, alarm: a marker near the ceiling
        mesh = trimesh.creation.icosphere(subdivisions=1, radius=0.4)
        mesh.apply_translation((h.x, h.y, z + min(3.0, 0.8 * storey)))
    mesh.visual.face_colors = HAZARD_COLOURS.get(h.kind, (255, 0, 255, 255))
    return mesh


def build_hazards(scene: Scene, building: Building,
                  hazards: tuple[Hazard, ...]) -> list[NodePath]:
    """One node per hazard, each under its floor's group (so cutaways hide it).

    Hazards on a floor that does not exist are skipped (the drill validates them).
    Remove the nodes with ``NodePath.remove_node`` when the hazards change.
    """
    nodes = []
    for h in hazards:
        if not 0 <= h.floor < len(scene.floors):
            continue
        # Flames glow: not shaded.
        node = mesh_node(f"hazard:{h.kind}:{h.id}", _shape(scene, building, h),
                         shade=h.kind != "fire")
        node.set_color_scale_off(1)  # a power cut darkens the floor, not the hazards
        floor = h.floor
        if h.kind == "blocked_exit" and h.exit in {e.id for e in scene.exits}:
            floor = scene.exits[scene.exit_index(h.exit)].floor
        node.reparent_to(building.floors[floor])
        nodes.append(node)
    return nodes
