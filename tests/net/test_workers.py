"""``drill serve --workers N``: drills in worker processes behind one port, as one server."""

from __future__ import annotations

import asyncio
import http.client
import json

import pytest
from netutil import HALL, TIMEOUT, run

from net.client import DrillClient
from net.errors import ClientError
from net.server import ServerConfig
from net.workers import FrontServer


def _get(port: int, path: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
    conn.request("GET", path)
    res = conn.getresponse()
    return res.status, res.read()


def _join(front: FrontServer, info: dict, role: str, **kw) -> DrillClient:
    return DrillClient(front.url, drill=info["drill"], token=info["tokens"][role],
                       name=role, timeout=3 * TIMEOUT, **kw)


def test_drills_in_two_workers_are_one_server_to_their_clients(tmp_path):
    async def body():
        front = FrontServer(ServerConfig(port=0, record_dir=str(tmp_path), report=False,
                                         max_drills=2), workers=2)
        await front.start()
        try:
            first = await front.open_drill(str(HALL))
            assert first["url"] == front.url and first["links"]["observer"].startswith(
                front.http_url)
            async with _join(front, first, "instructor") as ins, \
                    _join(front, first, "participant", avatar=False) as p:
                assert len(p.agents.ids) == 40 and p.welcome["role"] == "participant"
                await ins.request("start")
                forbidden = await p.request("create", scenario="office")
                assert forbidden["code"] == "forbidden"
                second = await ins.request("create", scenario="office")
                assert second["type"] == "created"
                assert front.routes[second["drill"]] is not front.routes[first["drill"]]
                full = await ins.request("create", scenario="office")
                assert (full["type"], full["code"]) == ("error", "limit")
                listed = await ins.request("list")
                assert {d["drill"] for d in listed["drills"]} == {first["drill"],
                                                                  second["drill"]}
                async with _join(front, second, "observer") as o:
                    await o.until(lambda c: c.seq > 3)
                    assert len(o.agents.ids) == 180
                status, raw = await asyncio.to_thread(
                    _get, front.port, f"/drills/{second['drill']}/info.json")
                assert status == 200 and json.loads(raw)["scenario"] == "office"
                status, raw = await asyncio.to_thread(_get, front.port, "/healthz")
                health = json.loads(raw)
                assert health["ok"] and health["workers_up"] == 2 and health["drills"] == 2
                status, raw = await asyncio.to_thread(_get, front.port, "/metrics")
                text = raw.decode()
                assert 'evacdrill_drills{worker="0"} 1' in text
                assert 'evacdrill_drills{worker="1"} 1' in text
                assert text.count("# TYPE evacdrill_drills gauge") == 1
                await ins.request("end")
                ended = await p.next("ended")
                assert ended["reason"] == "instructor" and ended["recording"].endswith(".rec")
                await asyncio.wait_for(p.closed.wait(), TIMEOUT)
                assert p.ws.close_code == 1000  # the worker's close, relayed
            with pytest.raises(ClientError, match="ended"):
                await _join(front, first, "observer").connect()
            with pytest.raises(ClientError, match="auth"):
                await DrillClient(front.url, drill="nosuchdrill", token="x",
                                  timeout=TIMEOUT).connect()
        finally:
            await front.close()
        assert not any(w.process.is_alive() for w in front.workers)
    run(body)
