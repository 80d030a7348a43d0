"""The drill server's plain HTTP (no browser): the client's page and files, drill info,
join links, 404 pages, and WebSocket upgrades on any path."""

from __future__ import annotations

import gzip
import http.client
import json
import subprocess
import sys
from pathlib import Path

import pytest
from webutil import HALL, ROOT, TIMEOUT, LiveServer

from net.client import DrillClient
from net.web_files import CSP, WEB_ROOT, WebFiles, split_path

INDEX = "<!DOCTYPE html><html><body><h1 data-i18n='title'>演练</h1></body></html>".encode()
MAIN_JS = b"export const x = 1;\n" + b"// padding so that gzip pays\n" * 200


@pytest.fixture(scope="module")
def web_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("web")
    (root / "index.html").write_bytes(INDEX)
    (root / "main.js").write_bytes(MAIN_JS)
    (root / "app.css").write_text("body { margin: 0 }\n")
    (root / "vendor" / "lib").mkdir(parents=True)
    (root / "vendor" / "lib" / "LICENSE").write_text("MIT\n")
    (root / "vendor" / "lib" / "lib.js").write_text("export default 1;\n")
    (root / "beep.wav").write_bytes(b"RIFF0000WAVE")
    (root / "data.json").write_text('{"a": 1}')
    (root / ".secret").write_text("hidden\n")
    (root / "sub" / ".git").mkdir(parents=True)
    (root / "sub" / ".git" / "config").write_text("hidden\n")
    outside = tmp_path_factory.mktemp("outside") / "passwd"
    outside.write_text("outside\n")
    (root / "link.txt").symlink_to(outside)
    return root


@pytest.fixture(scope="module")
def live(web_root):
    with LiveServer(HALL, web_root=str(web_root)) as live:
        yield live


def get(live: LiveServer, path: str, headers: dict[str, str] | None = None
        ) -> tuple[int, dict[str, str], bytes]:
    """GET ``path`` as sent (no normalisation); status, headers (lower-case), body."""
    conn = http.client.HTTPConnection("127.0.0.1", live.server.port, timeout=TIMEOUT)
    try:
        conn.request("GET", path, headers=headers or {})
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        conn.close()


def test_the_page_is_served_at_the_root_and_at_every_drill_link(live):
    rid = live.room.id
    for path in ("/", f"/drills/{rid}", f"/drills/{rid}/", f"/drills/{rid}/?token=abc",
                 f"/drills/{rid}?token=abc&name=%E5%BC%A0&lang=en", "/?x=1"):
        status, h, body = get(live, path)
        assert status == 200, path
        assert body == INDEX
        assert h["content-type"] == "text/html; charset=utf-8"
        assert h["content-length"] == str(len(INDEX))
        assert h["content-security-policy"] == CSP
        assert h["cache-control"] == "no-cache"


def test_web_files_have_their_type_length_and_caching(live):
    for name, ctype in (("main.js", "text/javascript"), ("app.css", "text/css"),
                        ("vendor/lib/lib.js", "text/javascript"),
                        ("vendor/lib/LICENSE", "text/plain"), ("beep.wav", "audio/wav"),
                        ("data.json", "application/json")):
        status, h, body = get(live, f"/web/{name}")
        assert status == 200, name
        assert h["content-type"].split(";")[0] == ctype, name
        assert body == live.server.web.files[name].body
        assert int(h["content-length"]) == len(body)
        assert h["cache-control"].startswith("max-age=")
        assert "content-security-policy" not in h  # not HTML
        assert h["x-content-type-options"] == "nosniff"
    status, h, body = get(live, "/web/index.html")
    assert status == 200 and h["cache-control"] == "no-cache" and "content-security-policy" in h


def test_web_files_are_gzipped_on_request_and_revalidated_with_etags(live):
    status, h, body = get(live, "/web/main.js", {"Accept-Encoding": "gzip, br"})
    assert status == 200 and h["content-encoding"] == "gzip"
    assert len(body) < len(MAIN_JS) and gzip.decompress(body) == MAIN_JS
    assert int(h["content-length"]) == len(body)
    status, h2, body = get(live, "/web/main.js", {"If-None-Match": h["etag"]})
    assert status == 304 and body == b"" and h2["etag"] == h["etag"]
    status, _, body = get(live, "/web/main.js", {"If-None-Match": '"other"'})
    assert status == 200 and body == MAIN_JS


