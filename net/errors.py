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

    def __init__(self, code: str, message: str, *, ref: object = None):
        self.code = code
        """Machine-readable error code."""
        self.ref = ref
        """The ``ref`` of the refused message, if it had one."""
        super().__init__(message)


class ClientError(NetError):
    """The client cannot go on: the server refused it or the connection was lost."""
