"""VR in headless Chromium: the "进入 VR" button appears only where the browser offers
WebXR ``immersive-vr`` (``navigator.xr`` is stubbed: headless Chromium has no XR
device), and a head orientation fed through the page's pose path
(``window.evacdrill.xrPose``) reaches the server as ``pose.head``, in the protocol's
z-up frame, at most 30 times a second (the server applies the latest pose of each tick and
does not count poses toward its rate limit); one pose a second asks for an ack.
"""

from __future__ import annotations

import contextlib
import math
import time

import pytest
from webutil import (
    HALL,
    HERE,
    TIMEOUT,
    LiveServer,
    screenshot,
    state,
    wait_state,
)

XR_SUPPORTED = """Object.defineProperty(navigator, 'xr', {configurable: true, value: {
    isSessionSupported: (mode) => Promise.resolve(mode === 'immersive-vr'),
    requestSession: () => Promise.reject(
        new DOMException('no XR device here', 'NotSupportedError')),
    addEventListener() {}, removeEventListener() {}}});"""
XR_INLINE_ONLY = """Object.defineProperty(navigator, 'xr', {configurable: true, value: {
    isSessionSupported: (mode) => Promise.resolve(mode === 'inline'),
    requestSession: () => Promise.reject(new DOMException('no', 'NotSupportedError')),
    addEventListener() {}, removeEventListener() {}}});"""
NO_XR = "Object.defineProperty(navigator, 'xr', {configurable: true, value: undefined});"
FAKE_XR = """(() => {
  // A WebXR device as far as three.js's WebXRManager needs one: the viewer's head
  // orientation is window.__xrHead ([x, y, z, w], y-up), 1.6 m above the floor; a
  // thumbstick is window.__xrStick ([x, y]). No layers API: the XRWebGLLayer path.
  window.__xrHead = [0, 0, 0, 1];
  window.__xrStick = [0, 0];
  const matrix = ([x, y, z, w], [px, py, pz]) => new Float32Array([
    1 - 2 * (y * y + z * z), 2 * (x * y + z * w), 2 * (x * z - y * w), 0,
    2 * (x * y - z * w), 1 - 2 * (x * x + z * z), 2 * (y * z + x * w), 0,
    2 * (x * z + y * w), 2 * (y * z - x * w), 1 - 2 * (x * x + y * y), 0,
    px, py, pz, 1]);
  const f = 1 / Math.tan(Math.PI / 4), near = 0.05, far = 500;
  const projection = new Float32Array([f / 1.6, 0, 0, 0, 0, f, 0, 0, 0, 0,
    (far + near) / (near - far), -1, 0, 0, (2 * far * near) / (near - far), 0]);
  window.XRWebGLBinding = undefined;
  window.XRWebGLLayer = class {
    constructor() {
      this.framebuffer = null;
      this.framebufferWidth = 640;
      this.framebufferHeight = 400;
      this.ignoreDepthValues = true;
      this.fixedFoveation = 0;
    }
    getViewport() { return { x: 0, y: 0, width: 640, height: 400 }; }
  };
  WebGL2RenderingContext.prototype.makeXRCompatible = () => Promise.resolve();
  class Session extends EventTarget {
    constructor() {
      super();
      this.enabledFeatures = ['local-floor'];
      this.renderState = {};
      this.environmentBlendMode = 'opaque';
      this.visibilityState = 'visible';
      this.timers = new Map();
      this.n = 0;
      const pad = { get axes() { return [0, 0, ...window.__xrStick]; }, buttons: [] };
      this.inputSources = [{ handedness: 'right', gamepad: pad }];
    }
    updateRenderState(s) { Object.assign(this.renderState, s); }
    requestReferenceSpace() {
      return Promise.resolve({ getOffsetReferenceSpace() { return this; } });
    }
    requestAnimationFrame(cb) {
      const id = ++this.n;
      this.timers.set(id, setTimeout(() => {
        this.timers.delete(id);
        cb(performance.now(), this.frame());
      }, 30));
      return id;
    }
    cancelAnimationFrame(id) { clearTimeout(this.timers.get(id)); this.timers.delete(id); }
    frame() {
      const m = matrix(window.__xrHead, [0, 1.6, 0]);
      return { session: this, getViewerPose: () => ({ transform: { matrix: m },
        views: [{ eye: 'none', transform: { matrix: m }, projectionMatrix: projection }] }) };
    }
    end() {
      for (const t of this.timers.values()) clearTimeout(t);
      this.timers.clear();
      this.dispatchEvent(new Event('end'));
      return Promise.resolve();
    }
  }
  Object.defineProperty(navigator, 'xr', { configurable: true, value: {
    isSessionSupported: (mode) => Promise.resolve(mode === 'immersive-vr'),
    requestSession: () => Promise.resolve(new Session()),
    addEventListener() {}, removeEventListener() {} } });
})();"""
S = math.sqrt(0.5)
WALK = HERE / "walk_room.toml"
"""The walking tests' corridor: 12 m x 4 m, the spawn point 8 m west of the exit."""