def test_files_are_read_once_when_the_server_starts(live, web_root):
    (web_root / "main.js").write_text("changed on disk\n")
    (web_root / "new.js").write_text("added on disk\n")
    try:
        assert get(live, "/web/main.js")[2] == MAIN_JS
        assert get(live, "/web/new.js")[0] == 404
    finally:
        (web_root / "main.js").write_bytes(MAIN_JS)
        (web_root / "new.js").unlink()


@pytest.mark.parametrize("path", [
    "/web/../net/server.py", "/web/%2e%2e/server.py", "/web/..%2fserver.py",
    "/web/.secret", "/web/sub/.git/config", "/web/link.txt", "/web//main.js", "/web/",
    "/web", "/web/missing.js", "/web/main.js/", "/web/%00", "/web/%ff", "/web/a\\..\\b",
    "/drills", "/drills/", "/drills/../", "/drills/x/y/z", "/nope", "/index.html",
    "/drills/ID/other", "/favicon.png"])
def test_anything_else_gets_a_readable_404_page(live, path):
    status, h, body = get(live, path.replace("ID", live.room.id))
    assert status == 404
    assert h["content-type"] == "text/html; charset=utf-8"
    assert h["content-security-policy"] == CSP
    text = body.decode()
    assert "页面不存在" in text and "Page not found" in text
    assert "outside" not in text and "hidden" not in text


def test_an_unknown_drill_gets_the_page_which_asks_info_json(live):
    for path in ("/drills/00000000/", "/drills/00000000?token=x"):
        assert get(live, path)[2] == INDEX  # the page finds out, and says it in its language
    status, h, body = get(live, "/drills/00000000/scene.glb")
    assert status == 404 and h["content-type"].startswith("text/html")
    assert "没有这个演练" in body.decode() and "No such drill" in body.decode()


def test_info_json_tells_the_status_of_a_drill(live):
    status, h, body = get(live, f"/drills/{live.room.id}/info.json")
    assert status == 200 and h["content-type"] == "application/json; charset=utf-8"
    info = json.loads(body)
    assert info == {"drill": live.room.id, "scenario": "net_hall", "status": "ready",
                    "replay": False, "agents": live.room.drill.total, "report": None,
                    "recorded": False, "report_failed": False}
    ins = live.client("instructor")
    try:
        assert live.request(ins, "start")["type"] == "ack"
        live.call(lambda: ins.next("delta"))
        assert json.loads(get(live, f"/drills/{live.room.id}/info.json")[2])["status"] == \
            "running"
    finally:
        live.request(ins, "pause")
        live.call(ins.close)
    status, h, body = get(live, "/drills/00000000/info.json")
    assert status == 404 and json.loads(body) == {"error": "no such drill"}


def test_join_links_one_per_role_and_in_created(live):
    info = live.server.info(live.room)
    web = f"http://127.0.0.1:{live.server.port}/drills/{live.room.id}/"
    assert info["web"] == web
    assert info["links"] == {role: f"{web}?token={tok}" for role, tok in
                             live.room.tokens.items()}
    ins = live.client("instructor")
    try:
        created = live.request(ins, "create", scenario="net_hall")
        assert created["type"] == "created"
        assert set(created["links"]) == {"instructor", "participant", "observer"}
        assert created["links"]["observer"].endswith(
            f"/drills/{created['drill']}/?token={created['tokens']['observer']}")
        status, _, body = get(live, created["web"].removeprefix(live.origin))
        assert status == 200 and body == INDEX
    finally:
        live.call(ins.close)


def test_a_websocket_upgrade_works_on_any_path(live):
    async def body():
        for path in ("/", f"/drills/{live.room.id}/", "/web/main.js", "/anything"):
            async with DrillClient(live.server.url + path, drill=live.room.id,
                                   token=live.room.tokens["observer"],
                                   timeout=TIMEOUT) as c:
                assert c.role == "observer"

    live.call(body)


