"""Reading a building mesh (glTF/GLB, OBJ, STL, PLY, OFF) into flat triangle arrays, via trimesh.

The result is a :class:`Soup`: every triangle of every node in world coordinates, z up, in
metres, with the node each came from (its node, mesh and material names and its glTF
extras), so that later steps can look at the whole building with numpy and still find the
parts a designer named (``EXIT_1``, ``出口2``, ``stair:S1``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sim.errors import ScenarioError

__all__ = ["FORMATS", "UNITS", "Part", "Soup", "load_soup"]

FORMATS = ("glb", "gltf", "obj", "stl", "ply", "off")
"""File extensions that can be imported."""
UNITS = {"m": 1.0, "cm": 0.01, "mm": 0.001}
"""Length units a mesh may be in, and their size in metres."""
STOREY_RANGE = (2.0, 8.0)
"""Heights a storey (level to level, or level to the top of its walls) may have, m."""
PLAN_RANGE = (3.0, 2000.0)
"""Plan extents a building may have when its height tells nothing, m."""


@dataclass(frozen=True)
class Part:
    """One named piece of the mesh (a glTF node, an OBJ object or group)."""

    node: str
    mesh: str
    material: str
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def names(self) -> tuple[str, ...]:
        """The node, mesh and material names, the ones that are set."""
        return tuple(n for n in (self.node, self.mesh, self.material) if n)


@dataclass
class Soup:
    """All triangles of a mesh in world coordinates (metres, z up)."""

    tris: np.ndarray
    """(n, 3, 3) float64 triangle corners, m."""
    part: np.ndarray
    """(n,) int32 index into :attr:`parts` of the piece each triangle belongs to."""
    parts: list[Part]
    notes: list[str]
    """What was assumed while reading (units, up axis), in English."""
    units: str
    up: str
    up_faces: str = ""
    """The up axis the faces suggest (most horizontal faces face it), whatever was used."""


def _fail(path: Path, message: str) -> ScenarioError:
    return ScenarioError(message, source=str(path))


def _read_scene(path: Path):  # noqa: ANN202 - trimesh.Scene, imported lazily
    import trimesh

    ext = path.suffix.lower().lstrip(".")
    if ext not in FORMATS:
        raise _fail(path, f"unsupported format '.{ext}': export the building as "
                          "glTF/GLB (best: keeps names), OBJ, STL, PLY or OFF")
    if not path.is_file():
        raise _fail(path, "no such file")
    if path.stat().st_size == 0:
        raise _fail(path, "the file is empty (0 bytes)")
    kwargs: dict[str, Any] = {"force": "scene"}
    if ext == "obj":
        kwargs.update(split_objects=True, split_groups=True, group_material=False)
    try:
        return trimesh.load(str(path), **kwargs)
    except Exception as exc:  # noqa: BLE001 - trimesh raises many kinds; all mean unreadable
        raise _fail(path, f"not a readable .{ext} mesh ({type(exc).__name__}: {exc})") from None


def _material_name(geom: Any) -> str:
    mat = getattr(getattr(geom, "visual", None), "material", None)
    return str(getattr(mat, "name", "") or "")


def _flatten(scene: Any, path: Path) -> tuple[np.ndarray, np.ndarray, list[Part]]:
    tris, owner, parts = [], [], []
    for node in scene.graph.nodes_geometry:
        transform, gname = scene.graph[node]
        geom = scene.geometry.get(gname)
        faces = getattr(geom, "faces", None)
        if faces is None or len(faces) == 0:
            continue  # point clouds and paths carry no surface
        v = np.asarray(geom.vertices, dtype=np.float64)
        v = v @ np.asarray(transform, dtype=np.float64)[:3, :3].T + transform[:3, 3]
        extras = geom.metadata.get("extras") if isinstance(geom.metadata, dict) else None
        parts.append(Part(node=str(node), mesh=str(gname), material=_material_name(geom),
                          extras=extras if isinstance(extras, dict) else {}))
        t = v[np.asarray(faces)]
        tris.append(t)
        owner.append(np.full(len(t), len(parts) - 1, np.int32))
    if not tris:
        raise _fail(path, "no triangles found: the file holds no mesh surfaces "
                          "(is it a mesh file? points and lines cannot be imported)")
    t = np.concatenate(tris)
    if not np.isfinite(t).all():
        raise _fail(path, "the mesh has vertices that are not finite numbers (nan or inf)")
    return t, np.concatenate(owner), parts


def _face_area_along(tris: np.ndarray) -> np.ndarray:
    """Area of the faces whose normal is within 10° of each axis, summed per axis, m²."""
    n = np.cross(tris[:, 1] - tris[:, 0], tris[:, 2] - tris[:, 0])
    a = np.linalg.norm(n, axis=1)
    ok = a > 0
    unit = np.abs(n[ok] / a[ok, None])
    return ((unit > 0.985) * a[ok, None]).sum(axis=0) / 2


def _choose_up(area: np.ndarray, ext: str, up: str) -> tuple[str, str]:
    """The up axis and a note saying why, from the face areas along each axis."""
    if up in ("y", "z"):
        return up, f"up axis {up} (given)"
    if ext in ("glb", "gltf"):
        return "y", "up axis y (glTF files are y-up by definition)"
    axis = "y" if area[1] > area[2] else "z"
    return axis, (f"up axis {axis} (the axis most horizontal faces point along: "
                  f"{area[1]:.0f} units² of faces face y, {area[2]:.0f} face z; pass --up to "
                  "override)")


def _to_z_up(tris: np.ndarray, up: str) -> np.ndarray:
    if up == "z":
        return tris
    # y-up (glTF): mesh (x, y, z) is scene (x, -z, y).
    return np.stack([tris[..., 0], -tris[..., 2], tris[..., 1]], axis=-1)


def _storey_candidates(tris: np.ndarray) -> list[tuple[float, str]]:
    """Heights that should be a storey, in mesh units, with what each is (for the notes)."""
    n = np.cross(tris[:, 1] - tris[:, 0], tris[:, 2] - tris[:, 0])
    a = np.linalg.norm(n, axis=1)
    up = (n[:, 2] > 0.985 * a) & (a > 0)
    zmin, zmax = float(tris[..., 2].min()), float(tris[..., 2].max())
    if not up.any() or zmax - zmin <= 0:
        return []
    out = []
    # Heights that carry much floor area, 0.1 % of the height apart.
    zs, w = tris[up, :, 2].mean(axis=1), a[up]
    tol = 1e-3 * (zmax - zmin)
    keys, inv = np.unique(np.round(zs / tol).astype(np.int64), return_inverse=True)
    area = np.bincount(inv, weights=w)
    big = np.unique(keys[area >= 0.2 * area.max()] * tol)
    gaps = np.diff(big)
    gaps = gaps[gaps > 0.05 * (zmax - zmin)]
    if len(gaps):
        out.append((float(np.median(gaps)), "height between floor levels"))
    lowest = float(big.min())
    # Walls standing on the lowest floor: vertical faces whose foot is on it.
    wall = (np.abs(n[:, 2]) < 0.1 * a) & (a > 0)
    foot = wall & (np.abs(tris[..., 2].min(axis=1) - lowest) <= tol * 5)
    if foot.any():
        tops, wa = tris[foot, :, 2].max(axis=1), a[foot]
        order = np.argsort(tops)
        median = tops[order][np.searchsorted(np.cumsum(wa[order]), wa.sum() / 2)]
        out.append((float(median) - lowest, "height of the walls on the lowest floor"))
    if zmax - lowest > 0:
        out.append((zmax - lowest, "height of the building above its lowest floor"))
    return out


def _choose_units(tris: np.ndarray, units: str, path: Path) -> tuple[float, str]:
    cands = _storey_candidates(tris)
    lo, hi = STOREY_RANGE

    def fits(h: float) -> list[str]:
        return [u for u, k in UNITS.items() if lo <= h * k <= hi]

    if units in UNITS:
        s = UNITS[units]
        if cands and not any(units in fits(h) for h, _ in cands):
            height, what = cands[0]
            guess = fits(height)
            hint = (f"the mesh is probably in {_UNIT_WORDS[guess[0]]}: pass --units {guess[0]}"
                    if guess else "check the export units") + " (or --units auto)"
            raise _fail(path, f"with --units {units} the {what} is {height * s:g} m, which is "
                              f"not a storey ({lo:g}–{hi:g} m): {hint}")
        return s, f"units {units} (given)"
    for height, what in cands:
        if fits(height):
            u = fits(height)[0]
            return UNITS[u], (f"units {u}: the {what} is {height:g} mesh units, "
                              f"{height * UNITS[u]:.2f} m (pass --units to override)")
    if cands:
        height, what = cands[0]
        raise _fail(path, f"cannot tell the units: the {what} is {height:g} mesh units, "
                          f"which is a storey ({lo:g}–{hi:g} m) in none of m, cm, mm; "
                          "check the mesh, or pass --units")
    span = float(np.ptp(tris[..., :2].reshape(-1, 2), axis=0).max())
    plan = [u for u, k in UNITS.items() if PLAN_RANGE[0] <= span * k <= PLAN_RANGE[1]]
    u = plan[0] if plan else "m"
    return UNITS[u], (f"units {u}: the mesh is flat; its plan is {span:g} mesh units across "
                      "(pass --units to override)")


_UNIT_WORDS = {"m": "metres", "cm": "centimetres", "mm": "millimetres"}


def load_soup(path: str | Path, *, units: str = "auto", up: str = "auto") -> Soup:
    """Read ``path`` and return its triangles in metres, z up.

    ``units`` is ``"m"``, ``"cm"``, ``"mm"`` or ``"auto"`` (from the storey height);
    ``up`` is ``"y"``, ``"z"`` or ``"auto"`` (glTF: y; others: the axis most horizontal
    faces point along). Raises :class:`ScenarioError` naming the file on anything wrong.
    """
    path = Path(path)
    if units not in (*UNITS, "auto"):
        raise ScenarioError(f"--units must be one of m, cm, mm, auto; got '{units}'")
    if up not in ("y", "z", "auto"):
        raise ScenarioError(f"--up must be one of y, z, auto; got '{up}'")
    scene = _read_scene(path)
    tris, owner, parts = _flatten(scene, path)
    ext = path.suffix.lower().lstrip(".")
    area = _face_area_along(tris)
    axis, up_note = _choose_up(area, ext, up)
    up_faces = "y" if area[1] > area[2] else "z"
    tris = _to_z_up(tris, axis)
    scale, unit_note = _choose_units(tris, units, path)
    if scale != 1.0:
        tris = tris * scale
    unit = next(u for u, k in UNITS.items() if k == scale)
    return Soup(tris=tris, part=owner, parts=parts, notes=[unit_note, up_note],
                units=unit, up=axis, up_faces=up_faces)
