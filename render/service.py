"""Frames as encoded bytes for the network layer, rendered in one dedicated thread.

Panda3D's graphics engine is not meant to be driven from several threads, so a
:class:`RenderService` owns one worker thread that creates the :class:`Renderer` and does
every Panda3D call; :meth:`RenderService.frame` may be called from any thread (an asyncio
server: ``await loop.run_in_executor(None, service.frame, state, "overview")``). Requests
are served one at a time in arrival order. A :class:`sim.drill.Drill` passed in is copied
(:func:`render.state.snapshot`) in the *caller's* thread, so the drill must not be stepped
concurrently with that call; the copy is then drawn while the drill goes on.
"""

from __future__ import annotations

import queue
import threading
from concurrent.futures import Future
from typing import Any

from render.camera import Camera, parse_camera
from render.errors import RenderError
from render.renderer import FORMATS, check_size
from render.state import SceneState, snapshot
from sim.scenes.model import Scene

__all__ = ["RenderService"]

_STOP = object()


class RenderService:
    """Renders frames of one scene on request; thread-safe (see the module docstring)."""

    def __init__(self, scene: Scene, *, pipes: tuple[str, ...] | None = None,
                 timeout: float = 60.0):
        self.scene = scene
        self.timeout = timeout
        """Seconds :meth:`frame` waits for its picture before raising RenderError."""
        self._jobs: queue.Queue[Any] = queue.Queue()
        ready: Future[dict[str, str]] = Future()
        self._thread = threading.Thread(target=self._serve, args=(pipes, ready),
                                        name=f"render:{scene.name}", daemon=True)
        self._thread.start()
        self._info = ready.result(timeout=timeout)  # re-raises DisplayError from the thread

    def info(self) -> dict[str, str]:
        """The display module and GL vendor / renderer strings in use."""
        return dict(self._info)

    def _serve(self, pipes: tuple[str, ...] | None, ready: Future) -> None:
        from render.renderer import Renderer

        try:
            renderer = Renderer(self.scene, pipes=pipes)
        except BaseException as exc:  # noqa: BLE001 - handed to the constructor's caller
            ready.set_exception(exc)
            return
        ready.set_result(renderer.info())
        while True:
            job = self._jobs.get()
            if job is _STOP:
                renderer.close()
                return
            state, camera, size, fmt, result = job
            if not result.set_running_or_notify_cancel():
                continue
            try:
                renderer.render(state, camera, size)
                result.set_result(renderer.encode(fmt))
            except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
                result.set_exception(exc)

    def frame(self, source: Any, camera: Camera | str = "overview",
              size: tuple[int, int] = (1280, 720), fmt: str = "jpeg") -> bytes:
        """One frame of ``source`` (a Drill or a SceneState) as ``fmt`` ("jpeg" or "png").

        ``size`` is (width, height) in pixels. Raises CameraError, SizeError or
        RenderError (also when the service is closed or the frame takes too long).
        """
        if not self._thread.is_alive():
            raise RenderError("the render service is closed")
        if fmt.lower() not in FORMATS:
            raise RenderError(f"format: '{fmt}' is not one of png, jpeg")
        size = check_size(size)
        spec = parse_camera(camera)
        state = source if isinstance(source, SceneState) else snapshot(source)
        result: Future[bytes] = Future()
        self._jobs.put((state, spec, size, fmt, result))
        try:
            return result.result(timeout=self.timeout)
        except TimeoutError:
            result.cancel()
            raise RenderError(f"frame not rendered within {self.timeout:g} s") from None

    def close(self) -> None:
        """Stop the render thread (pending frames are still served first)."""
        if self._thread.is_alive():
            self._jobs.put(_STOP)
            self._thread.join(self.timeout)

    def __enter__(self) -> RenderService:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
