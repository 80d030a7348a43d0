"""Rendered views for ``view_request``: frames from the optional render service.

The renderer (:class:`render.service.RenderService`, Panda3D) is optional: it is
imported here lazily, and anything missing or failing becomes a ProtocolError
``unavailable``; the simulation and the rest of the server never depend on it.
"""

from __future__ import annotations

import threading
from typing import Any

from net.errors import ProtocolError
from net.room import Room

__all__ = ["close_views", "render_view"]

_services: dict[str, Any] = {}
_lock = threading.Lock()


def render_view(room: Room, camera: str, size: tuple[int, int] = (1280, 720),
                fmt: str = "jpeg") -> tuple[str, bytes]:
    """Render the drill's current state from a camera spec; returns (format, bytes).

    ``camera`` is a spec of :mod:`render.camera` (``overview``, ``floor:N``,
    ``pose:x,y,z,h,p``, ``follow:ID``); ``size`` in pixels. Raises ProtocolError
    ``bad_field`` for a wrong camera or size, ``unavailable`` when rendering is not
    possible here.
    """
    try:
        from render.errors import CameraError, SizeError
        from render.service import RenderService  # optional, heavy (Panda3D)
        from render.state import snapshot
    except Exception as exc:  # noqa: BLE001 - missing or broken optional dependency
        raise ProtocolError("unavailable", f"rendering is not available here "
                            f"({type(exc).__name__}: {str(exc)[:200]})") from None
    try:
        with _lock:
            service = _services.get(room.id)
            if service is None:
                service = _services[room.id] = RenderService(room.scenario.scene)
        with room.state_lock:  # a consistent state between two ticks
            state = snapshot(room.drill)
        return fmt, bytes(service.frame(state, camera, size=size, fmt=fmt))
    except (CameraError, SizeError) as exc:
        raise ProtocolError("bad_field", f"view_request: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - any failure of the optional renderer
        raise ProtocolError("unavailable", f"rendering failed ({type(exc).__name__}: "
                            f"{str(exc)[:200]})") from None


def close_views(room_id: str) -> None:
    """Stop the render service of a drill that has ended (if it had one)."""
    with _lock:
        service = _services.pop(room_id, None)
    if service is not None:
        service.close()