@pytest.fixture(scope="module")
def live():
    with LiveServer(HALL) as live:
        yield live


@contextlib.contextmanager
def xr_page(chromium, url: str, init: str):
    """A joined page whose ``navigator.xr`` is replaced by ``init`` before any script."""
    ctx = chromium.new_context(viewport={"width": 1280, "height": 720}, device_scale_factor=1)
    ctx.add_init_script(init)
    page = ctx.new_page()
    page.errors = []  # type: ignore[attr-defined]
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.on("console", lambda m: m.type == "error" and page.errors.append(m.text))
    try:
        page.goto(url, wait_until="load", timeout=TIMEOUT * 1000)
        wait_state(page, "s.joined && s.frames > 0", timeout=3 * TIMEOUT)
        yield page
    finally:
        ctx.close()


@pytest.fixture(scope="module")
def headset(chromium, live):
    """A participant's page in a browser that offers immersive VR."""
    with xr_page(chromium, live.link("participant", name="头显"), XR_SUPPORTED) as page:
        wait_state(page, "s.myAgent !== null && s.myPos !== null")
        yield page


def _seat(live, name: str):
    (seat,) = [s for s in live.room.seats.values() if s.name == name]
    return seat


def _server_head(live, pid: int, want: list[int]) -> list[int] | None:
    deadline = time.monotonic() + TIMEOUT
    head = None
    while time.monotonic() < deadline:
        head = live.do(lambda: live.room.avatars.get(pid, {}).get("head"))
        if head == want:
            return head
        time.sleep(0.05)
    return head


def test_the_vr_button_shows_where_the_browser_offers_immersive_vr(headset, tmp_path):
    headset.wait_for_selector("#vr-enter", state="visible", timeout=TIMEOUT * 1000)
    assert headset.locator("#vr-enter").inner_text() == "进入 VR"
    assert state(headset)["vr"]["supported"] is True
    screenshot(headset, tmp_path, "vr-button", doc=True)


@pytest.mark.parametrize("init", [NO_XR, XR_INLINE_ONLY], ids=["no-webxr", "inline-only"])
def test_no_vr_button_where_the_browser_does_not_offer_it(chromium, live, init):
    with xr_page(chromium, live.link("observer"), init) as page:
        time.sleep(0.3)  # isSessionSupported has answered by now
        assert state(page)["vr"]["supported"] is False
        assert not page.locator("#vr-enter").is_visible()
        assert not page.locator("#vrbar").is_visible()


def test_a_head_orientation_reaches_the_server_as_pose_head(headset, live):
    seat = _seat(live, "头显")
    time.sleep(0.15)  # past the rate limit of any earlier pose
    # A viewer turned 90° to the left (about the y-up world's vertical axis) ...
    out = headset.evaluate(f"() => window.evacdrill.xrPose([0, {S}, 0, {S}])")
    assert out["sent"] is True and out["reply"]["type"] == "ack", out
    # ... is a turn about the protocol's z axis, facing west (heading pi).
    assert out["head"] == pytest.approx([0, 0, S, S], abs=1e-4)
    assert out["heading"] == pytest.approx(math.pi, abs=1e-3)
    assert _server_head(live, seat.pid, [0, 0, 7071, 7071]) == [0, 0, 7071, 7071]
    # The avatar stays where the crowd has it: the pose carried its own position.
    assert state(headset)["error"] is None


def test_poses_go_out_at_most_30_times_a_second(headset, live):
    seat = _seat(live, "头显")
    time.sleep(0.15)
    sent = headset.evaluate("""async () => {
        const out = [];
        for (let i = 0; i < 10; i++) {
            const a = 0.05 * i;
            out.push(window.evacdrill.xrPose([Math.sin(a / 2), 0, 0, Math.cos(a / 2)]));
        }
        return (await Promise.all(out)).map(r => r.sent); }""")
    assert sent == [True] + [False] * 9
    time.sleep(0.15)
    # A moment later a head that has turned (pitched 0.4 rad about x) goes out again.
    out = headset.evaluate("() => window.evacdrill.xrPose([Math.sin(0.2), 0, 0, Math.cos(0.2)])")
    assert out["sent"] is True
    want = [round(math.sin(0.2) * 10000), 0, 0, round(math.cos(0.2) * 10000)]
    assert _server_head(live, seat.pid, want) == want
    # The same head again within a second is not sent: nothing changed.
    time.sleep(0.15)
    out = headset.evaluate("() => window.evacdrill.xrPose([Math.sin(0.2), 0, 0, Math.cos(0.2)])")
    assert out == {"sent": False, "why": "still"}


