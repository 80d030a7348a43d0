"""Cameras: parsing a spec, and placing the camera for a scene and a state.

Specs (the ``--camera`` option and :meth:`render.service.RenderService.frame`):

- ``overview`` — the whole building, oblique; ``overview:top`` a plan from straight above.
- ``floor:N`` — one floor (index or id) as a plan from straight above (orthographic),
  floors above it hidden;
  ``floor:N:oblique`` from the side.
- ``pose:x,y,z,h,p`` — a participant's eyes at (x, y, z) m, heading ``h`` degrees
  counter-clockwise from the +x axis, pitch ``p`` degrees up (-90 … 90).
- ``follow:ID`` — behind and above agent ``ID``, looking at it; floors above it hidden.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely

from render.errors import CameraError
from render.state import SceneState
from sim.scenes.model import Scene

__all__ = ["Camera", "Follow", "Overview", "Placement", "Pose", "parse_camera", "place"]

OVERVIEW_FOV = 50.0
"""Horizontal field of view of overviews, degrees."""
EYE_FOV = 75.0
"""Horizontal field of view of first-person and follow cameras, degrees."""
OBLIQUE_ELEVATION = 50.0
"""Overview cameras look down at this angle, degrees."""
OBLIQUE_AZIMUTH = 60.0
"""...from this direction: the camera looks towards this plan angle from +x, degrees."""
FOLLOW_BACK, FOLLOW_UP = 2.5, 10.0
"""A follow camera stays this far behind and above its agent, m."""
FOLLOW_CLIP = 0.9
"""...and hides what is nearer to it than this fraction of its distance to the agent."""
MIN_AGENT_PIXELS = 3.0
"""In overviews agents are drawn at least this many pixels wide."""


@dataclass(frozen=True)
class Overview:
    """The whole building (``floor`` None) or one floor, oblique or from straight above."""

    floor: str | None = None
    """Floor index (as text) or id; None for the whole building."""
    top: bool = False


@dataclass(frozen=True)
class Pose:
    """First-person camera: eye position (m), heading (deg CCW from +x), pitch (deg up)."""

    x: float
    y: float
    z: float
    heading: float = 0.0
    pitch: float = 0.0


@dataclass(frozen=True)
class Follow:
    """Camera behind and above one agent."""

    agent: int


Camera = Overview | Pose | Follow


@dataclass(frozen=True)
class Placement:
    """Where a camera is for one frame."""

    pos: np.ndarray
    """(3,) eye position, m."""
    look_at: np.ndarray
    """(3,) point looked at, m."""
    up: np.ndarray
    """(3,) up direction."""
    fov: float
    """Horizontal field of view, degrees."""
    near: float
    far: float
    cut_above: float
    """Floors with an elevation above this (m) and agents at or above the next one hidden."""
    min_radius: float
    """Agents drawn at least this wide, m."""
    film: float | None = None
    """Width seen by an orthographic (straight-down) camera, m; None: perspective."""


def parse_camera(spec: str | Camera) -> Camera:
    """A camera from its spec text (see the module docstring); raises CameraError."""
    if isinstance(spec, Overview | Pose | Follow):
        return spec
    text = str(spec).strip()
    kind, _, rest = text.partition(":")
    if kind == "overview":
        if rest not in ("", "top", "oblique"):
            raise CameraError(f"camera '{text}': overview takes ':top' or ':oblique'")
        return Overview(None, top=rest == "top")
    if kind == "floor":
        floor, _, mode = rest.rpartition(":") if rest.endswith((":top", ":oblique")) \
            else (rest, "", "top")
        if not floor:
            raise CameraError(f"camera '{text}': give a floor index or id, e.g. floor:0")
        return Overview(floor, top=mode == "top")
    if kind == "pose":
        parts = rest.split(",")
        try:
            values = [float(p) for p in parts]
        except ValueError:
            values = []
        if len(values) != 5 or not all(math.isfinite(v) for v in values):
            raise CameraError(f"camera '{text}': pose needs five numbers x,y,z,heading,pitch "
                              "(metres and degrees)")
        if not -90.0 <= values[4] <= 90.0:
            raise CameraError(f"camera '{text}': pitch {values[4]:g} is outside -90..90 degrees")
        return Pose(*values)
    if kind == "follow":
        try:
            agent = int(rest)
        except ValueError:
            raise CameraError(f"camera '{text}': follow needs an agent id (integer)") from None
        if agent < 0:
            raise CameraError(f"camera '{text}': agent id must be >= 0")
        return Follow(agent)
    raise CameraError(f"camera '{text}': unknown camera (overview, floor:N, "
                      "pose:x,y,z,h,p or follow:ID)")


def _floor(scene: Scene, ref: str) -> int:
    for i, f in enumerate(scene.floors):
        if f.id == ref:
            return i
    try:
        i = int(ref)
    except ValueError:
        i = -1
    if 0 <= i < len(scene.floors):
        return i
    known = ", ".join(f"{i} ({f.id})" for i, f in enumerate(scene.floors))
    raise CameraError(f"camera 'floor:{ref}': no such floor (floors: {known})")


def _fit(lo: np.ndarray, hi: np.ndarray, forward: np.ndarray, up_hint: np.ndarray,
         fov: float, aspect: float) -> tuple[np.ndarray, float]:
    """Eye position looking along ``forward`` so the box [lo, hi] fills the view."""
    corners = np.array(np.meshgrid(*zip(lo, hi, strict=True), indexing="ij")).reshape(3, -1).T
    centre = (lo + hi) / 2
    right = np.cross(forward, up_hint)
    right /= np.linalg.norm(right)
    up = np.cross(right, forward)
    tx = math.tan(math.radians(fov) / 2)
    ty = tx / aspect
    rel = corners - centre
    along = rel @ forward
    dist = max(float(np.max(np.abs(rel @ right) / tx - along)),
               float(np.max(np.abs(rel @ up) / ty - along)), 1.0) * 1.05
    return centre - forward * dist, dist


def place(camera: Camera, scene: Scene, state: SceneState, storey: np.ndarray,
          size: tuple[int, int]) -> Placement:
    """Where ``camera`` is for ``state`` at image ``size`` (w, h); raises CameraError."""
    elev = np.array([f.elevation for f in scene.floors])
    aspect = size[0] / size[1]
    if isinstance(camera, Overview):
        shown = np.arange(len(elev)) if camera.floor is None else [_floor(scene, camera.floor)]
        bounds = np.array([scene.floors[i].walkable.bounds for i in shown])
        lo = np.array([bounds[:, 0].min(), bounds[:, 1].min(), elev[shown].min()])
        hi = np.array([bounds[:, 2].max(), bounds[:, 3].max(),
                       (elev[shown] + storey[shown]).max()])
        cut = np.inf if camera.floor is None else float(elev[shown[0]])
        span = float(np.linalg.norm(hi - lo))
        if camera.top:  # orthographic: a plan, agents' tops exactly over their feet
            film = max(hi[0] - lo[0], (hi[1] - lo[1]) * aspect, 1.0) * 1.05
            eye = np.array([(lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2, hi[2] + 10.0])
            return Placement(pos=eye, look_at=eye - np.array([0.0, 0.0, 1.0]),
                             up=np.array([0.0, 1.0, 0.0]), fov=OVERVIEW_FOV, near=1.0,
                             far=hi[2] - lo[2] + 20.0, cut_above=cut,
                             min_radius=MIN_AGENT_PIXELS / 2 * film / size[0], film=film)
        el, az = math.radians(OBLIQUE_ELEVATION), math.radians(OBLIQUE_AZIMUTH)
        forward = np.array([math.cos(el) * math.cos(az), math.cos(el) * math.sin(az),
                            -math.sin(el)])
        up = np.array([0.0, 0.0, 1.0])
        eye, dist = _fit(lo, hi, forward, up, OVERVIEW_FOV, aspect)
        metres_per_px = 2 * dist * math.tan(math.radians(OVERVIEW_FOV) / 2) / size[0]
        return Placement(pos=eye, look_at=eye + forward, up=up, fov=OVERVIEW_FOV,
                         near=max(0.05, (dist - span) * 0.5), far=dist + 2 * span,
                         cut_above=cut, min_radius=MIN_AGENT_PIXELS / 2 * metres_per_px)
    if isinstance(camera, Pose):
        return _pose(camera, scene, elev, storey)
    return _follow(camera, scene, state, elev)


def _pose(camera: Pose, scene: Scene, elev: np.ndarray, storey: np.ndarray) -> Placement:
    x, y, z = camera.x, camera.y, camera.z
    inside = [i for i, f in enumerate(scene.floors)
              if elev[i] - 0.1 <= z <= elev[i] + storey[i]
              and shapely.contains_xy(f.area, x, y)]
    if not inside:
        raise CameraError(f"camera 'pose:{x:g},{y:g},{z:g},...': ({x:g}, {y:g}, {z:g}) m lies "
                          "outside the building (no floor's walkable area holds it at that "
                          "height)")
    h, p = math.radians(camera.heading), math.radians(camera.pitch)
    forward = np.array([math.cos(p) * math.cos(h), math.cos(p) * math.sin(h), math.sin(p)])
    up = np.array([0.0, 1.0, 0.0]) if abs(camera.pitch) > 89.9 else np.array([0.0, 0.0, 1.0])
    if abs(camera.pitch) > 89.9:  # looking straight up or down: keep the heading as "up"
        up = np.array([math.cos(h), math.sin(h), 0.0])
    pos = np.array([x, y, z])
    return Placement(pos=pos, look_at=pos + forward, up=up, fov=EYE_FOV, near=0.05,
                     far=2000.0, cut_above=float(elev[max(inside, key=lambda i: elev[i])]),
                     min_radius=0.0)


def _follow(camera: Follow, scene: Scene, state: SceneState, elev: np.ndarray) -> Placement:
    rows = np.flatnonzero(state.agents.id == camera.agent)
    if not len(rows):
        raise CameraError(f"camera 'follow:{camera.agent}': agent {camera.agent} is not in the "
                          f"building at t = {state.time:g} s (it has left, or there is no "
                          f"such agent; {len(state.agents)} inside)")
    r = rows[0]
    feet = state.agents.xyz[r]
    d = state.agents.heading[r]
    norm = float(np.hypot(*d))
    d = d / norm if norm > 1e-9 else np.array([0.0, 1.0])
    pos = feet + np.array([-FOLLOW_BACK * d[0], -FOLLOW_BACK * d[1], FOLLOW_UP])
    on = elev[elev <= feet[2] + 0.05]
    cut = float(on.max()) if len(on) else float(elev.min())
    # The near plane clips what stands between the camera and the agent (walls): a cutaway.
    near = FOLLOW_CLIP * float(np.linalg.norm(pos - feet - np.array([0.0, 0.0, 1.0])))
    return Placement(pos=pos, look_at=feet + np.array([0.0, 0.0, 1.0]),
                     up=np.array([0.0, 0.0, 1.0]), fov=EYE_FOV, near=near, far=2000.0,
                     cut_above=cut, min_radius=0.0)
