"""``drill serve`` and ``drill join`` as processes: tokens out, a headless participant in."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from netutil import HALL, TIMEOUT

ROOT = Path(__file__).resolve().parents[2]


def _drill(*args: str, **kw) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "tools.cli", *args], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def test_serve_prints_and_writes_tokens_and_join_follows_the_drill(tmp_path):
    tokens = tmp_path / "tokens.json"
    server = _drill("serve", str(HALL), "--port", "0", "--tokens", str(tokens),
                    "--record", str(tmp_path / "rec"))
    try:
        info = json.loads(server.stdout.readline())
        assert set(info["tokens"]) == {"instructor", "participant", "observer"}
        assert info["url"].startswith("ws://127.0.0.1:")
        assert json.loads(tokens.read_text()) == info
        bot = _drill("join", info["url"], "--tokens", str(tokens), "--bot", "--name", "bot1",
                     "--duration", "1.5")
        out, err = bot.communicate(timeout=3 * TIMEOUT)
        assert bot.returncode == 0, err
        assert f"joined drill {info['drill']} as participant" in out
        watcher = _drill("join", f"{info['url']}/drills/{info['drill']}", "--token",
                         info["tokens"]["observer"], "--duration", "0.5")
        out, err = watcher.communicate(timeout=3 * TIMEOUT)
        assert watcher.returncode == 0 and "as observer" in out, err
        wrong = _drill("join", info["url"], "--drill", info["drill"], "--token", "nope")
        out, err = wrong.communicate(timeout=3 * TIMEOUT)
        assert wrong.returncode == 2
        assert err.strip().count("\n") == 0 and "auth" in err
    finally:
        server.terminate()
        server.wait(TIMEOUT)
    assert list((tmp_path / "rec").glob("*.rec")), "the served drill is recorded"


def test_serve_with_a_wrong_scenario_prints_one_line_and_exits_2():
    proc = _drill("serve", "no_such_scenario", "--port", "0")
    out, err = proc.communicate(timeout=3 * TIMEOUT)
    assert proc.returncode == 2
    assert err.strip().count("\n") == 0 and "no_such_scenario" in err
