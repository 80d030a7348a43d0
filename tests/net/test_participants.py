"""Participants walk in the crowd: the room embodies them, the server decides, the recording
keeps their steering, replays verify and the report names them."""

from pathlib import Path

import numpy as np
import pytest

from net.errors import ProtocolError
from net.protocol import message
from net.room import Room
from net.script import load_drill
from net.state import AgentDecoder
from sim.metrics import compute
from sim.recording import Recording, verify
from sim.report import write_report

HALL = Path(__file__).with_name("drill_room.toml")


def _room(tmp_path: Path | None = None) -> Room:
    sc, script = load_drill(HALL)
    return Room("r1", sc, script, record=tmp_path)


def _send(room: Room, seat, kind: str, **fields) -> dict:
    """Submit a message, run one tick, return the reply to it."""
    room.submit("k", seat, message(kind, ref=1, **fields))
    res = room.tick(0.1)
    return next(r for k, r in res.replies if k == "k")


def _pos(room: Room, seat) -> np.ndarray:
    return room.drill.crowd.pos[int(np.searchsorted(room.drill.crowd.id, seat.agent))]


def test_a_participant_gets_an_avatar_agent_and_is_welcomed_with_it():
    room = _room()
    seat = room.join(token=room.tokens["participant"], resume=None, name="张三")
    assert not seat.ready
    res = room.tick(0.1, snapshot=True)
    assert seat.ready and seat.agent == 40 and room.drill.total == 41
    w = room.welcome(seat, "")
    assert w["agent"] == 40 and w["max_speed"] > 1.0 and "snapshot" not in w
    assert res.snapshots["participant"]["avatars"][str(seat.pid)]["agent"] == 40
    watcher = room.join(token=room.tokens["observer"], resume=None, name="评估")
    assert watcher.ready and watcher.agent is None
    bare = room.join(token=room.tokens["participant"], resume=None, name="屏幕", avatar=False)
    room.tick(0.1)
    assert bare.agent is None and room.drill.total == 41


def test_clients_that_apply_deltas_see_the_new_agent_appear():
    room = _room()
    dec = AgentDecoder()
    dec.apply_snapshot(room.snapshots(0.0)["participant"]["agents"])
    seat = room.join(token=room.tokens["participant"], resume=None, name="张三")
    import msgpack
    for _ in range(3):
        res = room.tick(0.1)
        dec.apply_delta(msgpack.unpackb(res.frames["participant"]))
    assert dec.ids[-1] == seat.agent and len(dec.ids) == 41
    assert np.array_equal(dec.q, room.encoder.q)


def test_the_server_decides_where_the_avatar_goes():
    room = _room()
    seat = room.join(token=room.tokens["participant"], resume=None, name="张三")
    room.tick(0.1)
    early = _send(room, seat, "move", dir=[1.0, 0.0])
    assert (early["type"], early["code"]) == ("error", "state")  # not started yet
    ins = room.join(token=room.tokens["instructor"], resume=None, name="导调")
    assert _send(room, ins, "start")["type"] == "ack"
    fast = _send(room, seat, "move", dir=[0.0, 1.0], speed=50.0)
    assert fast["type"] == "ack" and fast["clipped"]
    for _ in range(100):
        room.tick(0.1)
    assert _pos(room, seat)[1] < 10.0  # stopped by the wall, not through it
    wall = _send(room, seat, "move", to=[30.0, 5.0])
    assert (wall["type"], wall["code"]) == ("error", "refused")
    jump = _send(room, seat, "pose", position=[1.0, 1.0, 0.0], heading=0.0)
    assert (jump["type"], jump["code"]) == ("error", "refused") and "teleport" in jump["message"]
    x, y = _pos(room, seat)
    assert _send(room, seat, "pose", position=[x, y, 0.0], heading=0.5, ack=True,
                 head=[0, 0, 0, 1])["type"] == "ack"
    far_door = _send(room, seat, "door", id="West", action="close")
    assert (far_door["type"], far_door["code"]) == ("error", "refused")
    assert "walk within" in far_door["message"]
    assert room.drill.exit_open.all()
    with pytest.raises(ProtocolError):
        room._move(ins, {"type": "move", "dir": [1, 0]})  # an instructor has no avatar


