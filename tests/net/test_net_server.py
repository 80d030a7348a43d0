"""A real server on loopback with real clients: joining, roles, actions, commands, drills."""

from __future__ import annotations

import asyncio
import socket

import msgpack
import numpy as np
import pytest
from netutil import TIMEOUT, client, run, served
from websockets.asyncio.client import connect

from net.client import DrillClient
from net.errors import ClientError
from net.protocol import encode, message


async def _raw_replies(url: str, frames: list[bytes], wait: int = 3) -> list[dict]:
    """Send raw frames on a fresh connection; collect what comes back for a few ticks."""
    out = []
    async with connect(url, compression=None) as ws:
        for f in frames:
            await ws.send(f)
        try:
            async with asyncio.timeout(0.1 * wait + 0.5):
                async for frame in ws:
                    out.append(msgpack.unpackb(frame, raw=False, strict_map_key=False))
        except TimeoutError:
            pass
    return out


def test_join_gets_welcome_with_role_scene_and_full_snapshot():
    async def body():
        async with served() as (srv, room), client(srv, room, "participant", "张三") as p:
            w = p.welcome
            assert (w["role"], w["name"], w["drill"]) == ("participant", "张三", room.id)
            assert [f["id"] for f in w["scene"]["floors"]] == ["G"]
            assert [e["id"] for e in w["scene"]["exits"]] == ["West", "East"]
            assert w["glb"].endswith(f"/drills/{room.id}/scene.glb")
            # 40 simulated people and the participant's own avatar, an agent of the crowd
            assert p.snapshot["agents"]["n"] == 41 == len(p.agents.ids)
            assert w["agent"] == 40 and p.agents.ids[-1] == 40
            assert w["resume_token"] and w["participant_id"] >= 1
            assert "script" not in w  # blind drill: participants are told nothing ahead
            async with client(srv, room, "instructor") as ins:
                assert ins.welcome["script"][0]["kind"] == "smoke"
    run(body)


def test_wrong_or_missing_token_gets_an_error_and_no_state():
    async def body():
        async with served() as (srv, room):
            for join in (message("join", drill=room.id, token="wrong"),
                         message("join", drill=room.id),
                         message("join", drill="nope", token=room.tokens["instructor"]),
                         message("door", id="East", action="close")):
                replies = await _raw_replies(srv.url, [encode(join)])
                assert [r["type"] for r in replies] == ["error"]
                assert replies[0]["code"] in ("auth", "not_joined")
            with pytest.raises(ClientError, match="auth"):
                await DrillClient(srv.url, drill=room.id, token="x" * 22).connect()
            assert not room.seats
    run(body)


def test_participant_cannot_inject_start_pause_or_end_and_observer_cannot_act():
    async def body():
        async with served() as (srv, room), client(srv, room, "participant") as p, \
                client(srv, room, "observer") as o:
            for kind, fields in (("inject", {"event": {"kind": "alarm"}}), ("start", {}),
                                 ("pause", {}), ("end", {}), ("speed", {"factor": 2.0}),
                                 ("create", {"scenario": "office"})):
                reply = await p.request(kind, **fields)
                assert (reply["type"], reply["code"]) == ("error", "forbidden")
            for kind, fields in (("door", {"id": "East", "action": "close"}),
                                 ("pose", {"position": [1, 1, 0], "heading": 0.0}),
                                 ("report", {"text": "hi"}), ("start", {}),
                                 ("order_evacuation", {"all": True})):
                reply = await o.request(kind, **fields)
                assert (reply["type"], reply["code"]) == ("error", "forbidden")
            assert room.status == "ready" and room.drill.exit_open.all()
            assert [c["type"] for _, c in room.drill.commands] == ["person_join"]  # its avatar
            assert not room.drill.hazards
    run(body)


def test_actions_are_acknowledged_with_the_tick_they_took_effect_and_broadcast():
    async def body():
        async with served() as (srv, room), client(srv, room, "instructor") as ins, \
                client(srv, room, "participant", "李四", avatar=False) as p, \
                client(srv, room, "observer") as o:
            assert (await ins.request("start"))["type"] == "ack"
            ack = await p.request("door", id="East", action="close")
            assert ack["type"] == "ack" and ack["of"] == "door"
            assert room.drill.commands[-1][0] == ack["tick"]
            await p.until(lambda c: c.public["exits"] == [True, False])
            ack = await p.request("order_evacuation", zone="left")
            assert ack["type"] == "ack"
            await o.until(lambda c: c.tick > ack["tick"] + 2)
            left = room.drill.crowd.group == 0
            assert (room.drill.crowd.state[left] != 0).all()
            assert (await p.request("report", text="二楼已清空"))["type"] == "ack"
            assert (await p.request("mark", kind="injured", position=[3, 4, 0]))["type"] == "ack"
            posed = await p.request("pose", position=[5, 5, 0], heading=1.0, ack=True)
            assert posed["type"] == "ack"
            await o.until(lambda c: c.reports and c.marks and c.avatars)
            assert o.reports[0]["text"] == "二楼已清空" and o.reports[0]["name"] == "李四"
            await ins.until(lambda c: c.marks and c.avatars)
            assert ins.avatars[str(p.participant_id)]["pos"] == [500, 500, 0]
            await p.until(lambda c: c.marks)
            assert not p.reports  # reports go to the instructor and observers
    run(body)


