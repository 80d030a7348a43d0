"""What a real deployment needs: renders that never stall the tick, drills that end and
free their slot, headset-rate poses, resume tokens that serve once, floor subscriptions,
the operations log and /metrics, and the small protocol deviations a client author met."""

from __future__ import annotations

import asyncio
import http.client
import json
import logging

import msgpack
import numpy as np
import pytest
from netutil import TIMEOUT, client, run, served

from net.client import DrillClient
from net.errors import ClientError
from net.protocol import encode, message
from net.room import Room
from net.script import load_drill
from net.state import AgentDecoder, View


def _get(srv, path: str) -> tuple[int, str, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=TIMEOUT)
    conn.request("GET", path)
    res = conn.getresponse()
    return res.status, res.getheader("Content-Type", ""), res.read()


# ---------------------------------------------------------------------- lifecycle


def test_an_ended_drill_frees_its_slot_and_its_clients_are_told_where_the_recording_is(
        tmp_path):
    async def body():
        async with served(max_drills=1, record_dir=str(tmp_path), report=False) as (srv, room), \
                client(srv, room, "instructor") as ins, client(srv, room, "observer") as obs:
            refused = await ins.request("create", scenario="office")
            assert (refused["type"], refused["code"]) == ("error", "limit")
            await ins.request("start")
            assert (await ins.request("end"))["type"] == "ack"
            ended = await obs.next("ended")
            assert ended["reason"] == "instructor" and ended["drill"] == room.id
            assert ended["recording"].endswith(".rec") and ended["recording"].startswith(
                str(tmp_path))
            await asyncio.wait_for(obs.closed.wait(), TIMEOUT)
            assert obs.ws.close_code == 1000
            assert room.id not in srv.hosted and room.recorder.closed
            async with DrillClient(srv.url, drill=room.id, token=room.tokens["instructor"],
                                   timeout=TIMEOUT) as again:
                pytest.fail(f"joined an ended drill: {again.welcome}")
    with pytest.raises(ClientError, match="ended"):
        run(body)


def test_a_second_drill_can_be_created_once_the_first_has_ended():
    async def body():
        async with served(max_drills=1) as (srv, room), client(srv, room, "instructor") as ins:
            await ins.request("end")
            await asyncio.wait_for(ins.closed.wait(), TIMEOUT)
            assert srv.ended[room.id].reason == "instructor"
            status, _, raw = await asyncio.to_thread(_get, srv, f"/drills/{room.id}/info.json")
            info = json.loads(raw)
            assert status == 200 and (info["status"], info["reason"]) == ("ended", "instructor")
            fresh = await srv.add_drill("office")
            async with client(srv, fresh, "instructor") as other:
                created = await other.request("create", scenario="office")
                assert (created["type"], created["code"]) == ("error", "limit")  # 1 live
    run(body)


def test_a_drill_nobody_is_connected_to_ends_itself_after_the_idle_timeout():
    async def body():
        async with served(idle_timeout=1.0) as (srv, room):
            async with client(srv, room, "observer"):
                await asyncio.sleep(1.5)  # connected: it goes on
                assert room.id in srv.hosted
            for _ in range(50):
                if room.id in srv.ended:
                    break
                await asyncio.sleep(0.1)
            assert srv.ended[room.id].reason == "idle" and room.status == "ended"
            assert srv.metrics.drills_ended["idle"] == 1
    run(body)


# ---------------------------------------------------------------------- renders


def test_views_are_one_at_a_time_per_client_and_busy_when_the_pool_is_full():
    async def body():
        async with served(render_workers=1, render_queue=0) as (srv, room), \
                client(srv, room, "observer") as a, client(srv, room, "observer") as b:
            srv._rendering = 1  # as if a render were running
            busy = await b.request("view_request", camera="overview", size=[64, 64])
            assert (busy["code"], busy["reason"]) == ("busy", "pool_full")
            srv._rendering = 0
            ref1 = await a.send("view_request", camera="overview", size=[64, 64])
            second = await a.request("view_request", camera="overview", size=[64, 64])
            assert (second["code"], second["reason"]) == ("busy", "one_at_a_time")
            first = await a.next("frame", "error", timeout=6 * TIMEOUT)
            while first["ref"] != ref1:
                first = await a.next("frame", "error", timeout=6 * TIMEOUT)
            assert first["type"] == "frame" or first["code"] == "unavailable"
            huge = await a.request("view_request", camera="overview", size=[4096, 4096])
            assert huge["code"] == "bad_field" and "2048" in huge["message"]
    run(body)


# ---------------------------------------------------------------------- poses


