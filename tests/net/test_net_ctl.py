"""``drill ctl`` as a process against a ``drill serve`` process: commands change the
drill, refusals and wrong targets print one line and exit 2."""

from __future__ import annotations

import asyncio
import http.client
import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from netutil import HALL, TIMEOUT

from net.client import DrillClient
from net.ctl import parse_target
from net.errors import NetError

ROOT = Path(__file__).resolve().parents[2]


def _ctl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tools.cli", "ctl", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=3 * TIMEOUT)


@pytest.fixture(scope="module")
def serve(tmp_path_factory) -> Iterator[dict[str, Any]]:
    """A ``drill serve`` process hosting the hall; its join information."""
    rec = tmp_path_factory.mktemp("rec")
    proc = subprocess.Popen([sys.executable, "-m", "tools.cli", "serve", str(HALL), "--port",
                             "0", "--record", str(rec)], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    try:
        yield json.loads(proc.stdout.readline())  # type: ignore[union-attr]
    finally:
        proc.terminate()
        proc.wait(TIMEOUT)


def _status(info: dict[str, Any]) -> dict[str, Any]:
    port = int(info["url"].rsplit(":", 1)[1])
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
    try:
        conn.request("GET", f"/drills/{info['drill']}/info.json")
        return json.loads(conn.getresponse().read())
    finally:
        conn.close()


def _public(info: dict[str, Any]) -> dict[str, Any]:
    """The drill's public state as an observer sees it a couple of ticks later."""
    async def look() -> dict[str, Any]:
        async with DrillClient(info["url"], drill=info["drill"],
                               token=info["tokens"]["observer"], timeout=TIMEOUT) as c:
            for _ in range(2):
                await c.next("delta")
            return dict(c.public)

    return asyncio.run(look())


def _fresh_drill(info: dict[str, Any]) -> dict[str, Any]:
    """A new drill of the hall on the same server (``create``), so tests do not share one."""
    async def create() -> dict[str, Any]:
        async with DrillClient(info["url"], drill=info["drill"],
                               token=info["tokens"]["instructor"], timeout=TIMEOUT) as c:
            reply = await c.request("create", scenario="net_hall")
            assert reply["type"] == "created", reply
            return reply

    return asyncio.run(create())


def _one_line_error(res: subprocess.CompletedProcess[str], *words: str) -> None:
    assert res.returncode == 2, (res.stdout, res.stderr)
    assert res.stdout == ""
    err = res.stderr.strip()
    assert err.startswith("drill: error: ") and "\n" not in err, err
    for w in words:
        assert w in err, err


def test_ctl_starts_injects_speeds_and_ends_a_drill(serve):
    info = _fresh_drill(serve)
    target = f"{info['url']}/drills/{info['drill']}"
    token = info["tokens"]["instructor"]
    res = _ctl(target, "--token", token, "start")
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("ok: start acknowledged at tick ") and res.stdout.count("\n") == 1
    assert _status(info)["status"] == "running"
    # The instructor's browser link works as the url, and options may follow the command.
    res = _ctl(info["links"]["instructor"], "inject", "fire", "10,5,0", "--radius", "2",
               "--note", "ctl test")
    assert res.returncode == 0 and res.stdout.startswith("ok: inject fire acknowledged"), \
        res.stderr
    res = _ctl(target, "speed", "2", "--token", token)
    assert res.returncode == 0 and res.stdout.startswith("ok: speed 2 acknowledged"), res.stderr
    public = _public(info)
    assert public["speed"] == 2.0
    fires = [h for h in public["hazards"] if h["kind"] == "fire"]
    assert len(fires) == 1 and (fires[0]["x"], fires[0]["y"], fires[0]["radius"]) == (10, 5, 2)
    res = _ctl(target, "--token", token, "end")
    assert res.returncode == 0 and res.stdout.startswith("ok: end acknowledged"), res.stderr
    assert _status(info)["status"] == "ended"


def test_a_refused_command_exits_2_with_the_reason(serve):
    target = f"{serve['url']}/drills/{serve['drill']}"
    token = serve["tokens"]["instructor"]
    _one_line_error(_ctl(target, "--token", token, "speed", "1000"), "refused", "bad_field",
                    "factor")
    _one_line_error(_ctl(target, "--token", token, "inject", "block_exit", "--exit", "Nope"),
                    "refused", "Nope")
    _one_line_error(_ctl(target, "--token", serve["tokens"]["participant"], "start"),
                    "participant")
    _one_line_error(_ctl(target, "--token", token, "inject", "fire"), "x,y")
    _one_line_error(_ctl(target, "--token", token, "inject", "smoke", "3;4"), "x,y")
    assert _status(serve)["status"] == "ready", "refused commands change nothing"


def test_wrong_token_unknown_drill_and_no_server_exit_2_with_one_line(serve):
    url = serve["url"]
    _one_line_error(_ctl(f"{url}/drills/{serve['drill']}", "--token", "nope", "start"),
                    "auth")
    _one_line_error(_ctl(f"{url}/drills/00000000", "--token", serve["tokens"]["instructor"],
                         "start"), "auth")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        free = s.getsockname()[1]  # nobody listens there once it is closed
    _one_line_error(_ctl(f"ws://127.0.0.1:{free}/drills/x", "--token", "t", "--timeout", "3",
                         "start"), "cannot connect", str(free))
    _one_line_error(_ctl("ftp://127.0.0.1/drills/x", "--token", "t", "start"), "ws(s)://")
    _one_line_error(_ctl(f"{url}/drills/x", "start"), "token")


def test_targets_from_ws_urls_and_browser_links():
    t = parse_target("ws://10.0.0.2:8765/drills/ab12", "T")
    assert (t.url, t.drill, t.token) == ("ws://10.0.0.2:8765", "ab12", "T")
    t = parse_target("https://drill.example.org/evac/drills/ab12/?token=L&name=x")
    assert (t.url, t.drill, t.token) == ("wss://drill.example.org/evac", "ab12", "L")
    assert parse_target("http://h:1/drills/ab12?token=L", "T").token == "T"
    for bad in ("ws://h:1/", "ws://h:1/drills/", "ws://h:1/x/ab12", "h:1/drills/a",
                "ws://h:99999/drills/a"):
        with pytest.raises(NetError):
            parse_target(bad, "T")
