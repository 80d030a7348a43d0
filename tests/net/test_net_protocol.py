"""Protocol v1 without a network: framing, validation of every field, roles."""

from __future__ import annotations

import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from net.errors import ProtocolError
from net.protocol import (
    ACTIONS,
    CLIENT_TYPES,
    INSTRUCTOR_COMMANDS,
    MAX_MESSAGE,
    allowed,
    decode,
    encode,
    message,
)


def _code(frame: bytes | str) -> str:
    with pytest.raises(ProtocolError) as info:
        decode(frame)
    return info.value.code


def test_valid_messages_decode_to_their_fields():
    frame = encode(message("door", id="East", action="close", ref=7))
    assert decode(frame) == {"type": "door", "v": 1, "id": "East", "action": "close", "ref": 7}


@pytest.mark.parametrize("frame, code", [
    (b"\xc1", "bad_frame"),                                   # never-used msgpack byte
    (msgpack.packb([1, 2]), "bad_frame"),                      # not a map
    (msgpack.packb({"v": 1}), "bad_frame"),                    # no type
    ("{\"type\": \"ping\"}", "bad_frame"),                     # text frame
    (msgpack.packb({"type": "ping", "v": 2}), "version"),
    (msgpack.packb({"type": "launch", "v": 1}), "unknown_type"),
    (msgpack.packb({"type": "door", "v": 1, "id": "E"}), "bad_field"),            # missing
    (msgpack.packb({"type": "door", "v": 1, "id": 3, "action": "open"}), "bad_field"),
    (msgpack.packb({"type": "door", "v": 1, "id": "E", "action": "ajar"}), "bad_field"),
    (msgpack.packb({"type": "speed", "v": 1, "factor": True}), "bad_field"),
    (msgpack.packb({"type": "speed", "v": 1, "factor": float("nan")}), "bad_field"),
    (msgpack.packb({"type": "pose", "v": 1, "position": [1, 2], "heading": 0}), "bad_field"),
    (msgpack.packb({"type": "ping", "v": 1, "extra": 1}), "bad_field"),
    (msgpack.packb({"type": "inject", "v": 1, "event": {"kind": "meteor"}}), "bad_field"),
    (msgpack.packb({"type": "report", "v": 1, "text": "x" * 5000}), "bad_field"),
    (msgpack.packb({"type": "ping", "v": 1, "ref": [1]}), "bad_field"),
])
def test_malformed_messages_are_refused_with_a_code(frame, code):
    assert _code(frame) == code


def test_messages_over_64_kib_are_refused_before_unpacking():
    frame = encode(message("report", text="x" * 10)) + b"\x00" * MAX_MESSAGE
    assert _code(frame) == "too_large"


def test_roles_participant_acts_instructor_commands_observer_only_watches():
    for kind in INSTRUCTOR_COMMANDS:
        assert allowed("instructor", kind)
        assert not allowed("participant", kind)
        assert not allowed("observer", kind)
    for kind in ACTIONS:
        assert allowed("participant", kind) and allowed("instructor", kind)
        assert not allowed("observer", kind)
    assert allowed("observer", "ping") and allowed("observer", "view_request")
    assert not allowed("instructor", "join")


values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.floats()
    | st.text(max_size=20) | st.binary(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                               max_size=4),
    max_leaves=12)


@settings(max_examples=500, deadline=None)
@given(kind=st.sampled_from(CLIENT_TYPES), fields=st.dictionaries(
    st.sampled_from(["id", "action", "event", "position", "heading", "factor", "text", "zone",
                     "floor", "all", "ref", "v", "camera", "kind", "token", "drill"]),
    values, max_size=5))
def test_decode_accepts_or_refuses_with_protocol_error_only(kind, fields):
    try:
        msg = decode(msgpack.packb({"type": kind, "v": 1, **fields}, use_bin_type=True))
    except ProtocolError as exc:
        assert exc.code in ("bad_field", "version", "bad_frame")
    else:
        assert msg["type"] == kind


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes_never_escape_as_anything_but_protocol_error(frame):
    try:
        decode(frame)
    except ProtocolError:
        pass
