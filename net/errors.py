"""The exception hierarchy of the network package.

::

    NetError                 (a sim.errors.SimError, so `drill` prints one line, exit 2)
    ├── ProtocolError        a message is malformed or not allowed; has an error ``code``
    └── ClientError          the client side cannot go on (refused join, lost connection)

A :class:`ProtocolError` raised while handling one client's message becomes an ``error``
message to that client; it never escapes the server's I/O layer.
"""

from __future__ import annotations

from sim.errors import SimError

__all__ = ["ClientError", "NetError", "ProtocolError"]


class NetError(SimError):
    """Root of every error the network package raises on purpose."""


class ProtocolError(NetError):
    """A message that the server (or client) refuses.

    ``code`` is one of the error codes of docs/protocol.md (``bad_frame``, ``too_large``,
    ``unknown_type``, ``bad_field``, ``forbidden``, ``auth``, ...).
    """

    def __init__(self, code: str, message: str, *, ref: object = None,
                 reason: str | None = None, detail: dict[str, object] | None = None):
        self.code = code
        """Machine-readable error code."""
        self.ref = ref
        """The ``ref`` of the refused message, if it had one."""
        self.reason = reason
        """Finer machine-readable cause (e.g. ``door_far``), so clients can say it in their
        user's language; ``detail`` holds its figures."""
        self.detail = detail or {}
        super().__init__(message)

    def fields(self) -> dict[str, object]:
        """Fields of the ``error`` message: code, message and, if set, reason and detail."""
        out: dict[str, object] = {"code": self.code, "message": str(self)}
        if self.reason:
            out.update(reason=self.reason, detail=self.detail)
        return out


class ClientError(NetError):
    """The client cannot go on: the server refused it or the connection was lost."""
