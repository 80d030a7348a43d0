"""Following a drill live (net/live.py): the timeline fired early or skipped, people out
per exit, the evacuation curve and the plan's steps met or missed."""

from pathlib import Path

import msgpack
import pytest

from net.protocol import message
from net.room import Room
from net.script import load_drill

HALL = Path(__file__).with_name("drill_room.toml")
PLAN = """
[[plan]]
id = "P1"
action = "first_out"
after = "start"
within = 60
text = "首人 60 秒内撤出"

[[plan]]
id = "P2"
action = "order_evacuation"
after = "start"
within = 2
text = "2 秒内下达疏散命令"
"""


def _room(tmp_path: Path, extra: str = "", later_inject: bool = True) -> Room:
    text = HALL.read_text(encoding="utf-8")
    if later_inject:
        text = text.replace("time = 1.0", "time = 300.0")
    path = tmp_path / "live.toml"
    path.write_text(text + extra, encoding="utf-8")
    sc, script = load_drill(path)
    return Room("live", sc, script)


def _reply(room: Room, seat, kind: str, **fields) -> dict:
    room.submit("k", seat, message(kind, ref=1, **fields))
    return next(r for k, r in room.tick(0.1).replies if k == "k")


def _delta(res, audience: str = "privileged") -> dict:
    return msgpack.unpackb(res.frames[audience])


def test_an_instructor_fires_a_scripted_inject_early_or_skips_it(tmp_path):
    room = _room(tmp_path)
    ins = room.join(token=room.tokens["instructor"], resume=None, name="导调")
    assert _reply(room, ins, "start")["type"] == "ack"
    assert [s["state"] for s in room.live.script()] == ["pending"]
    room.submit("k", ins, message("script_fire", ref=1, index=0))
    res = room.tick(0.1)
    assert next(r for k, r in res.replies if k == "k")["type"] == "ack"
    assert [h.kind for h in room.drill.hazards] == ["smoke"]  # at t = 0.1 s, not 300 s
    assert _delta(res)["script"][0]["state"] == "fired"
    assert "script" not in _delta(res, "participant")  # a blind drill tells them nothing
    again = _reply(room, ins, "script_fire", index=0)
    assert (again["type"], again["code"]) == ("error", "state")
    unknown = _reply(room, ins, "script_skip", index=5)
    assert (unknown["type"], unknown["code"]) == ("error", "bad_field")
    cmd = [c for _, c in room.drill.commands if c["type"] == "inject"][0]
    assert cmd["script"] == 0 and cmd["by"] == ins.pid


def test_a_skipped_inject_does_not_fire_at_its_time(tmp_path):
    room = _room(tmp_path, later_inject=False)  # the smoke is due at t = 1 s
    ins = room.join(token=room.tokens["instructor"], resume=None, name="导调")
    _reply(room, ins, "start")
    assert _reply(room, ins, "script_skip", index=0)["type"] == "ack"
    for _ in range(30):
        room.tick(0.1)
    assert room.drill.time > 2.0 and not room.drill.hazards
    assert room.snapshots(0.0)["privileged"]["script"][0]["state"] == "skipped"


def test_exit_counts_curve_and_plan_follow_the_evacuation(tmp_path):
    room = _room(tmp_path, PLAN)
    ins = room.join(token=room.tokens["instructor"], resume=None, name="导调")
    _reply(room, ins, "start")
    plan = room.snapshots(0.0)["privileged"]["plan"]
    assert [p["state"] for p in plan] == ["pending", "pending"]
    seen_counts = []
    for _ in range(600):
        res = room.tick(0.5)
        d = _delta(res, "participant")
        if "exit_counts" in d:
            seen_counts.append(d["exit_counts"])
        if room.status == "finished":
            break
    snap = room.snapshots(0.0)
    assert sum(snap["participant"]["exit_counts"]) == room.drill.evacuated == 40
    assert seen_counts and seen_counts == sorted(seen_counts, key=sum)
    curve = snap["privileged"]["curve"]
    assert curve[0] == [0.0, 0] and curve[-1][1] <= 40
    assert [t for t, _ in curve] == [float(i) for i in range(len(curve))]
    assert all(a[1] <= b[1] for a, b in zip(curve, curve[1:], strict=False))
    assert "curve" not in snap["participant"]
    states = {p["id"]: p["state"] for p in snap["privileged"]["plan"]}
    assert states == {"P1": "met", "P2": "missed"}


@pytest.mark.parametrize("kind", ["script_fire", "script_skip"])
def test_participants_may_not_touch_the_timeline(tmp_path, kind):
    from net.protocol import allowed

    assert allowed("instructor", kind) and not allowed("participant", kind)
    assert not allowed("observer", kind)


def test_bad_instructor_commands_are_refused_with_the_reason(tmp_path):
    room = _room(tmp_path)
    ins = room.join(token=room.tokens["instructor"], resume=None, name="导调")
    _reply(room, ins, "start")
    far = _reply(room, ins, "inject", event={"kind": "fire", "x": 80.0, "y": 5.0,
                                             "radius": 2.0})
    assert (far["type"], far["code"]) == ("error", "refused")
    assert "outside floor 'G'" in far["message"] and not room.drill.hazards
    assert far["reason"] == "outside_floor" and far["detail"]["floor"] == "G"
    door = _reply(room, ins, "inject", event={"kind": "block_exit", "exit": "North"})
    assert (door["code"], "no exit with id 'North'" in door["message"]) == ("refused", True)


@pytest.mark.parametrize("factor", [0, 1000])
def test_a_speed_out_of_range_is_refused_naming_the_range(factor):
    from net.errors import ProtocolError
    from net.protocol import decode, encode

    with pytest.raises(ProtocolError, match=r"'factor' must be a number from 0\.1 to 10"):
        decode(encode(message("speed", factor=factor)))
