"""Recording a served drill, and replaying a recording to real clients over websockets."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import msgpack
import numpy as np
import pytest
from rec_util import HALL, hall_doc, recorded_run

from net.client import DrillClient
from net.replay import ReplayRoom
from net.server import DrillServer, ServerConfig
from sim.recording import Player, Recording, verify

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 20.0


def run(coro_fn):
    async def bounded():
        async with asyncio.timeout(6 * TIMEOUT):
            return await coro_fn()

    return asyncio.run(bounded())


@pytest.fixture(scope="module")
def hall_rec(tmp_path_factory) -> Path:
    return recorded_run(tmp_path_factory.mktemp("replay"), hall_doc())


def _client(server, room, role):
    return DrillClient(server.url, drill=room.id, token=room.tokens[role], name=role,
                       timeout=TIMEOUT)


def _frame_at(rec_path: Path, tick: int):
    with Recording(rec_path) as rec:
        return next(f for f in rec.frames() if f.tick == tick)


def test_a_served_drill_is_recorded_with_commands_and_verifies(tmp_path):
    async def body():
        server = DrillServer(ServerConfig(port=0, record_dir=str(tmp_path / "recs")))
        await server.start()
        try:
            room = await server.add_drill(HALL)
            async with _client(server, room, "instructor") as ins:
                assert (await ins.request("speed", factor=5.0))["type"] == "ack"
                assert (await ins.request("start"))["type"] == "ack"
                await ins.until(lambda c: c.t >= 2.0)
                ack = await ins.request("door", id="East", action="close")
                assert ack["type"] == "ack"
                await ins.request("report", text="东门关闭，人员改走西门")
                await ins.until(lambda c: c.t >= 6.0)
                assert (await ins.request("end"))["type"] == "ack"
                await ins.until(lambda c: c.public["status"] == "ended")
                return ack["tick"]
        finally:
            await server.close()

    door_tick = run(body)
    files = list((tmp_path / "recs").glob("*.rec"))
    assert len(files) == 1 and "rec_hall" in files[0].name
    with Recording(files[0]) as rec:
        assert rec.closed_cleanly
        cmds = rec.commands()
        kinds = [c["type"] for _, c in cmds]
        assert kinds[:1] == ["inject"] and cmds[0][1]["event"]["kind"] == "smoke"
        assert ("door" in kinds) and [t for t, c in cmds if c["type"] == "door"] == [door_tick]
        assert [e["type"] for e in rec.journal()][:2] == ["speed", "start"]
        assert any(e["type"] == "report" for e in rec.journal())
        assert rec.header["meta"]["mode"] == "serve"
        res = verify(rec)
    assert res.ok and res.frames > 10, res
    # Replayed (sans I/O, tick by tick), the recorded events and journal come back.
    with Recording(files[0]) as rec:
        room = ReplayRoom(rec, speed=10.0)
        events, log = [], []
        for _ in range(200):
            res_tick = room.tick(0.1)
            msg = msgpack.unpackb(res_tick.frames["privileged"], raw=False,
                                  strict_map_key=False)
            events += msg.get("events", [])
            log += msg.get("log", [])
            if room.status == "finished":
                break
    assert room.status == "finished"
    assert [e["hazard"]["kind"] for e in events if e["type"] == "hazard"] == ["smoke"]
    assert any(e["type"] == "exit_closed" and e["exit"] == "East" for e in events)
    # given at t = 0, before the first step: in the journal a joining client gets
    assert [e["type"] for e in room.snapshots(0.0)["privileged"]["log"]][:2] == [
        "speed", "start"]
    assert [e["type"] for e in log][:2] == ["door", "report"]


def test_replay_at_slow_speed_advances_by_speed_times_period(hall_rec):
    with Recording(hall_rec) as rec:
        room = ReplayRoom(rec, speed=0.5, start_t=2.0)
        t0 = room.drill.time
        for _ in range(20):
            room.tick(0.1)
        assert room.drill.time == pytest.approx(t0 + 1.0, abs=0.11)


def test_replay_streams_the_recorded_states_and_seeks(hall_rec):
    async def body():
        server = DrillServer(ServerConfig(port=0))
        await server.start()
        try:
            with Recording(hall_rec) as rec:
                room = server.host(ReplayRoom(rec, speed=2.0, start_t=3.0))
                async with _client(server, room, "observer") as obs, \
                        _client(server, room, "instructor") as ins:
                    snap = obs.snapshot
                    assert snap["replay"] is True and 3.0 <= snap["t"] <= 4.0
                    # Whatever tick the client is at, it holds the recorded centimetres.
                    await obs.until(lambda c: c.t >= 6.0)
                    got = (obs.tick, obs.agents.ids.copy(), obs.agents.q.copy())
                    ref = await ins.request("pause")
                    assert ref["type"] == "ack"
                    await obs.until(lambda c: c.public["status"] == "paused")
                    seek = await ins.request("seek", t=1.5)
                    assert seek["type"] == "ack"
                    snap = await obs.next("snapshot")
                    assert snap["t"] == pytest.approx(1.5, abs=0.11)
                    after = (snap["tick"], obs.agents.ids.copy(), obs.agents.q.copy())
                    refused = await ins.request("door", id="East", action="close")
                    assert refused["type"] == "error" and refused["code"] == "state"
                    async with _client(server, room, "participant") as p:
                        denied = await p.request("seek", t=0.0)
                        assert denied["code"] == "forbidden"
                    assert (await ins.request("speed", factor=10.0))["type"] == "ack"
                    assert (await ins.request("resume"))["type"] == "ack"
                    await obs.until(lambda c: c.public["status"] == "finished",
                                    timeout=3 * TIMEOUT)
                    assert obs.public["evacuated"] == 60 and len(obs.agents.ids) == 0
                    assert obs.gaps == 0
                    return got, after
        finally:
            await server.close()

    (tick, ids, q), (tick2, ids2, q2) = run(body)
    for k, i, qq in ((tick, ids, q), (tick2, ids2, q2)):
        f = _frame_at(hall_rec, k)
        assert np.array_equal(f.ids, i) and np.array_equal(f.q, qq)
    with Recording(hall_rec) as rec:
        p = Player(rec)
        p.seek(1.5)
        assert p.frame.tick == tick2


def test_replay_serve_on_the_command_line(hall_rec, tmp_path):
    tokens = tmp_path / "tokens.json"
    proc = subprocess.Popen([sys.executable, "-m", "tools.cli", "replay", str(hall_rec),
                             "--serve", "--port", "0", "--from", "5", "--tokens", str(tokens)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        info = json.loads(proc.stdout.readline())  # the join line first, as drill serve
        line = json.loads(proc.stdout.readline())  # then the recording's description
        assert line["scenario"] == "rec_hall" and line["damage"] is None
        assert info == json.loads(tokens.read_text()) and info["replay"] == str(hall_rec)

        async def body():
            async with DrillClient(info["url"], drill=info["drill"],
                                   token=info["tokens"]["observer"], timeout=TIMEOUT) as c:
                return c.snapshot["t"], c.welcome["role"]

        t, role = run(body)
        assert role == "observer" and 5.0 <= t < 7.0
    finally:
        proc.terminate()
        proc.wait(TIMEOUT)


def test_replay_of_a_damaged_file_plays_up_to_the_damage(hall_rec, tmp_path):
    with Recording(hall_rec) as rec:
        cut_at = rec.chunks[-1].offset + 40
    bad = tmp_path / "cut.rec"
    bad.write_bytes(hall_rec.read_bytes()[:cut_at])
    out = subprocess.run([sys.executable, "-m", "tools.cli", "replay", str(bad), "--verify"],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    lines = [json.loads(x) for x in out.stdout.splitlines()]
    assert "cut off" in lines[0]["damage"]
    assert lines[1]["verify"] == "ok" and lines[1]["frames"] > 0
    assert "readable up to t =" in out.stderr


def test_a_recording_of_a_newer_format_is_refused_on_the_command_line(hall_rec, tmp_path):
    from sim.recording import FILE_HEAD, MAGIC

    data = bytearray(hall_rec.read_bytes())
    data[:FILE_HEAD.size] = FILE_HEAD.pack(MAGIC, 9, 0)
    newer = tmp_path / "newer.rec"
    newer.write_bytes(bytes(data))
    for cmd in (["replay", str(newer)], ["report", str(newer), "--out", str(tmp_path / "r")]):
        out = subprocess.run([sys.executable, "-m", "tools.cli", *cmd], cwd=ROOT,
                             capture_output=True, text=True, timeout=120)
        assert out.returncode == 2
        assert out.stderr.strip().splitlines() == [
            f"drill: error: {newer}: recording format version 9 is newer than this program "
            "reads (version 1)"]




def test_drill_serve_records_into_the_folder_and_a_killed_server_leaves_it_readable(tmp_path):
    import time

    recs = tmp_path / "recs"
    proc = subprocess.Popen([sys.executable, "-m", "tools.cli", "serve", str(HALL), "--port",
                             "0", "--record", str(recs)], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        info = json.loads(proc.stdout.readline())
        files = list(recs.glob(f"*-rec_hall-{info['drill']}.rec"))
        assert len(files) == 1
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:  # the header chunk, then a chunk a second
            with Recording(files[0]) as rec:
                if rec.chunks:
                    break
            time.sleep(0.1)
    finally:
        proc.kill()
        proc.wait(TIMEOUT)
    with Recording(files[0]) as rec:
        assert not rec.closed_cleanly and rec.header["meta"]["drill"] == info["drill"]
        frames = list(rec.frames())
        assert frames and frames[0].tick == 0 and len(frames[0].ids) == 60