def test_one_pose_a_second_asks_for_an_ack_and_the_others_wait_for_nothing(headset, live):
    time.sleep(1.1)  # past the last pose that asked for an ack
    poses = live.do(lambda: live.server.metrics.poses_in)
    out = headset.evaluate("""async () => {
        const out = [];
        for (let i = 0; i < 20; i++) {
            const a = 0.1 * i;
            out.push(await window.evacdrill.xrPose([0, Math.sin(a / 2), 0, Math.cos(a / 2)]));
            await new Promise((r) => setTimeout(r, 40));
        }
        return out.map((r) => (r.sent ? (r.reply ? r.reply.type : 'posted') : r.why)); }""")
    assert out == ["ack"] + ["posted"] * 19, out
    deadline = time.monotonic() + TIMEOUT
    while live.do(lambda: live.server.metrics.poses_in) < poses + 20:
        assert time.monotonic() < deadline, "the server did not get every pose"
        time.sleep(0.05)
    assert state(headset)["error"] is None


def test_entering_vr_without_a_device_says_why(headset):
    headset.click("#vr-enter")
    headset.wait_for_function("() => document.querySelector('#vr-msg').textContent !== ''",
                              polling=50, timeout=TIMEOUT * 1000)
    text = headset.locator("#vr-msg").inner_text()
    assert text.startswith("无法进入 VR") and "no XR device here" in text
    assert state(headset)["vr"]["presenting"] is False


def test_an_instructor_in_vr_sends_the_camera_position(chromium, live):
    with xr_page(chromium, live.link("instructor", name="导调头显"), XR_SUPPORTED) as page:
        out = page.evaluate("() => window.evacdrill.xrPose([0, 0, 0, 1])")
        assert out["sent"] is True and out["reply"]["type"] == "ack", out
        seat = _seat(live, "导调头显")
        assert _server_head(live, seat.pid, [0, 0, 0, 10000]) == [0, 0, 0, 10000]
        pos = live.do(lambda: live.room.avatars[seat.pid]["pos"])
        assert pos[2] > 100, "the overview camera is above the floor"


def test_an_observer_sends_no_pose(chromium, live):
    with xr_page(chromium, live.link("observer"), XR_SUPPORTED) as page:
        out = page.evaluate("() => window.evacdrill.xrPose([0, 0, 0, 1])")
        assert out == {"sent": False, "why": "role"}


def test_in_a_session_the_viewers_head_goes_out_at_most_30_times_a_second(chromium):
    """The whole path on a stand-in XR device: three.js's XR camera, the head pose read
    from it, the rate limit, the server's ``pose.head``; a thumbstick walks the avatar
    (alone in the walking tests' corridor, so that nobody stands in its way)."""
    with LiveServer(WALK) as live, xr_page(chromium, live.link("participant", name="沉浸"),
                                           FAKE_XR) as page:
        seat = _seat(live, "沉浸")
        wait_state(page, "s.myAgent !== null && s.myPos !== null")
        page.evaluate(f"() => {{ window.__xrHead = [0, {S}, 0, {S}]; }}")
        page.click("#vr-enter")
        wait_state(page, "s.vr.presenting && s.vr.sent > 0")
        assert page.locator("#vr-enter").inner_text() == "退出 VR"
        assert _server_head(live, seat.pid, [0, 0, 7071, 7071]) == [0, 0, 7071, 7071]
        # A head that keeps turning: poses at most once per 1/30 s, at most one per XR frame
        # (~33 a second here), never waiting for the server's answer.
        page.evaluate("""() => { let a = 0; window.__spin = setInterval(() => {
            a += 0.02; window.__xrHead = [0, Math.sin(a / 2), 0, Math.cos(a / 2)]; }, 10); }""")
        sent0, frames0 = (state(page)["vr"]["sent"], state(page)["frames"])
        time.sleep(1.0)
        sent1, frames1 = (state(page)["vr"]["sent"], state(page)["frames"])
        page.evaluate("() => clearInterval(window.__spin)")
        assert frames1 - frames0 >= sent1 - sent0 >= 5, (frames1 - frames0, sent1 - sent0)
        assert sent1 - sent0 <= 31
        # The thumbstick pushed forward walks the avatar where the head looks.
        ins = live.client("instructor")
        try:
            live.request(ins, "start")
        finally:
            live.call(ins.close)
        wait_state(page, "s.status === 'running'")
        # Turned 90° to the right: facing east (+x), down the corridor to its exit.
        page.evaluate(f"() => {{ window.__xrHead = [0, {-S}, 0, {S}]; }}")
        x0 = state(page)["myPos"][0]
        page.evaluate("() => { window.__xrStick = [0, -1]; }")
        s = wait_state(page, f"s.myPos && s.myPos[0] > {x0 + 1.0}")
        page.evaluate("() => { window.__xrStick = [0, 0]; }")
        assert s["error"] is None
        page.click("#vr-enter")
        wait_state(page, "!s.vr.presenting")
        assert page.locator("#vr-enter").inner_text() == "进入 VR"
        frames = state(page)["frames"]
        wait_state(page, f"s.frames > {frames + 3}")  # the page draws again without XR
        assert page.errors == []
