"""Helpers for the browser tests: a real drill server in a background thread, headless
Chromium driven by Playwright, screenshots.

The server runs on a loopback port in its own thread with its own asyncio loop, so the
test body can use Playwright's synchronous API; Python clients (:class:`DrillClient`)
and anything touching the server run on that loop through :meth:`LiveServer.call`.
Waits are bounded by ``TIMEOUT`` (scaled by ``EVACDRILL_TIMEOUT_FACTOR``, as in
``tests/net/netutil.py``).

Tests skip, saying why, only when Chromium or Playwright for Python is missing.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import re
import shutil
import threading
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from net.client import DrillClient
from net.room import Room
from net.server import DrillServer, ServerConfig

HERE = Path(__file__).parent
ROOT = HERE.parents[1]
HALL = ROOT / "tests" / "net" / "drill_room.toml"
"""The network tests' hall: 20 m x 10 m, two exits, 40 people (blind, a scripted smoke)."""
FACTOR = float(os.environ.get("EVACDRILL_TIMEOUT_FACTOR", "1"))
TIMEOUT = 10.0 * FACTOR

CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
"""Chinese characters and punctuation: text meant for drill officials has them."""
DOC_SHOTS = ROOT / "docs" / "img"
CHROMIUM_ARGS = ["--no-sandbox", "--use-angle=swiftshader", "--enable-unsafe-swiftshader",
                 "--disable-background-networking", "--disable-component-update"]
"""Software WebGL (SwiftShader) everywhere, and no traffic of Chromium's own."""


def chromium_path() -> str | None:
    """The Chromium to drive (``EVACDRILL_CHROMIUM``, else ``chromium`` on PATH)."""
    return os.environ.get("EVACDRILL_CHROMIUM") or shutil.which("chromium") or shutil.which(
        "chromium-browser")


def need_browser() -> str:
    """Skip the calling test (module) unless Chromium and Playwright are there; the path."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.skip("Playwright for Python is not installed (pip install playwright; it is "
                    "in the test extra)")
    path = chromium_path()
    if path is None:
        pytest.skip("no Chromium (apt-get install chromium; .ci/run does it as root)")
    return path


@contextlib.contextmanager
def browser() -> Iterator[Any]:
    """A headless Chromium (Playwright ``Browser``), closed after."""
    from playwright.sync_api import sync_playwright

    path = need_browser()
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


class LiveServer:
    """A :class:`DrillServer` on a free loopback port, run by a loop in its own thread.

    ``with LiveServer(scenario) as live:`` starts it and hosts one drill (``live.room``).
    """

    def __init__(self, scenario: str | Path = HALL, *, seed: int | None = None,
                 **config: Any):
        self.scenario, self.seed = scenario, seed
        self.config = ServerConfig(port=0, **config)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="drill-server",
                                       daemon=True)
        self.server = DrillServer(self.config)
        self.room: Room

    def __enter__(self) -> LiveServer:
        self.thread.start()
        try:
            self.call(self.server.start)
            self.room = self.call(lambda: self.server.add_drill(self.scenario,
                                                                seed=self.seed))
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(Exception):
            self.call(self.server.close)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(TIMEOUT)
        if not self.thread.is_alive():
            self.loop.close()

    def call(self, coro_fn: Callable[[], Awaitable[Any]], timeout: float = 3 * TIMEOUT) -> Any:
        """Run ``coro_fn()`` on the server's loop; wait for and return its result."""
        async def wrapped() -> Any:
            return await coro_fn()

        return asyncio.run_coroutine_threadsafe(wrapped(), self.loop).result(timeout)

    def do(self, fn: Callable[[], Any]) -> Any:
        """Run a plain function on the server's loop (e.g. to read or poke its state)."""
        async def wrapped() -> Any:
            return fn()

        return self.call(lambda: wrapped())

    @property
    def origin(self) -> str:
        """``http://127.0.0.1:PORT``: where every request of the page must go."""
        return self.server.http_url

    def link(self, role: str = "participant", room: Room | None = None, **query: str) -> str:
        """The join link of ``role`` (as ``drill serve`` prints it), plus ``query``."""
        url = self.server.info(room or self.room)["links"][role]
        return url + "".join(f"&{k}={v}" for k, v in query.items())

    def client(self, role: str = "instructor", name: str = "", **kw: Any) -> DrillClient:
        """A connected Python client of ``role`` (on the server's loop); close with
        ``live.call(c.close)``."""
        c = DrillClient(self.server.url, drill=self.room.id, token=self.room.tokens[role],
                        name=name or f"py-{role}", timeout=TIMEOUT, **kw)
        self.call(c.connect)
        return c

    def request(self, c: DrillClient, kind: str, **fields: Any) -> dict[str, Any]:
        """``c.request(kind, **fields)`` on the server's loop; the reply."""
        return self.call(lambda: c.request(kind, **fields))

    def sessions(self, room: Room | None = None) -> list[Any]:
        """The connected sessions of a drill (server objects; read on its loop)."""
        rid = (room or self.room).id
        return self.do(lambda: list(self.server.hosted[rid].sessions))