def test_the_scene_is_still_served_as_glb(live):
    status, h, body = get(live, f"/drills/{live.room.id}/scene.glb")
    assert status == 200 and h["content-type"] == "model/gltf-binary" and body[:4] == b"glTF"
    assert int(h["content-length"]) == len(body)


def test_split_path():
    assert split_path("/") == []
    assert split_path("/drills/ab/?token=x#y") == ["drills", "ab"]
    assert split_path("/web/%E4%B8%AD.txt") == ["web", "中.txt"]
    for bad in ("", "x", "//", "/a//b", "/./a", "/a/..", "/%2e%2e", "/a%2fb", "/%ff"):
        assert split_path(bad) is None, bad


def test_a_server_without_the_client_says_so(tmp_path):
    with LiveServer(HALL, web_root=str(tmp_path / "none")) as live:
        status, h, body = get(live, f"/drills/{live.room.id}/")
        assert status == 503 and "网页客户端未安装" in body.decode()
        assert get(live, "/web/main.js")[0] == 404


def test_the_package_ships_the_client():
    files = WebFiles.load()
    assert files.index is not None, f"no index.html in {WEB_ROOT}"
    assert not [p for p in files.files if any(s.startswith(".") for s in p.split("/"))]


def _drill(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "tools.cli", *args], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _link_lines(proc: subprocess.Popen, n: int = 3) -> list[str]:
    """The next ``n`` lines of ``proc``'s stderr that hold a join link."""
    lines: list[str] = []
    while len(lines) < n:
        line = proc.stderr.readline()  # type: ignore[union-attr]
        assert line, f"stderr ended before {n} link lines: {lines}"
        if "http://" in line and "?token=" in line:
            lines.append(line.strip())
    return lines


def _check_links(info: dict, lines: list[str]) -> None:
    assert lines == [f"参演人员 participant: {info['links']['participant']}",
                     f"导调员 instructor: {info['links']['instructor']}",
                     f"评估人员 observer: {info['links']['observer']}"]
    for role, link in info["links"].items():
        assert link == f"{info['web']}?token={info['tokens'][role]}"


def test_drill_serve_prints_one_join_link_per_role(tmp_path):
    proc = _drill("serve", str(HALL), "--port", "0", "--no-record")
    try:
        info = json.loads(proc.stdout.readline())  # type: ignore[union-attr]
        _check_links(info, _link_lines(proc))
        port = int(info["url"].rsplit(":", 1)[1])
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
        conn.request("GET", f"/drills/{info['drill']}/info.json")
        assert json.loads(conn.getresponse().read())["agents"] == 40
    finally:
        proc.terminate()
        proc.wait(TIMEOUT)


def test_replay_serve_prints_the_links_too(tmp_path):
    with LiveServer(HALL, record_dir=str(tmp_path)) as live:
        ins = live.client("instructor")
        live.request(ins, "start")
        for _ in range(5):
            live.call(lambda: ins.next("delta"))
        live.call(ins.close)
    rec = next(tmp_path.glob("*.rec"))
    proc = _drill("replay", str(rec), "--serve", "--port", "0")
    try:
        info = json.loads(proc.stdout.readline())  # type: ignore[union-attr]
        proc.stdout.readline()  # type: ignore[union-attr]  # the recording's description
        assert info["replay"] == str(rec)
        _check_links(info, _link_lines(proc))
        port = int(info["url"].rsplit(":", 1)[1])
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
        conn.request("GET", f"/drills/{info['drill']}/info.json")
        assert json.loads(conn.getresponse().read())["replay"] is True
    finally:
        proc.terminate()
        proc.wait(TIMEOUT)


def test_links_of_a_wildcard_address_name_a_reachable_host():
    from net.server import _reachable

    assert _reachable("127.0.0.1") == "127.0.0.1"
    assert _reachable("::1") == "[::1]"
    host = _reachable("0.0.0.0")
    assert host not in ("0.0.0.0", "")
