"""Opening Panda3D offscreen, with no window system: EGL first, software rasteriser second.

``p3headlessgl`` renders through EGL with no X server: on a GPU through its driver, on a
machine without one through Mesa's llvmpipe (Debian: ``libegl1 libgl1 libegl-mesa0
libgl1-mesa-dri``). ``p3tinydisplay`` is Panda3D's own software renderer and needs only
the pip wheel (and ``libx11-6``, which it links against though it opens no display).
The environment variable ``EVACDRILL_RENDER_PIPE`` (e.g. ``p3tinydisplay``) forces one.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from panda3d.core import (
    FrameBufferProperties,
    GraphicsEngine,
    GraphicsOutput,
    GraphicsPipe,
    GraphicsPipeSelection,
    WindowProperties,
    loadPrcFileData,
)

from render.errors import DisplayError

__all__ = ["DEFAULT_PIPES", "PIPE_ENV", "Display", "open_display"]

DEFAULT_PIPES = ("p3headlessgl", "p3tinydisplay")
"""Display modules tried in order."""
PIPE_ENV = "EVACDRILL_RENDER_PIPE"
"""Environment variable naming the display module(s) to use, comma-separated."""

_PRC = """
window-type none
audio-library-name null
load-display p3headlessgl
aux-display p3tinydisplay
notify-level-display error
notify-level-egldisplay fatal
notify-level-x11display fatal
notify-level-glgsg error
sync-video false
jpeg-quality 90
"""
loadPrcFileData("evacdrill-render", _PRC)


@dataclass(frozen=True)
class Display:
    """An opened graphics pipe, its engine and a small host buffer that owns the GSG."""

    engine: GraphicsEngine
    pipe: GraphicsPipe
    module: str
    """The display module that opened: "p3headlessgl" or "p3tinydisplay"."""
    host: GraphicsOutput

    def info(self) -> dict[str, str]:
        """Pipe type, module and the driver's vendor / renderer / version strings."""
        gsg = self.host.get_gsg()
        return {
            "module": self.module,
            "pipe": self.pipe.get_type().get_name(),
            "vendor": gsg.get_driver_vendor() or "Panda3D",
            "renderer": gsg.get_driver_renderer() or self.pipe.get_interface_name(),
            "version": gsg.get_driver_version() or "",
        }


_PIPES: dict[str, GraphicsPipe] = {}
"""Pipes opened so far, kept for the life of the process: an EGL display is one per device
and process, and a pipe that is freed terminates it under every other pipe's feet."""


def framebuffer() -> FrameBufferProperties:
    """RGBA8 colour and a depth buffer; no multisampling (costly on a CPU rasteriser)."""
    fb = FrameBufferProperties()
    fb.set_rgb_color(True)
    fb.set_rgba_bits(8, 8, 8, 8)
    fb.set_depth_bits(24)
    return fb


def open_display(pipes: tuple[str, ...] | None = None) -> Display:
    """Open the first display module of ``pipes`` that can make an offscreen buffer.

    ``pipes`` defaults to ``$EVACDRILL_RENDER_PIPE`` (comma-separated) or
    :data:`DEFAULT_PIPES`. Raises :class:`DisplayError` naming what was tried.
    """
    if pipes is None:
        env = os.environ.get(PIPE_ENV, "").strip()
        pipes = tuple(p.strip() for p in env.split(",") if p.strip()) or DEFAULT_PIPES
    # An engine of our own: render_frame() draws only this display's buffers, and a render
    # thread (render.service) never shares an engine with other threads.
    engine = GraphicsEngine(None)
    selection = GraphicsPipeSelection.get_global_ptr()
    failures = []
    for module in pipes:
        pipe = _PIPES.get(module) or selection.make_module_pipe(module)
        # A TinyXGraphicsPipe reports itself invalid without an X server, yet makes
        # offscreen buffers: judge a pipe by the buffer it makes.
        if pipe is None:
            failures.append(f"{module}: module did not load")
            continue
        host = engine.make_output(pipe, f"host-{module}", -100, framebuffer(),
                                  WindowProperties.size(16, 16),
                                  GraphicsPipe.BF_refuse_window, None, None)
        if host is None:
            failures.append(f"{module}: could not create an offscreen buffer")
            continue
        engine.open_windows()
        if host.get_gsg() is None or not host.is_valid():
            engine.remove_window(host)
            failures.append(f"{module}: offscreen buffer has no graphics context")
            continue
        _PIPES[module] = pipe
        host.set_active(False)  # it only owns the graphics context; draws nothing
        return Display(engine=engine, pipe=pipe, module=module, host=host)
    raise DisplayError("no offscreen graphics pipe could be opened (" + "; ".join(failures)
                       + "); see docs/render.md, 'Headless setup'")