def test_instructor_pauses_resumes_speeds_up_injects_and_ends():
    async def body():
        async with served() as (srv, room), client(srv, room, "instructor") as ins:
            await ins.request("start")
            await ins.until(lambda c: c.tick >= 4)
            assert (await ins.request("pause"))["type"] == "ack"
            d = await ins.next("delta")
            while d.get("status") != "paused":
                d = await ins.next("delta")
            for _ in range(3):
                assert (await ins.next("delta"))["tick"] == d["tick"]
            assert (await ins.request("speed", factor=2.0))["type"] == "ack"
            assert (await ins.request("resume"))["type"] == "ack"
            while d.get("status") != "running":
                d = await ins.next("delta")
            assert (await ins.next("delta"))["tick"] - d["tick"] == 4  # 2 x 0.1 s / 0.05 s
            ack = await ins.request("inject", event={"kind": "fire", "x": 19.5, "y": 5.0,
                                                     "radius": 1.0, "id": "F1"})
            assert ack["type"] == "ack"
            await ins.until(lambda c: any(h["id"] == "F1" for h in c.public["hazards"]))
            assert ins.public["exits"] == [True, False]
            bad = await ins.request("inject", event={"kind": "block_exit", "exit": "North"})
            assert (bad["type"], bad["code"]) == ("error", "refused")
            assert (await ins.request("end"))["type"] == "ack"
            await ins.until(lambda c: c.public["status"] == "ended")
            ended = await ins.next("ended")
            assert (ended["drill"], ended["reason"]) == (room.id, "instructor")
            await asyncio.wait_for(ins.closed.wait(), TIMEOUT)
            assert ins.ws.close_code == 1000
    run(body)


def test_scripted_inject_takes_effect_at_its_time():
    async def body():
        async with served() as (srv, room), client(srv, room, "participant") as p:
            room.speed = 5.0
            room.status = "running"  # as if started; the script runs on simulated time
            await p.until(lambda c: c.public["hazards"], timeout=TIMEOUT)
            assert p.public["hazards"][0]["kind"] == "smoke"
            assert p.public["hazards"][0]["start"] == pytest.approx(1.0)
    run(body)


def test_instructor_creates_a_second_isolated_drill():
    async def body():
        async with served() as (srv, room), client(srv, room, "instructor") as ins:
            created = await ins.request("create", scenario="net_hall")
            assert created["type"] == "created" and created["drill"] != room.id
            assert set(created["tokens"]) == {"instructor", "participant", "observer"}
            async with DrillClient(srv.url, drill=created["drill"],
                                   token=created["tokens"]["participant"],
                                   timeout=TIMEOUT) as p2:
                assert (await p2.request("door", id="West", action="close"))["type"] == "ack"
                await p2.until(lambda c: c.public["exits"] == [False, True])
            assert room.drill.exit_open.all()  # the first drill is untouched
            with pytest.raises(ClientError):  # tokens do not cross drills
                await DrillClient(srv.url, drill=created["drill"],
                                  token=room.tokens["participant"], timeout=TIMEOUT).connect()
            bad = await ins.request("create", scenario="../../etc/passwd")
            assert bad["type"] == "error"
    run(body)


def test_reconnecting_with_the_resume_token_restores_the_seat_and_catches_up():
    async def body():
        async with served() as (srv, room), client(srv, room, "instructor") as ins:
            await ins.request("start")
            p = client(srv, room, "participant", "王五")
            await p.connect()
            await p.request("pose", position=[2, 2, 0], heading=0.0, ack=True)
            pid, resume = p.participant_id, p.resume_token
            await p.drop()
            await ins.until(lambda c: c.tick > p.tick + 6)  # the drill goes on meanwhile
            await ins.request("pause")
            await ins.until(lambda c: c.public["status"] == "paused")
            async with DrillClient(srv.url, drill=room.id, resume=resume,
                                   timeout=TIMEOUT) as back:
                assert back.participant_id == pid and back.role == "participant"
                assert back.welcome["name"] == "王五"
                assert str(pid) in back.avatars
                assert back.seq > p.seq  # caught up from a fresh snapshot
                await back.next("delta")
                assert back.gaps == 0
                assert np.array_equal(back.agents.ids, ins.agents.ids)
                assert np.array_equal(back.agents.q, ins.agents.q)
            with pytest.raises(ClientError, match="auth"):
                await DrillClient(srv.url, drill=room.id, resume="not-a-token",
                                  timeout=TIMEOUT).connect()
    run(body)


