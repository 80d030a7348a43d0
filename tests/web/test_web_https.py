"""The drill server over HTTPS and WSS with a self-signed certificate made in the test:
a Python client over wss, Chromium drawing the drill from the https link, ``--public-url``
in every advertised address, and bad certificates or URLs refused in one line."""

from __future__ import annotations

import http.client
import json
import shutil
import ssl
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from webutil import (
    CHROMIUM_ARGS,
    HALL,
    ROOT,
    TIMEOUT,
    LiveServer,
    close_page,
    need_browser,
    open_page,
    wait_state,
)

PUBLIC = "https://drill.example.org:8443/evac"


@pytest.fixture(scope="module")
def cert(tmp_path_factory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key (PEM files)."""
    if shutil.which("openssl") is None:
        pytest.skip("no openssl command to make a test certificate (apt-get install openssl)")
    folder = tmp_path_factory.mktemp("tls")
    crt, key = folder / "cert.pem", folder / "key.pem"
    res = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                          "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                          "-days", "2", "-keyout", str(key), "-out", str(crt)],
                         capture_output=True, text=True, timeout=3 * TIMEOUT)
    if res.returncode != 0:
        pytest.skip(f"openssl could not make a test certificate: {res.stderr.strip()[-200:]}")
    return crt, key


@pytest.fixture(scope="module")
def live(cert, tmp_path_factory) -> Iterator[LiveServer]:
    crt, key = cert
    with LiveServer(HALL, certfile=str(crt), keyfile=str(key),
                    record_dir=str(tmp_path_factory.mktemp("rec"))) as live:
        yield live


def _trusting(cert: tuple[Path, Path]) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(cert[0]))


def _get(port: int, path: str, ctx: ssl.SSLContext) -> tuple[int, bytes]:
    conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=TIMEOUT, context=ctx)
    try:
        conn.request("GET", path)
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


def test_links_url_and_glb_are_https_and_wss(live):
    info = live.server.info(live.room)
    port = live.server.port
    assert info["url"] == f"wss://127.0.0.1:{port}"
    assert info["web"] == f"https://127.0.0.1:{port}/drills/{live.room.id}/"
    assert all(link.startswith(info["web"] + "?token=") for link in info["links"].values())


def test_a_python_client_joins_over_wss_and_gets_deltas(live, cert):
    ctx = _trusting(cert)
    ins = live.client("instructor", ssl=ctx)
    obs = live.client("observer", ssl=ctx)
    try:
        assert obs.welcome["glb"] == f"{live.server.http_url}/drills/{live.room.id}/scene.glb"
        assert live.request(ins, "start")["type"] == "ack"
        live.call(lambda: obs.until(lambda c: c.deltas >= 3 and c.public["status"] == "running"))
        status, body = _get(live.server.port, f"/drills/{live.room.id}/info.json", ctx)
        assert status == 200 and json.loads(body)["status"] == "running"
        status, body = _get(live.server.port, f"/drills/{live.room.id}/scene.glb", ctx)
        assert status == 200 and body[:4] == b"glTF"
    finally:
        live.call(ins.close)
        live.call(obs.close)


def test_a_client_that_does_not_trust_the_certificate_is_refused(live):
    from net.client import DrillClient
    from net.errors import ClientError

    c = DrillClient(live.server.url, drill=live.room.id, token=live.room.tokens["observer"],
                    timeout=TIMEOUT)
    with pytest.raises(ClientError, match="CERTIFICATE_VERIFY_FAILED"):
        live.call(c.connect)


def test_chromium_draws_the_drill_from_the_https_link(live):
    from playwright.sync_api import sync_playwright

    path = need_browser()
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=path, headless=True,
                              args=[*CHROMIUM_ARGS, "--ignore-certificate-errors"])
        try:
            requests: list[str] = []
            page = open_page(b, live.link("participant", name="https"), requests=requests)
            s = wait_state(page, "s.joined && s.agents > 0", timeout=3 * TIMEOUT)
            assert s["role"] == "participant" and s["total"] >= 40
            origin = f"127.0.0.1:{live.server.port}"
            assert requests and all(r.startswith((f"https://{origin}/", f"wss://{origin}/"))
                                    for r in requests if not r.startswith("data:")), requests
            assert any(r.startswith("wss://") for r in requests)
            close_page(page)
        finally:
            b.close()


def test_public_url_is_the_base_of_every_advertised_address(cert):
    crt, key = cert
    with LiveServer(HALL, certfile=str(crt), keyfile=str(key), public_url=PUBLIC + "/") as live:
        rid = live.room.id
        info = live.server.info(live.room)
        assert info["url"] == "wss://drill.example.org:8443/evac"
        assert info["web"] == f"{PUBLIC}/drills/{rid}/"
        assert info["links"]["observer"] == f"{PUBLIC}/drills/{rid}/?token=" + \
            live.room.tokens["observer"]
        from net.client import DrillClient

        c = DrillClient(f"wss://127.0.0.1:{live.server.port}", drill=rid,
                        token=live.room.tokens["observer"], timeout=TIMEOUT,
                        ssl=_trusting(cert))
        live.call(c.connect)
        try:
            assert c.welcome["glb"] == f"{PUBLIC}/drills/{rid}/scene.glb"
        finally:
            live.call(c.close)
        ctx = _trusting(cert)
        for path in (f"/drills/{rid}/info.json", f"/evac/drills/{rid}/info.json"):
            status, body = _get(live.server.port, path, ctx)  # a proxy may keep the prefix
            assert status == 200 and json.loads(body)["drill"] == rid, path
    with LiveServer(HALL, public_url="http://10.1.2.3:9000") as live:
        assert live.server.info(live.room)["url"] == "ws://10.1.2.3:9000"


def _drill(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tools.cli", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=3 * TIMEOUT)


@pytest.mark.parametrize("why", ["missing", "not_pem", "wrong_key", "key_only",
                                 "bad_url", "bad_port"])
def test_bad_certificates_and_urls_print_one_line_and_exit_2(cert, tmp_path, why):
    crt, key = cert
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate\n")
    args = {"missing": ["--certfile", str(tmp_path / "none.pem"), "--keyfile", str(key)],
            "not_pem": ["--certfile", str(junk), "--keyfile", str(key)],
            "wrong_key": ["--certfile", str(crt), "--keyfile", str(junk)],
            "key_only": ["--keyfile", str(key)],
            "bad_url": ["--public-url", "drill.example.org"],
            "bad_port": ["--public-url", "https://drill.example.org:99999/"]}[why]
    res = _drill("serve", str(HALL), "--port", "0", "--no-record", *args)
    assert res.returncode == 2, res.stderr
    err = res.stderr.strip()
    assert err.startswith("drill: error: --") and "\n" not in err, err
    assert res.stdout == ""


def test_drill_replay_serve_takes_the_same_options(cert, tmp_path):
    crt, key = cert
    with LiveServer(HALL, record_dir=str(tmp_path)) as live:
        ins = live.client("instructor")
        live.request(ins, "start")
        live.call(lambda: ins.next("delta"))
        live.call(ins.close)
    rec = next(tmp_path.glob("*.rec"))
    proc = subprocess.Popen([sys.executable, "-m", "tools.cli", "replay", str(rec), "--serve",
                             "--port", "0", "--certfile", str(crt), "--keyfile", str(key),
                             "--public-url", PUBLIC], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    try:
        info = json.loads(proc.stdout.readline())  # type: ignore[union-attr]
        assert info["url"] == "wss://drill.example.org:8443/evac"
        assert info["links"]["instructor"].startswith(f"{PUBLIC}/drills/{info['drill']}/?token=")
    finally:
        proc.terminate()
        proc.wait(TIMEOUT)
    res = _drill("replay", str(rec), "--serve", "--port", "0", "--public-url", "ftp://x")
    assert res.returncode == 2 and "--public-url" in res.stderr
