"""numpy arrays to Panda3D geometry in one copy per array (no per-vertex Python loop)."""

from __future__ import annotations

import numpy as np
from panda3d.core import (
    Geom,
    GeomNode,
    GeomTriangles,
    GeomVertexArrayFormat,
    GeomVertexData,
    GeomVertexFormat,
    InternalName,
)

__all__ = ["POSITION_COLOUR", "flat_mesh", "triangles_node", "write_triangles"]


def _format() -> GeomVertexFormat:
    """Separate arrays (position, colour) so each is written from one numpy array."""
    fmt = GeomVertexFormat()
    pos = GeomVertexArrayFormat()
    pos.add_column(InternalName.get_vertex(), 3, Geom.NT_float32, Geom.C_point)
    fmt.add_array(pos)
    col = GeomVertexArrayFormat()
    col.add_column(InternalName.get_color(), 4, Geom.NT_uint8, Geom.C_color)
    fmt.add_array(col)
    return GeomVertexFormat.register_format(fmt)


POSITION_COLOUR = _format()
"""Arrays: 0 position float32 x3, 1 colour uint8 RGBA."""


def write_triangles(geom: Geom, arrays: list[np.ndarray], indices: np.ndarray) -> None:
    """Replace the vertex arrays and the triangle indices of ``geom``.

    ``arrays`` in the order of the geom's format (e.g. positions (n, 3) float32, colours
    (n, 4) uint8); ``indices`` (3 m,) uint32. Each is one buffer copy.
    """
    vdata = geom.modify_vertex_data()
    for k, arr in enumerate(arrays):
        vdata.modify_array_handle(k).copy_data_from(np.ascontiguousarray(arr))
    prim = geom.modify_primitive(0)
    prim.modify_vertices().modify_handle().copy_data_from(
        np.ascontiguousarray(indices, dtype=np.uint32))


def triangles_node(name: str, arrays: list[np.ndarray], indices: np.ndarray,
                   *, dynamic: bool = False) -> GeomNode:
    """A GeomNode with one indexed triangle list made from numpy arrays.

    ``arrays``: positions (n, 3) float32 and colours (n, 4) uint8; ``indices`` (3 m,)
    uint32, counter-clockwise seen from the front.
    """
    vdata = GeomVertexData(name, POSITION_COLOUR, Geom.UH_stream if dynamic else Geom.UH_static)
    prim = GeomTriangles(Geom.UH_stream if dynamic else Geom.UH_static)
    prim.set_index_type(Geom.NT_uint32)
    geom = Geom(vdata)
    geom.add_primitive(prim)
    write_triangles(geom, arrays, indices)
    node = GeomNode(name)
    node.add_geom(geom)
    return node


SUN = np.array([0.4, -0.6, 1.0]) / np.linalg.norm([0.4, -0.6, 1.0])
"""Direction towards the light that shades static geometry (from above, south-east)."""
AMBIENT, DIFFUSE = 0.55, 0.45
"""Shade of a face: AMBIENT + DIFFUSE * max(0, normal . SUN); 1.0 for a floor."""


def flat_mesh(vertices: np.ndarray, faces: np.ndarray, face_colours: np.ndarray,
              *, shade: bool = True) -> tuple[list[np.ndarray], np.ndarray]:
    """Flat-shaded arrays of a triangle mesh: every face gets its own three vertices.

    ``vertices`` (v, 3), ``faces`` (f, 3) int, ``face_colours`` (f, 4) uint8 → the
    ``arrays`` and ``indices`` of :func:`triangles_node`. The light is baked into the
    colours (``shade``), so pictures look the same on every pipe, lighting off.
    """
    tri = np.asarray(vertices, np.float64)[np.asarray(faces)]          # (f, 3, 3)
    col = np.asarray(face_colours, np.uint8)[:, :4].copy()
    if shade:
        normal = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
        length = np.linalg.norm(normal, axis=1)
        cos = np.divide(normal @ SUN, length, out=np.zeros(len(tri)), where=length > 0)
        k = AMBIENT + DIFFUSE * np.clip(cos, 0.0, None) / max(float(SUN[2]), 1e-9)
        col[:, :3] = np.clip(np.rint(col[:, :3] * np.minimum(k, 1.0)[:, None]), 0, 255)
    pos = tri.reshape(-1, 3).astype(np.float32)
    return [pos, np.repeat(col, 3, axis=0)], np.arange(len(pos), dtype=np.uint32)