def wait_state(page: Any, predicate_js: str, timeout: float = TIMEOUT) -> Any:
    """Wait until ``predicate_js`` (a JS expression over ``s = evacdrill.state()``) holds;
    returns the state then. Polls every 50 ms (not on animation frames, which a busy
    software renderer may delay)."""
    page.wait_for_function(
        f"() => {{ const e = window.evacdrill; if (!e) return false; const s = e.state();"
        f" return ({predicate_js}); }}", polling=50, timeout=timeout * 1000)
    return state(page)


def state(page: Any) -> dict[str, Any]:
    """``window.evacdrill.state()``."""
    return page.evaluate("() => window.evacdrill.state()")


def stats(page: Any) -> dict[str, Any]:
    """``window.evacdrill.stats()``."""
    return page.evaluate("() => window.evacdrill.stats()")


def open_page(browser: Any, url: str, *, size: tuple[int, int] = (1280, 720),
              requests: list[str] | None = None, console: list[str] | None = None,
              wait: bool = True) -> Any:
    """A new page (own context) at ``url``; every request URL goes into ``requests`` and
    every console error and page error into ``console``. ``wait``: until joined."""
    ctx = browser.new_context(viewport={"width": size[0], "height": size[1]},
                              device_scale_factor=1)
    page = ctx.new_page()
    if requests is not None:
        page.on("request", lambda r: requests.append(r.url))
        page.on("websocket", lambda ws: requests.append(ws.url))
    if console is not None:
        page.on("console", lambda m: m.type == "error" and console.append(m.text))
        page.on("pageerror", lambda e: console.append(f"pageerror: {e}"))
    page.goto(url, wait_until="load", timeout=TIMEOUT * 1000)
    if wait:
        wait_state(page, "s.joined && s.frames > 0", timeout=3 * TIMEOUT)
    return page


def close_page(page: Any) -> None:
    """Close a page opened by :func:`open_page` and its context."""
    ctx = page.context
    with contextlib.suppress(Exception):
        page.close()
    with contextlib.suppress(Exception):
        ctx.close()


def screenshot(page: Any, folder: Path, name: str, *, doc: bool = False) -> np.ndarray:
    """Save a screenshot as ``folder/name.png`` (and as ``docs/img/web-name.png`` when
    ``doc`` and ``EVACDRILL_DOC_SHOTS=1``); returns it as an (h, w, 3) uint8 array."""
    from PIL import Image

    png = page.screenshot(timeout=TIMEOUT * 1000)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.png").write_bytes(png)
    if doc and os.environ.get("EVACDRILL_DOC_SHOTS") == "1":
        DOC_SHOTS.mkdir(parents=True, exist_ok=True)
        (DOC_SHOTS / f"web-{name}.png").write_bytes(png)
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def canvas_pixels(page: Any, folder: Path, name: str) -> np.ndarray:
    """A screenshot of the page's (largest) canvas only, saved as ``folder/name.png``."""
    from PIL import Image

    canvas = page.locator("canvas").first
    png = canvas.screenshot(timeout=TIMEOUT * 1000)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.png").write_bytes(png)
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def is_drawn(pixels: np.ndarray) -> bool:
    """Whether a picture shows something: many colours, not one flat fill."""
    flat = pixels.reshape(-1, 3)
    colours = len(np.unique(flat[:: max(1, len(flat) // 200_000)], axis=0))
    return bool(flat.std(axis=0).max() > 8.0 and colours > 50)