def test_a_headset_posing_at_240_hz_stays_connected_without_errors_or_acks():
    async def body():
        async with served() as (srv, room), client(srv, room, "instructor") as ins, \
                client(srv, room, "participant", "头显") as p:
            await ins.request("start")
            pid = str(p.participant_id)
            sent = 0
            for _ in range(3 * 240):  # 3 s at 240 Hz
                x, y, _ = (c / 100 for c in p.avatars[pid]["pos"])
                await p.send_raw(encode(message("pose", position=[x, y, 0.0], heading=0.1,
                                                head=[0.0, 0.0, 0.0, 1.0])))
                sent += 1
                await asyncio.sleep(1 / 240)
            assert (await p.request("ping"))["type"] == "pong"
            got = [m["type"] for m in p._queue._queue]  # type: ignore[attr-defined]
            assert "error" not in got and "ack" not in got and not p.closed.is_set()
            assert srv.metrics.poses_in >= sent and not srv.metrics.refusals
            acked = await p.request("pose", position=[x, y, 0.0], heading=0.2, ack=True)
            assert acked["type"] == "ack" and acked["of"] == "pose"
    run(body)


def test_only_the_latest_pose_of_a_tick_is_applied():
    room = Room("r", *load_drill("office"))
    seat = room.join(token=room.tokens["observer"], resume=None, name="眼")
    for i in range(5):
        room.submit_pose("k", seat, message("pose", position=[float(i), 1.0, 0.0], heading=0.0,
                                            ack=True, ref=i))
    res = room.tick(0.1)
    acks = [r for k, r in res.replies if k == "k"]
    assert [a.get("superseded") for a in acks] == [None]  # superseded ones answered at once
    assert acks[0]["ref"] == 4 and room.avatars[seat.pid]["pos"][0] == 400


# ---------------------------------------------------------------------- resume


def test_a_resume_token_serves_once():
    async def body():
        async with served() as (srv, room):
            p = client(srv, room, "participant", avatar=False)
            await p.connect()
            first = p.resume_token
            await p.drop()
            back = DrillClient(srv.url, drill=room.id, resume=first, timeout=TIMEOUT)
            await back.connect()
            assert back.resume_token != first and back.participant_id == p.participant_id
            with pytest.raises(ClientError, match="auth"):
                await DrillClient(srv.url, drill=room.id, resume=first,
                                  timeout=TIMEOUT).connect()
            await back.close()
    run(body)


# ---------------------------------------------------------------------- views


def test_a_floor_view_decodes_to_exactly_the_agents_on_that_floor():
    room = Room("r", *load_drill("two_storey"))
    ins = room.join(token=room.tokens["instructor"], resume=None, name="i")
    room.submit("k", ins, message("start"))
    views = [View(), View((0,)), View((1,)), View((0,), (0.0, 0.0, 10.0, 10.0))]
    room.speed = 5.0
    decoders = {v: AgentDecoder() for v in views}
    res = room.tick(0.1, views=views, snapshot=True)
    key = {v: ("privileged" if v == View() else ("privileged", v)) for v in views}
    for v in views:
        decoders[v].apply_snapshot(res.snapshots[key[v]]["agents"])
    came_in = False
    for _ in range(120):
        res = room.tick(0.1, views=views)
        for v in views:
            d = msgpack.unpackb(res.frames[key[v]], raw=False)
            came_in |= v.floors == (0,) and "born" in d
            decoders[v].apply_delta(d)
            assert d["floor_counts"] == room._public_state()["floor_counts"] if \
                "floor_counts" in d else True
    rows, xyz = room.drill.positions()
    floor = room.drill.crowd.floor[rows]
    for v in views:
        enc = room.encoders[v]
        assert np.array_equal(decoders[v].ids, enc.ids) and np.array_equal(decoders[v].q, enc.q)
        mask = v.mask(floor, xyz)
        assert np.array_equal(np.sort(room.drill.crowd.id[rows][mask]), enc.ids)
    assert came_in  # people walked down the stair into the ground-floor view


def test_a_client_subscribed_to_one_floor_receives_its_agents_and_counts_for_the_rest():
    async def body():
        async with served("two_storey") as (srv, room), client(srv, room, "observer") as o:
            everyone = len(o.agents.ids)
            ack = await o.subscribe([1])
            assert ack["floors"] == [1]
            await o.until(lambda c: c.snapshots >= 2)
            counts = o.public["floor_counts"]
            assert len(o.agents.ids) == counts[1] < everyone == sum(counts)
            assert next(iter(srv.hosted[room.id].sessions)).view == View((1,))
            bad = await o.request("subscribe", floors=[7])
            assert bad["code"] == "bad_field" and "floor 7" in bad["message"]
    run(body)


# ---------------------------------------------------------------------- operations