def test_bad_input_is_answered_with_errors_and_the_drill_goes_on():
    async def body():
        async with served() as (srv, room), client(srv, room, "observer") as o, \
                client(srv, room, "participant") as p:
            cases = [
                (b"\xc1\x00garbage", "bad_frame"),
                (msgpack.packb({"type": "warp", "v": 1}), "unknown_type"),
                (msgpack.packb({"type": "pose", "v": 1, "position": "here", "heading": 0}),
                 "bad_field"),
                (encode(message("report", text="x")) + b" " * (64 * 1024), "too_large"),
                ("text", "bad_frame"),
            ]
            for frame, code in cases:
                await p.send_raw(frame)
                err = await p.next("error")
                assert err["code"] == code
            seq = o.seq
            await o.until(lambda c: c.seq > seq + 3)
            assert o.gaps == 0
            assert (await p.request("ping"))["type"] == "pong"
    run(body)


def test_a_flood_is_rate_limited_and_the_connection_closed_others_unaffected():
    async def body():
        async with served(rate=50.0, burst=50.0, abuse_burst=20.0) as (srv, room), \
                client(srv, room, "observer") as o, client(srv, room, "participant") as p:
            frame = encode(message("ping"))
            with pytest.raises(ClientError):
                for _ in range(5000):
                    await p.send_raw(frame)
                    await asyncio.sleep(0)
            await asyncio.wait_for(p.closed.wait(), TIMEOUT)
            assert p.ws.close_code == 1008
            seq = o.seq
            await o.until(lambda c: c.seq > seq + 3)
            assert o.gaps == 0
    run(body)


def test_slow_client_is_dropped_to_the_latest_snapshot_without_stalling_others():
    async def body():
        async with served(send_buffer=4096, write_limit=4096, max_state_queue=4) as (
                srv, room), client(srv, room, "instructor") as ins:
            await ins.request("start")
            await ins.request("order_evacuation", all=True)
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.connect(("127.0.0.1", srv.port))
            ws = await connect(srv.url, sock=sock, compression=None, max_queue=1,
                               ping_interval=None)
            await ws.send(encode(message("join", drill=room.id, token=room.tokens["observer"])))
            hosted = srv.hosted[room.id]
            slow = None
            async with asyncio.timeout(5 * TIMEOUT):
                while slow is None or slow.dropped == 0:  # nobody reads `ws` meanwhile
                    await ins.send("report", text="报" * 2000)  # ~6 kB in every delta
                    await ins.next("delta")
                    slow = next((s for s in hosted.sessions if s.seat.role == "observer"), None)
            assert ins.gaps == 0  # the fast client never missed a delta
            # The slow client now reads: welcome, old deltas, then a snapshot, then deltas
            # that continue from it.
            types, seqs = [], []
            async with asyncio.timeout(5 * TIMEOUT):
                while "snapshot" not in types or types[-1] != "delta":
                    msg = msgpack.unpackb(await ws.recv(), raw=False, strict_map_key=False)
                    types.append(msg["type"])
                    seqs.append(msg.get("seq"))
            i = types.index("snapshot")
            assert types[0] == "welcome"
            assert seqs[i + 1] == seqs[i] + 1
            await ws.close()
    run(body)


def test_view_request_answers_a_frame_or_unavailable():
    async def body():
        async with served() as (srv, room), client(srv, room, "observer") as o:
            reply = await asyncio.wait_for(o.request("view_request", camera="overview",
                                                     size=[64, 48]), 6 * TIMEOUT)
            assert reply["type"] in ("frame", "error")
            if reply["type"] == "error":
                assert reply["code"] == "unavailable"
            else:
                assert reply["format"] == "jpeg" and len(reply["bytes"]) > 100
    run(body)


def test_scene_is_served_as_glb_over_http():
    async def body():
        async with served() as (srv, room):
            reader, writer = await asyncio.open_connection("127.0.0.1", srv.port)
            writer.write(f"GET /drills/{room.id}/scene.glb HTTP/1.1\r\nHost: x\r\n\r\n"
                         .encode())
            await writer.drain()
            data = await asyncio.wait_for(reader.read(), TIMEOUT)
            writer.close()
            head, _, body_bytes = data.partition(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 200") and body_bytes[:4] == b"glTF"
    run(body)


def test_an_instructor_lists_the_drills_of_the_server_with_their_links():
    async def body():
        async with served() as (srv, room), client(srv, room, "instructor") as ins, \
                client(srv, room, "observer") as o:
            reply = await ins.request("list")
            assert reply["type"] == "drills"
            (d,) = reply["drills"]
            assert (d["drill"], d["status"], d["replay"]) == (room.id, "ready", False)
            assert d["links"]["participant"].endswith(f"?token={room.tokens['participant']}")
            refused = await o.request("list")
            assert (refused["type"], refused["code"]) == ("error", "forbidden")
    run(body)
