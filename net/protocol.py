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
    "MAX_FORECAST_RUNS",
    "MAX_MESSAGE",
    "MAX_VIEW_SIZE",
    "ROLES",
    "VERSION",
    "allowed",
    "article",
    "decode",
    "encode",
    "message",
    "safe_ref",
    "unpack",
    "valid_event",
    "validate",
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


MAX_FORECAST_RUNS = 64
"""Most copies one ``forecast`` may ask for."""
MAX_VIEW_SIZE = 2048
"""Largest width or height of a rendered view (``view_request.size``), pixels."""


def _size(v: Any) -> bool:
    return (isinstance(v, list | tuple) and len(v) == 2
            and all(_int(16, MAX_VIEW_SIZE)(c) for c in v))


_size.hint = (f"[width, height], each 16 to {MAX_VIEW_SIZE} "  # type: ignore[attr-defined]
              "pixels")


def _floors(v: Any) -> bool:
    return (isinstance(v, list | tuple) and 0 < len(v) <= 1000
            and all(_int(0, 1000)(f) for f in v))


def _box(v: Any) -> bool:
    return _vec(4)(v) and v[0] < v[2] and v[1] < v[3]


_box.hint = "[x0, y0, x1, y1] in m with x0 < x1 and y0 < y1"  # type: ignore[attr-defined]


# type -> {field: (check, required)}
SCHEMAS: dict[str, dict[str, tuple[Check, bool]]] = {
    "join": {"drill": (_str(64), False), "token": (_str(128), False),
             "resume": (_str(128), False), "name": (_str(100), False),
             "avatar": (_bool, False)},
    "pose": {"position": (_vec(3), True), "heading": (_num(-100, 100), True),
             "head": (_vec(4, 2.0), False), "floor": (_int(0, 1000), False),
             "ack": (_bool, False)},
    "order_evacuation": {"zone": (_str(100), False), "floor": (_str(100), False),
                         "all": (_bool, False)},
    "move": {"dir": (_vec(2, 1.0e3), False), "to": (_vec(2), False),
             "speed": (_num(0.0, 100.0), False)},
    "door": {"id": (_str(100), True), "action": (_one_of("open", "close"), True)},
    "report": {"text": (_str(MAX_TEXT), True), "auto": (_bool, False)},
    "mark": {"kind": (_str(50), True), "position": (_vec(3), True),
             "floor": (_int(0, 1000), False), "note": (_str(500), False)},
    "start": {}, "pause": {}, "resume": {}, "end": {},
    "speed": {"factor": (_num(0.1, 10.0), True)},
    "seek": {"t": (_num(0.0, 1.0e12), True)},
    "script_fire": {"index": (_int(0, 10_000), True)},
    "script_skip": {"index": (_int(0, 10_000), True)},
    "inject": {"event": (valid_event, True)},
    "create": {"scenario": (_str(100), True)},
    "list": {},
    "view_request": {"camera": (_str(100), True), "size": (_size, False),
                     "format": (_one_of("jpeg", "png"), False)},
    "ping": {"t": (_num(-1e18, 1e18), False)},
    "resync": {},
    "subscribe": {"floors": (_floors, False), "box": (_box, False)},
    "forecast": {"runs": (_int(1, MAX_FORECAST_RUNS), False),
                 "horizon": (_num(10.0, 86_400.0), False), "order": (_bool, False)},
}
CLIENT_TYPES = tuple(SCHEMAS)
ACTIONS = ("pose", "move", "order_evacuation", "door", "report", "mark")
"""Participant actions (instructors may send them too)."""
INSTRUCTOR_COMMANDS = ("start", "pause", "resume", "speed", "inject", "end", "create", "seek",
                       "script_fire", "script_skip", "list", "forecast")
_READ_ONLY = ("ping", "resync", "view_request", "subscribe")


def allowed(role: str, msg_type: str) -> bool:
    """Whether a client of ``role`` may send ``msg_type`` once joined."""
    if msg_type in _READ_ONLY:
        return True
    if role == "instructor":
        return msg_type in ACTIONS or msg_type in INSTRUCTOR_COMMANDS
    if role == "participant":
        return msg_type in ACTIONS
    return False


def article(word: str) -> str:
    """``word`` with its indefinite article ("an observer", "a participant")."""
    return f"{'an' if word[:1].lower() in 'aeiou' else 'a'} {word}"


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
                            f"{max_size} bytes", ref=_peek_ref(frame))
    try:
        msg = msgpack.unpackb(frame, raw=False, strict_map_key=True)
    except Exception as exc:  # noqa: BLE001 - msgpack raises many kinds; all mean bad input
        raise ProtocolError("bad_frame", f"invalid msgpack ({type(exc).__name__})") from None
    if not isinstance(msg, dict) or not isinstance(msg.get("type"), str):
        raise ProtocolError("bad_frame", "a message must be a map with a string 'type'")
    if type(msg.get("v")) is not int or msg["v"] != VERSION:  # 1.0 and True are not 1
        raise ProtocolError("version", f"protocol version must be {VERSION}",
                            ref=safe_ref(msg))
    return msg


def _peek_ref(frame: bytes, max_keys: int = 64) -> object:
    """The ``ref`` of a msgpack map frame too large to be decoded (values other than the
    ref are skipped, not built), or None."""
    try:
        unpacker = msgpack.Unpacker(raw=False, max_buffer_size=len(frame) + 1)
        unpacker.feed(frame)
        for _ in range(min(unpacker.read_map_header(), max_keys)):
            key = unpacker.unpack()
            if key == "ref":
                ref = unpacker.unpack()
                return ref if _ref(ref) else None
            unpacker.skip()
    except Exception:  # noqa: BLE001 - not a map, or broken: there is no ref to give
        pass
    return None


def safe_ref(msg: dict[str, Any]) -> object:
    """The message's ``ref`` if it is a valid one, else None."""
    ref = msg.get("ref")
    return ref if _ref(ref) else None


def decode(frame: bytes | str, *, max_size: int = MAX_MESSAGE) -> dict[str, Any]:
    """Unpack and validate one client message; returns the message dict.

    Raises ProtocolError with code ``too_large``, ``bad_frame``, ``version``,
    ``unknown_type`` or ``bad_field``.
    """
    return validate(unpack(frame, max_size=max_size))


def validate(msg: dict[str, Any]) -> dict[str, Any]:
    """Check an unpacked message's type and fields against its schema; returns it.

    Raises ProtocolError ``unknown_type`` or ``bad_field``.
    """
    ref = safe_ref(msg)
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