def test_healthz_and_metrics_say_how_the_server_is_doing(caplog):
    async def body():
        async with served() as (srv, room), client(srv, room, "participant", "张三",
                                                   avatar=False) as p:
            await p.request("report", text="一楼已清空")
            await p.request("inject", event={"kind": "alarm"})
            await p.until(lambda c: c.seq > 3)
            status, _, raw = await asyncio.to_thread(_get, srv, "/healthz")
            health = json.loads(raw)
            assert status == 200 and health["ok"] and health["drills"] == 1
            assert health["clients"] == 1
            status, ctype, raw = await asyncio.to_thread(_get, srv, "/metrics")
            text = raw.decode()
            assert status == 200 and ctype.startswith("text/plain; version=0.0.4")
            assert "evacdrill_drills 1" in text and "evacdrill_clients 1" in text
            assert 'evacdrill_refusals_total{code="forbidden"} 1' in text
            assert int(text.split("\nevacdrill_bytes_sent_total ")[1].split()[0]) > 0
    with caplog.at_level(logging.INFO, logger="net.ops"):
        run(body)
    lines = [r.getMessage() for r in caplog.records if r.name == "net.ops"]
    assert any(x.startswith("join ") and "name=张三" in x for x in lines)
    assert any(x.startswith("command ") and "type=report" in x for x in lines)
    assert any(x.startswith("refused ") and "code=forbidden" in x for x in lines)
    assert any(x.startswith("leave ") for x in lines)


def test_the_operations_log_can_be_json_lines(caplog):
    async def body():
        async with served(log_json=True) as (srv, room), client(srv, room, "observer"):
            pass
    with caplog.at_level(logging.INFO, logger="net.ops"):
        run(body)
    events = [json.loads(r.getMessage()) for r in caplog.records if r.name == "net.ops"]
    assert [e["event"] for e in events][:2] == ["drill_started", "join"]
    assert events[1]["role"] == "observer"


# ---------------------------------------------------------------------- deviations


def test_refusals_keep_their_ref_and_roles_are_checked_before_fields():
    async def body():
        async with served() as (srv, room), client(srv, room, "participant",
                                                   avatar=False) as p, \
                client(srv, room, "observer") as o:
            big = encode(message("report", ref=77, text="x")) + b" " * (70 * 1024)
            await p.send_raw(big)
            err = await p.next("error")
            assert (err["code"], err["ref"]) == ("too_large", 77)
            bad = await p.request("inject", event={"kind": "nonsense"})
            assert bad["code"] == "forbidden"  # not bad_field: a participant may not inject
            seen = await o.request("door", id="East", action="close")
            assert "an observer may not" in seen["message"]
            await p.send_raw(msgpack.packb({"type": "ping", "v": 1.0, "ref": 5}))
            err = await p.next("error")
            while err.get("ref") != 5:
                err = await p.next("error")
            assert err["code"] == "version"
    run(body)


def test_a_join_without_a_drill_id_is_an_auth_error():
    async def body():
        async with served() as (srv, room):
            from websockets.asyncio.client import connect

            async with connect(srv.url) as ws:
                await ws.send(encode(message("join", token="x", ref=1)))
                err = msgpack.unpackb(await ws.recv())
            assert (err["code"], err["ref"]) == ("auth", 1)
    run(body)


def test_a_blind_drill_sends_participants_no_script_at_all():
    async def body():
        async with served(blind=True) as (srv, room), client(srv, room, "participant",
                                                             avatar=False) as p:
            await p.until(lambda c: c.seq > 3)
            msgs = [p.welcome, p.snapshot, *p._queue._queue]  # type: ignore[attr-defined]
            assert not any("script" in m for m in msgs)
    run(body)


def test_after_many_refusals_the_connection_closes_at_once():
    async def body():
        async with served(abuse_burst=5.0, abuse_rate=0.1) as (srv, room), \
                client(srv, room, "observer") as o:
            with pytest.raises(ClientError):
                for _ in range(2000):
                    await o.send_raw(b"\xc1")
                    await asyncio.sleep(0.001)
            # The server reads on, so the close handshake ends well before websockets'
            # 10 s close timeout would.
            await asyncio.wait_for(o.closed.wait(), 5.0)
            assert o.ws.close_code == 1008
    run(body)


def test_a_used_resume_token_serves_again_only_until_its_welcome_has_gone_out():
    room = Room("r", *load_drill("office"))
    seat = room.join(token=room.tokens["observer"], resume=None, name="眼")
    first = seat.resume
    room.leave(seat)
    assert room.join(token=None, resume=first, name="") is seat  # lost before its welcome:
    second = seat.resume
    assert room.join(token=None, resume=first, name="") is seat  # the old one still works
    room.welcome(seat, "")
    from net.errors import ProtocolError

    with pytest.raises(ProtocolError, match="resume"):
        room.join(token=None, resume=first, name="")
    assert second != first and seat.resume not in (first, second)


def test_a_drill_whose_people_are_all_out_can_be_ended():
    room = Room("r", *load_drill("office"))
    ins = room.join(token=room.tokens["instructor"], resume=None, name="导调")
    room.submit("k", ins, message("start"))
    room.speed = 10.0
    for _ in range(400):
        room.tick(0.1)
        if room.status == "finished":
            break
    assert room.status == "finished"
    room.submit("k", ins, message("end", ref=1))
    reply = next(r for k, r in room.tick(0.1).replies if k == "k")
    assert reply["type"] == "ack" and room.status == "ended"


def test_no_token_begins_with_a_dash_that_a_command_line_takes_for_an_option():
    from net.room import new_token

    assert not any(new_token().startswith("-") for _ in range(5000))
