"""Protocol v1: msgpack framing, message schemas and validation, roles (no I/O here).

Every frame is one binary WebSocket message holding a msgpack map with ``type`` (a
string) and ``v`` (the protocol version, 1). :func:`decode` turns bytes into a validated
message dict or raises :class:`~net.errors.ProtocolError`; :func:`encode` does the
reverse. The message reference is docs/protocol.md.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import msgpack

from net.errors import ProtocolError

__all__ = [
    "ACTIONS",
    "CLIENT_TYPES",
    "INSTRUCTOR_COMMANDS",
    "MAX_MESSAGE",
    "ROLES",
    "VERSION",
    "allowed",
    "decode",
    "encode",
    "message",
    "unpack",
    "valid_event",
]

VERSION = 1
MAX_MESSAGE = 64 * 1024
"""Largest inbound message accepted, bytes."""
ROLES = ("instructor", "participant", "observer")
MAX_TEXT = 2000
"""Longest report text, characters."""
MAX_COORD = 1.0e5
"""Largest coordinate in a message, m."""

Check = Callable[[Any], bool]


def _str(max_len: int = 200) -> Check:
    return lambda v: isinstance(v, str) and 0 < len(v) <= max_len


def _num(lo: float, hi: float) -> Check:
    def check(v: Any) -> bool:
        return (isinstance(v, int | float) and not isinstance(v, bool)
                and math.isfinite(v) and lo <= v <= hi)

    check.hint = f"a number from {lo:g} to {hi:g}"  # type: ignore[attr-defined]
    return check


def _int(lo: int, hi: int) -> Check:
    return lambda v: isinstance(v, int) and not isinstance(v, bool) and lo <= v <= hi


def _bool(v: Any) -> bool:
    return isinstance(v, bool)


def _vec(n: int, lim: float = MAX_COORD) -> Check:
    return lambda v: (isinstance(v, list | tuple) and len(v) == n
                      and all(_num(-lim, lim)(c) for c in v))


def _one_of(*options: str) -> Check:
    return lambda v: isinstance(v, str) and v in options


def _ref(v: Any) -> bool:
    return _int(-(2**53), 2**53)(v) or _str(64)(v)


def _map(max_keys: int = 16) -> Check:
    return lambda v: (isinstance(v, dict) and len(v) <= max_keys
                      and all(isinstance(k, str) and len(k) <= 32 for k in v))


_INJECT_KINDS = ("fire", "smoke", "flood", "gas", "power_cut", "alarm", "block_exit",
                 "unblock_exit", "clear")
_EVENT_FIELDS: dict[str, Check] = {
    "kind": _one_of(*_INJECT_KINDS), "floor": _int(0, 1000), "x": _num(-MAX_COORD, MAX_COORD),
    "y": _num(-MAX_COORD, MAX_COORD), "radius": _num(0, 1.0e4), "exit": _str(100),
    "id": _str(64), "factor": _num(0.05, 1.0), "note": _str(MAX_TEXT),
}


def valid_event(v: Any) -> bool:
    """Whether ``v`` is a well-formed inject event map (kind and known, typed fields)."""
    return (_map()(v) and "kind" in v and all(k in _EVENT_FIELDS and _EVENT_FIELDS[k](x)
                                              for k, x in v.items()))


def _size(v: Any) -> bool:
    return isinstance(v, list | tuple) and len(v) == 2 and all(_int(16, 4096)(c) for c in v)


# type -> {field: (check, required)}
SCHEMAS: dict[str, dict[str, tuple[Check, bool]]] = {
    "join": {"drill": (_str(64), True), "token": (_str(128), False),
             "resume": (_str(128), False), "name": (_str(100), False),
             "avatar": (_bool, False)},
    "pose": {"position": (_vec(3), True), "heading": (_num(-100, 100), True),
             "head": (_vec(4, 2.0), False), "floor": (_int(0, 1000), False)},
    "order_evacuation": {"zone": (_str(100), False), "floor": (_str(100), False),
                         "all": (_bool, False)},
    "move": {"dir": (_vec(2, 1.0e3), False), "to": (_vec(2), False),
             "speed": (_num(0.0, 100.0), False)},
    "door": {"id": (_str(100), True), "action": (_one_of("open", "close"), True)},
    "report": {"text": (_str(MAX_TEXT), True)},
    "mark": {"kind": (_str(50), True), "position": (_vec(3), True),
             "floor": (_int(0, 1000), False), "note": (_str(500), False)},
    "start": {}, "pause": {}, "resume": {}, "end": {},
    "speed": {"factor": (_num(0.1, 10.0), True)},
    "seek": {"t": (_num(0.0, 1.0e7), True)},
    "script_fire": {"index": (_int(0, 10_000), True)},
    "script_skip": {"index": (_int(0, 10_000), True)},
    "inject": {"event": (valid_event, True)},
    "create": {"scenario": (_str(100), True)},
    "list": {},
    "view_request": {"camera": (_str(100), True), "size": (_size, False),
                     "format": (_one_of("jpeg", "png"), False)},
    "ping": {"t": (_num(-1e18, 1e18), False)},
    "resync": {},
}
CLIENT_TYPES = tuple(SCHEMAS)
ACTIONS = ("pose", "move", "order_evacuation", "door", "report", "mark")
"""Participant actions (instructors may send them too)."""
INSTRUCTOR_COMMANDS = ("start", "pause", "resume", "speed", "inject", "end", "create", "seek",
                       "script_fire", "script_skip", "list")
_READ_ONLY = ("ping", "resync", "view_request")


def allowed(role: str, msg_type: str) -> bool:
    """Whether a client of ``role`` may send ``msg_type`` once joined."""
    if msg_type in _READ_ONLY:
        return True
    if role == "instructor":
        return msg_type in ACTIONS or msg_type in INSTRUCTOR_COMMANDS
    if role == "participant":
        return msg_type in ACTIONS
    return False


def message(msg_type: str, **fields: Any) -> dict[str, Any]:
    """A message dict of ``msg_type`` with the protocol version set."""
    return {"type": msg_type, "v": VERSION, **fields}


def encode(msg: dict[str, Any]) -> bytes:
    """Pack a message dict into one msgpack frame (bytes)."""
    return msgpack.packb(msg, use_bin_type=True)


def unpack(frame: bytes | str, *, max_size: int = MAX_MESSAGE) -> dict[str, Any]:
    """Unpack a frame into a map with a string ``type``, without checking its fields.

    Raises ProtocolError (``too_large``, ``bad_frame``, ``version``).
    """
    if isinstance(frame, str):
        raise ProtocolError("bad_frame", "text frames are not part of the protocol; "
                            "send binary msgpack")
    if len(frame) > max_size:
        raise ProtocolError("too_large", f"message of {len(frame)} bytes exceeds "
                            f"{max_size} bytes")
    try:
        msg = msgpack.unpackb(frame, raw=False, strict_map_key=True)
    except Exception as exc:  # noqa: BLE001 - msgpack raises many kinds; all mean bad input
        raise ProtocolError("bad_frame", f"invalid msgpack ({type(exc).__name__})") from None
    if not isinstance(msg, dict) or not isinstance(msg.get("type"), str):
        raise ProtocolError("bad_frame", "a message must be a map with a string 'type'")
    if msg.get("v") != VERSION:
        raise ProtocolError("version", f"protocol version must be {VERSION}",
                            ref=_safe_ref(msg))
    return msg


def _safe_ref(msg: dict[str, Any]) -> object:
    ref = msg.get("ref")
    return ref if _ref(ref) else None


def decode(frame: bytes | str, *, max_size: int = MAX_MESSAGE) -> dict[str, Any]:
    """Unpack and validate one client message; returns the message dict.

    Raises ProtocolError with code ``too_large``, ``bad_frame``, ``version``,
    ``unknown_type`` or ``bad_field``.
    """
    msg = unpack(frame, max_size=max_size)
    ref = _safe_ref(msg)
    schema = SCHEMAS.get(msg["type"])
    if schema is None:
        raise ProtocolError("unknown_type", f"unknown message type {msg['type'][:40]!r}",
                            ref=ref)
    if "ref" in msg and ref is None:
        raise ProtocolError("bad_field", "ref must be an integer or a string of <= 64 chars")
    for key, value in msg.items():
        if key in ("type", "v", "ref"):
            continue
        if key not in schema:
            raise ProtocolError("bad_field", f"{msg['type']}: unknown field {str(key)[:40]!r}",
                                ref=ref)
        if not schema[key][0](value):
            hint = getattr(schema[key][0], "hint", None)
            raise ProtocolError("bad_field", f"{msg['type']}: field {key!r} " + (
                f"must be {hint}" if hint else "has a wrong type or value"), ref=ref)
    for key, (_, required) in schema.items():
        if required and key not in msg:
            raise ProtocolError("bad_field", f"{msg['type']}: field {key!r} is required",
                                ref=ref)
    return msg
