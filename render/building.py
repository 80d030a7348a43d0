"""The static building as a Panda3D scene graph, made from the GLB export's meshes.

:func:`sim.scenes.export.scene_to_trimesh` already extrudes floors, walls, exits, stairs
and slow zones; here its meshes are turned back to z-up and grouped under one node per
floor, so floors above the one viewed can be hidden (cutaway). Each exit also gets a
lintel at door height so that it shows from above and through the doorway.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from panda3d.core import NodePath, TransparencyAttrib
from shapely.geometry import Polygon

from render.meshes import flat_mesh, triangles_node
from render.palette import CLOSED_EXIT, SCENE_COLOURS
from sim.scenes.export import DEFAULT_STOREY, scene_to_trimesh
from sim.scenes.model import Scene

__all__ = ["LINTEL", "Building", "build", "mesh_node", "storey_heights"]

LINTEL = (2.1, 2.4)
"""Bottom and top of the coloured lintel over each exit, m above its floor."""


@dataclass
class Building:
    """Nodes of the static building."""

    root: NodePath
    floors: list[NodePath]
    """One group per floor (slab, walls, zones, exits on it, stairs starting from it)."""
    exits: list[NodePath]
    """One node per exit (pad and lintel), in the order of ``scene.exits``."""
    lintels: list[NodePath]
    """Each exit's lintel, positioned at the centre of the exit's bounding box."""
    lintel_size: np.ndarray
    """(n_exits, 2) extent of each lintel along x and y, m."""
    closed: list[tuple[list[NodePath], list[NodePath]]]
    """Per exit, its nodes in the open colour and the same nodes in the closed colour (red,
    hidden until the exit closes). Closing shows one set and hides the other: vertex colours
    only, no ColorAttrib, which a second graphics context in the process (a RenderService
    thread) made come out white."""
    storey: np.ndarray
    """(n_floors,) height from each floor to the next one up (or the default), m."""


def storey_heights(scene: Scene) -> np.ndarray:
    """Height of each storey: up to the next higher elevation, else DEFAULT_STOREY, m."""
    elev = np.array([f.elevation for f in scene.floors], float)
    levels = np.unique(elev)
    above = np.searchsorted(levels, elev + 1e-6)
    nxt = np.append(levels, np.inf)[above]
    return np.where(np.isfinite(nxt), nxt - elev, DEFAULT_STOREY)


def mesh_node(name: str, mesh, *, shade: bool = True) -> NodePath:  # noqa: ANN001 - trimesh
    """A node drawing a trimesh flat-shaded in its face colours (translucent if alpha < 255)."""
    colours = np.asarray(mesh.visual.face_colors, np.uint8)
    arrays, idx = flat_mesh(mesh.vertices, mesh.faces, colours, shade=shade)
    np_ = NodePath(triangles_node(name, arrays, idx))
    if (colours[:, 3] < 255).any():
        np_.set_transparency(TransparencyAttrib.M_alpha)
        np_.set_depth_write(False)
    return np_


def _lintel(polygon: Polygon, z: float, colour: tuple[int, ...]):  # noqa: ANN202
    import trimesh

    parts = [p for p in shapely.get_parts(polygon) if isinstance(p, Polygon) and p.area > 1e-9]
    meshes = []
    for part in parts:
        m = trimesh.creation.extrude_polygon(part, LINTEL[1] - LINTEL[0])
        m.apply_translation((0.0, 0.0, z + LINTEL[0]))
        m.visual.face_colors = colour
        meshes.append(m)
    return trimesh.util.concatenate(meshes) if meshes else None


def build(scene: Scene) -> Building:
    """The building's scene graph (metres, z up)."""
    import trimesh

    ts = scene_to_trimesh(scene)
    ts.apply_transform(trimesh.transformations.rotation_matrix(np.pi / 2, (1, 0, 0)))
    root = NodePath(f"building:{scene.name}")
    floors = [root.attach_new_node(f"level:{f.id}") for f in scene.floors]
    exits = [NodePath(f"exit:{e.id}") for e in scene.exits]
    for fi, node in enumerate(exits):
        node.reparent_to(floors[scene.exits[fi].floor])
    elev = np.array([f.elevation for f in scene.floors])
    variants: list[tuple[list[NodePath], list[NodePath]]] = [([], []) for _ in scene.exits]
    for name in ts.graph.nodes_geometry:
        transform, geom_name = ts.graph[name]
        mesh = ts.geometry[geom_name].copy()
        mesh.apply_transform(transform)
        kind, _, ident = name.partition(":")
        if kind in ("floor", "walls"):
            parent = floors[scene.floor_index(ident)]
        elif kind == "zone":
            parent = floors[scene.floor_index(ident.rpartition(":")[0])]
        elif kind == "exit":
            parent = exits[scene.exit_index(ident)]
        elif kind == "stair":
            st = next(s for s in scene.stairs if s.id == ident)
            parent = floors[min(st.floors, key=lambda f: elev[f])]
        else:  # pragma: no cover - the export names every node
            parent = root
        mesh_node(name, mesh).reparent_to(parent)
        if kind == "exit":
            variants[scene.exit_index(ident)][1].append(_closed_copy(name, mesh, parent))
    lintels, sizes = [], []
    for e, node in zip(scene.exits, exits, strict=True):
        x0, y0, x1, y1 = e.polygon.bounds
        centre = np.array([(x0 + x1) / 2, (y0 + y1) / 2, 0.0])
        lintel = _lintel(e.polygon, scene.floors[e.floor].elevation, SCENE_COLOURS[e.kind])
        holder = node.attach_new_node(f"lintel:{e.id}")
        holder.set_pos(*centre)
        if lintel is not None:
            lintel.apply_translation(-centre)  # so that scaling keeps it over the exit
            mesh_node(f"lintel:{e.id}", lintel).reparent_to(holder)
            variants[len(lintels)][1].append(_closed_copy(f"lintel:{e.id}", lintel, holder))
        lintels.append(holder)
        sizes.append((x1 - x0, y1 - y0))
    for (opened, shut), node in zip(variants, exits, strict=True):
        opened += [c for c in node.find_all_matches("**/+GeomNode")
                   if not c.has_net_tag("closed")]
        for c in shut:
            c.hide()
    return Building(root=root, floors=floors, exits=exits, storey=storey_heights(scene),
                    lintels=lintels, lintel_size=np.array(sizes, float).reshape(-1, 2),
                    closed=variants)


def _closed_copy(name: str, mesh, parent: NodePath) -> NodePath:  # noqa: ANN001
    """The same mesh in the closed-exit colour, under ``parent``, tagged "closed"."""
    red = mesh.copy()
    red.visual.face_colors = (*CLOSED_EXIT[:3], 255)
    node = mesh_node(f"{name}:closed", red)
    node.reparent_to(parent)
    node.set_tag("closed", "1")
    return node