def test_a_walking_participant_leaves_by_an_exit_is_recorded_verifies_and_is_in_the_report(
        tmp_path):
    room = _room(tmp_path)
    seat = room.join(token=room.tokens["participant"], resume=None, name="张三")
    ins = room.join(token=room.tokens["instructor"], resume=None, name="导调")
    room.tick(0.1)
    _send(room, ins, "start")
    _send(room, seat, "move", dir=[0.0, 1.0])
    for _ in range(30):
        room.tick(0.1)
    assert _send(room, seat, "move", to=[19.85, 5.0])["type"] == "ack"
    out = []
    for _ in range(200):
        res = room.tick(0.1)
        out += [e for e in msgpack_events(res) if e["type"] == "person_out"]
        if room.avatars[seat.pid]["inside"] is False:
            break
    assert out and out[0]["name"] == "张三" and out[0]["exit"] == "East"
    gone = _send(room, seat, "move", dir=[1.0, 0.0])
    assert (gone["type"], gone["code"]) == ("error", "refused")
    assert "left the building" in gone["message"]
    for _ in range(2000):
        if room.status == "finished":
            break
        room.tick(0.5)
    room.close_recording()
    rec = Recording(room.recorder.path)
    kinds = [c["type"] for _, c in rec.commands()]
    assert kinds.count("person_join") == 1 and kinds.count("steer") == 2
    assert rec.total == 41
    assert verify(rec).ok
    m = compute(rec)
    assert m.agents == 41 and m.evacuated == 41
    (person,) = m.people
    assert person["name"] == "张三" and person["exit"] == "East" and person["out_s"] > 3.0
    write_report(room.recorder.path, tmp_path / "report", stills=False)
    page = (tmp_path / "report" / "report.html").read_text(encoding="utf-8")
    section = page[page.index("参演人员撤离情况"):]
    assert "张三" in section[:2000] and "East" in section[:2000]


def msgpack_events(res) -> list[dict]:
    import msgpack
    return msgpack.unpackb(res.frames["participant"]).get("events", [])


def test_a_participant_who_never_comes_back_is_walked_out_by_the_simulation():
    room = _room()
    seat = room.join(token=room.tokens["participant"], resume=None, name="张三")
    room.tick(0.1)
    room.leave(seat)
    room.submit(None, seat, message("_leave"))  # what expire_seats sends after the window
    room.tick(0.1)
    assert seat.pid not in room.avatars
    assert not len(room.drill.steering)
    room.status = "running"
    for _ in range(2000):
        if room.status == "finished":
            break
        room.tick(0.5)
    assert room.drill.exit_used[seat.agent] >= 0


def test_spawn_points_of_the_scenario_place_avatars_and_bad_ones_are_named(tmp_path):
    from sim.errors import ScenarioError

    text = HALL.read_text(encoding="utf-8").replace(
        "blind = true", "blind = true\nspawn = [[15.0, 8.0, 0]]")
    good = tmp_path / "spawn.toml"
    good.write_text(text, encoding="utf-8")
    sc, script = load_drill(good)
    room = Room("r2", sc, script)
    seat = room.join(token=room.tokens["participant"], resume=None, name="张三")
    room.tick(0.1)
    assert np.hypot(*(_pos(room, seat) - (15.0, 8.0))) < 0.6
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace("[[15.0, 8.0, 0]]", "[[15.0, 8.0, 0], [50.0, 8.0, 0]]"),
                   encoding="utf-8")
    sc, script = load_drill(bad)
    with pytest.raises(ScenarioError, match=r"drill\.spawn\[1\].*not walkable"):
        Room("r3", sc, script)


def test_clicks_faster_than_routes_are_worked_out_wait_or_are_superseded():
    room = _room()
    seats = [room.join(token=room.tokens["participant"], resume=None, name=f"p{i}")
             for i in range(3)]
    ins = room.join(token=room.tokens["instructor"], resume=None, name="导调")
    room.tick(0.1)
    _send(room, ins, "start")
    for i, seat in enumerate(seats):
        room.submit(("a", i), seat, message("move", ref=1, to=[12.0, 2.0 + i]))
    room.submit(("b", 0), seats[0], message("move", ref=2, to=[12.0, 8.0]))  # supersedes
    res = room.tick(0.1)
    got = dict(res.replies)
    assert got[("a", 0)]["superseded"] is True  # seat 0 clicked again: only the last counts
    assert ("a", 1) in got and ("b", 0) not in got  # one route a tick: the rest wait
    for _ in range(2):
        res = room.tick(0.1)
    steered = [c for _, c in room.drill.commands if c["type"] == "steer"]
    assert [c["to"] for c in steered] == [[12.0, 3.0], [12.0, 4.0], [12.0, 8.0]]
