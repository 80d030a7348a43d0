"""The exception hierarchy of the renderer.

::

    sim.errors.SimError
    └── RenderError          the renderer cannot make the picture asked for
        ├── DisplayError     no offscreen graphics pipe could be opened
        ├── CameraError      a camera spec or pose is wrong (unknown floor, outside the building)
        ├── SizeError        an image size out of range
        └── RecordingError   a run folder cannot be read (missing, truncated, malformed)

Deriving from :class:`sim.errors.SimError` lets ``drill`` print one line and exit 2.
"""

from __future__ import annotations

from sim.errors import SimError

__all__ = ["CameraError", "DisplayError", "RecordingError", "RenderError", "SizeError"]


class RenderError(SimError):
    """Root of every error the renderer raises on purpose."""


class DisplayError(RenderError):
    """No offscreen graphics pipe (EGL or software) could be opened."""


class CameraError(RenderError):
    """A camera spec is malformed or places the camera where it makes no sense."""


class SizeError(RenderError):
    """An image size is zero, negative or larger than the renderer allows."""


class RecordingError(RenderError):
    """A run folder (``drill run`` output) is missing, malformed or truncated."""
