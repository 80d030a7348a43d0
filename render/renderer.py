"""The scene renderer: one building, redrawn for any state and camera, offscreen.

>>> r = Renderer(scene)                      # opens p3headlessgl, else p3tinydisplay
>>> rgb = r.render(snapshot(drill), "overview", (1280, 720))   # (720, 1280, 3) uint8
>>> png = r.encode("png")

A Renderer is not thread-safe: use it from one thread (see :mod:`render.service`).
"""

from __future__ import annotations

import numpy as np
from panda3d.core import (
    Camera,
    GraphicsOutput,
    GraphicsPipe,
    NodePath,
    OrthographicLens,
    PerspectiveLens,
    PNMImage,
    Point2,
    Point3,
    StringStream,
    Texture,
    Vec3,
    WindowProperties,
)

from render.agents import AgentLayer
from render.building import build
from render.camera import Camera as CameraSpec
from render.camera import Placement, parse_camera, place
from render.errors import RenderError, SizeError
from render.hazards import build_hazards
from render.headless import Display, framebuffer, open_display
from render.palette import SKY
from render.state import SceneState
from sim.scenes.model import Scene

__all__ = ["FORMATS", "MAX_SIZE", "Renderer", "check_size", "parse_size"]

MAX_SIZE = 8192
"""Largest image width or height, pixels."""
POWER_CUT_LIGHT = 0.45
"""Brightness of a floor with a power cut (emergency lighting), fraction of normal."""
FORMATS = {"png": "frame.png", "jpeg": "frame.jpg", "jpg": "frame.jpg"}
"""Encodings :meth:`Renderer.encode` knows (the name tells Panda3D the file type)."""


def check_size(size: tuple[int, int], max_size: int = MAX_SIZE) -> tuple[int, int]:
    """``size`` (width, height) in pixels if each is within 1..max_size; else SizeError."""
    try:
        w, h = (int(v) for v in size)
    except (TypeError, ValueError):
        raise SizeError(f"size: expected (width, height) in pixels, got {size!r}") from None
    if not (1 <= w <= max_size and 1 <= h <= max_size):
        raise SizeError(f"size: {w}x{h} is out of range (each side 1..{max_size} pixels)")
    return w, h


def parse_size(text: str, max_size: int = MAX_SIZE) -> tuple[int, int]:
    """``"1280x720"`` → (1280, 720); raises SizeError naming the problem."""
    w, sep, h = str(text).lower().partition("x")
    if not sep or not w.strip().isdigit() or not h.strip().isdigit():
        raise SizeError(f"size: '{text}' is not WIDTHxHEIGHT in pixels (e.g. 1280x720)")
    return check_size((int(w), int(h)), max_size)


class Renderer:
    """Draws one scene offscreen; :meth:`render` returns the picture as a numpy array."""

    def __init__(self, scene: Scene, *, pipes: tuple[str, ...] | None = None,
                 display: Display | None = None):
        self.scene = scene
        self.display = display or open_display(pipes)
        self.root = NodePath(f"render:{scene.name}")
        self.building = build(scene)
        self.building.root.reparent_to(self.root)
        self.agents = AgentLayer(self.root)
        self._elev = np.array([f.elevation for f in scene.floors])
        self._hazard_key: tuple = ()
        self._hazard_nodes: list[NodePath] = []
        # Light is baked into the vertex colours (render.meshes.flat_mesh): the fixed-function
        # lighting of p3tinydisplay and of OpenGL differ, baked colours do not.
        self.root.set_light_off(1)
        self.root.set_two_sided(False)
        self._perspective = PerspectiveLens()
        self._orthographic = OrthographicLens()
        self.lens = self._perspective
        cam = Camera("camera", self.lens)
        self.camera = self.root.attach_new_node(cam)
        self._buffer: GraphicsOutput | None = None
        self._texture = Texture("frame")
        self._size = (0, 0)
        self.placement: Placement | None = None
        """Where the camera was for the last frame."""

    def info(self) -> dict[str, str]:
        """The display module and GL vendor / renderer / version strings."""
        return self.display.info()

    # ------------------------------------------------------------------ output buffer

    def _ensure_buffer(self, size: tuple[int, int]) -> None:
        if self._size == size and self._buffer is not None:
            return
        engine = self.display.engine
        if self._buffer is not None:
            engine.remove_window(self._buffer)
            self._buffer = None
        buf = engine.make_output(self.display.pipe, "frame", 0, framebuffer(),
                                 WindowProperties.size(*size), GraphicsPipe.BF_refuse_window,
                                 self.display.host.get_gsg(), self.display.host)
        if buf is None:
            raise RenderError(f"size: could not create a {size[0]}x{size[1]} offscreen buffer "
                              f"with {self.display.module}")
        self._texture = Texture("frame")
        buf.add_render_texture(self._texture, GraphicsOutput.RTM_copy_ram)
        buf.set_clear_color((SKY[0] / 255, SKY[1] / 255, SKY[2] / 255, 1))
        region = buf.make_display_region()
        region.set_camera(self.camera)
        self._buffer, self._size = buf, size
        engine.open_windows()

    # ------------------------------------------------------------------ frame

    def _update_scene(self, state: SceneState, placement: Placement) -> None:
        dark = {h.floor for h in state.hazards if h.kind == "power_cut"}
        for fi, (floor, node) in enumerate(zip(self.scene.floors, self.building.floors,
                                               strict=True)):
            if floor.elevation > placement.cut_above + 1e-6:
                node.hide()
            else:
                node.show()
            if fi in dark:  # emergency lighting only
                node.set_color_scale(POWER_CUT_LIGHT, POWER_CUT_LIGHT, POWER_CUT_LIGHT, 1)
            else:
                node.clear_color_scale()
        above = self._elev[self._elev > placement.cut_above + 1e-6]
        below = float(above.min()) - 0.05 if len(above) else np.inf
        self.agents.update(state.agents, below=below, min_radius=placement.min_radius)
        is_open = np.asarray(state.exit_open, bool)
        blocked = {h.exit for h in state.hazards if h.kind == "blocked_exit"}
        # In far views widen thin exit lintels to a few pixels, as agents are.
        scale = np.maximum(1.0, 2.0 * placement.min_radius
                           / np.maximum(self.building.lintel_size, 1e-3))
        for lintel, (sx, sy) in zip(self.building.lintels, scale, strict=True):
            lintel.set_scale(sx, sy, 1.0)
        for i, (e, (opened, shut)) in enumerate(zip(self.scene.exits, self.building.closed,
                                                    strict=True)):
            closed = (i < len(is_open) and not is_open[i]) or e.id in blocked
            for n in shut:
                n.show() if closed else n.hide()
            for n in opened:
                n.hide() if closed else n.show()
        key = tuple(state.hazards)
        if key != self._hazard_key:
            for node in self._hazard_nodes:
                node.remove_node()
            self._hazard_nodes = build_hazards(self.scene, self.building, key)
            self._hazard_key = key

    def render(self, state: SceneState, camera: CameraSpec | str = "overview",
               size: tuple[int, int] = (1280, 720)) -> np.ndarray:
        """Draw ``state`` from ``camera``; the picture as (h, w, 3) uint8 RGB, top row first.

        Raises CameraError (bad spec, unknown floor, pose outside, agent absent) or
        SizeError.
        """
        size = check_size(size)
        spec = parse_camera(camera)
        placement = place(spec, self.scene, state, self.building.storey, size)
        self._ensure_buffer(size)
        if placement.film is None:
            self.lens = self._perspective
            self.lens.set_fov(placement.fov)
            self.lens.set_aspect_ratio(size[0] / size[1])
        else:
            self.lens = self._orthographic
            self.lens.set_film_size(placement.film, placement.film * size[1] / size[0])
        self.lens.set_near_far(placement.near, placement.far)
        self.camera.node().set_lens(self.lens)
        self.camera.set_pos(Point3(*placement.pos))
        self.camera.look_at(Point3(*placement.look_at), Vec3(*placement.up))
        self._update_scene(state, placement)
        self.placement = placement
        # Other renderers may share the display: draw only this one's buffer.
        self._buffer.set_active(True)
        try:
            self.display.engine.render_frame()
        finally:
            self._buffer.set_active(False)
        return self.pixels()

    def pixels(self) -> np.ndarray:
        """The last frame as (h, w, 3) uint8 RGB, top row first."""
        w, h = self._size
        data = self._texture.get_ram_image_as("RGB")
        if not data:
            raise RenderError("the offscreen buffer returned no image")
        return np.frombuffer(memoryview(data), np.uint8).reshape(h, w, 3)[::-1]

    def encode(self, fmt: str = "png") -> bytes:
        """The last frame encoded as ``png`` or ``jpeg``."""
        name = FORMATS.get(fmt.lower())
        if name is None:
            raise RenderError(f"format: '{fmt}' is not one of png, jpeg")
        image = PNMImage()
        if not self._texture.store(image):
            raise RenderError("no frame rendered yet")
        stream = StringStream()
        if not image.write(stream, name):
            raise RenderError(f"format: Panda3D could not encode {fmt}")
        return bytes(stream.get_data())

    def project(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Pixel (column, row) of 3D ``points`` (n, 3) m in the last frame, and a mask of
        those in front of the camera and inside the picture."""
        pts = np.atleast_2d(np.asarray(points, float))
        w, h = self._size
        out = np.zeros((len(pts), 2))
        ok = np.zeros(len(pts), bool)
        # A handful of points (exits, sampled agents) for checks: a loop is fine here.
        for i, p in enumerate(pts):
            rel = self.camera.get_relative_point(self.root, Point3(*p))
            p2 = Point2()
            if self.lens.project(rel, p2):
                out[i] = ((p2.x + 1) / 2 * w, (1 - p2.y) / 2 * h)
                ok[i] = True
        return out, ok

    def close(self) -> None:
        """Release the offscreen buffer (the pipe and its host buffer stay open)."""
        if self._buffer is not None:
            self.display.engine.remove_window(self._buffer)
            self._buffer = None
            self._size = (0, 0)
