// VR: the "进入 VR / Enter VR" button where the browser offers WebXR `immersive-vr`, the
// session (drawn by scene.js View.startXR), and the head pose sent as `pose` at most 30
// times a second (the server keeps the latest pose of each tick and never counts poses
// toward its rate limit; it acknowledges one only when it asks, `ack: true`). The head orientation is taken in the three.js world (y-up, as
// the XR viewer gives it) and sent in the protocol's z-up frame (x east, y north, z up).
// window.evacdrill.xrPose(q) feeds one orientation through the same path (tests).

import { label } from './i18n.js';

/** At most 30 poses a second: the server applies the latest of each tick (10 Hz), so
 * this keeps the pose it applies fresh (under 34 ms old) without sending every frame. */
const MIN_INTERVAL_MS = 1000 / 30;
/** One pose a second (and the one after a refusal) asks for an ack, to learn whether
 * poses are taken; the others go without waiting for anything. */
const ACK_EVERY_MS = 1000;
/** A head turned less than this (radians, about 0.25°) is not sent again ... */
const MIN_TURN = 0.004;
/** ... unless this long has passed, ms. */
const KEEPALIVE_MS = 1000;
/** Thumbstick travel below which it counts as released. */
const DEADZONE = 0.3;

/** A y-up world quaternion [x, y, z, w] in the protocol's z-up frame. World (x, y, z) is
 * protocol (x, -z, y): the rotation about axis (ax, ay, az) becomes one about (ax, -az, ay). */
export function toProtocolQuat(q) {
  const [x, y, z, w] = q;
  const n = Math.hypot(x, y, z, w) || 1;
  return [x / n, -z / n, y / n, w / n];
}

/** Where a z-up quaternion looks (the viewer's -z axis in three.js terms): protocol [fx, fy, fz]. */
export function lookOf(qp) {
  // The viewer looks along its local -z, which is +y in the z-up frame: rotate (0, 1, 0).
  const [x, y, z, w] = qp;
  const vx = 0, vy = 1, vz = 0;
  // v' = v + 2w(q×v) + 2 q×(q×v)
  const cx = y * vz - z * vy, cy = z * vx - x * vz, cz = x * vy - y * vx;
  const dx = y * cz - z * cy, dy = z * cx - x * cz, dz = x * cy - y * cx;
  return [vx + 2 * (w * cx + dx), vy + 2 * (w * cy + dy), vz + 2 * (w * cz + dz)];
}

/** The heading (radians from +x toward +y) a z-up head orientation faces. */
export function headingOf(qp) {
  const [fx, fy] = lookOf(qp);
  return Math.hypot(fx, fy) > 1e-6 ? Math.atan2(fy, fx) : 0;
}

function angleBetween(a, b) {
  const dot = Math.abs(a[0] * b[0] + a[1] * b[1] + a[2] * b[2] + a[3] * b[3]);
  return 2 * Math.acos(Math.min(1, dot));
}

export class VR {
  /**
   * hooks: button (element), view() (the scene.js View or null), send(type, fields)
   * (a request: resolves with the reply), post(type, fields) (no reply; false if not sent),
   * position() -> [x, y, z] m to send (own avatar, else the camera) or null,
   * canPose() (the role may send `pose`), floor() (viewed floor), steer([dx, dy]) (a
   * thumbstick direction, [0, 0] stops), draw(time) (one XR frame), onState(key, args)
   * (a sentence to show).
   */
  constructor(hooks) {
    this.h = hooks;
    this.supported = false;
    this.session = null;
    this.lastSent = -Infinity;
    this.lastAsked = -Infinity;
    this.refused = false;
    this.lastHead = null;
    this.steerKey = '0,0';
    this.sent = 0;
    hooks.button.hidden = true;
    hooks.button.addEventListener('click', () => (this.session ? this.exit() : this.enter()));
  }

  /** Ask the browser whether it offers immersive VR; show the button if it does. */
  async probe() {
    const xr = typeof navigator !== 'undefined' ? navigator.xr : undefined;
    if (!xr || typeof xr.isSessionSupported !== 'function') return false;
    try {
      this.supported = !!(await xr.isSessionSupported('immersive-vr'));
    } catch {
      this.supported = false;
    }
    this.h.button.hidden = !this.supported;
    return this.supported;
  }

  async enter() {
    const view = this.h.view();
    if (!view) return;
    let session;
    try {
      session = await navigator.xr.requestSession('immersive-vr', { optionalFeatures: ['local-floor'] });
    } catch (err) {
      this.h.onState('vr.failed', { message: err?.message || String(err) });
      return;
    }
    this.session = session;
    session.addEventListener('end', () => this._ended());
    try {
      await view.startXR(session, (time, frame) => this._frame(view, time, frame));
    } catch (err) {
      this.h.onState('vr.failed', { message: err?.message || String(err) });
      session.end().catch(() => {});
      return;
    }
    label(this.h.button, 'vr.exit');
    this.h.onState('vr.on');
  }

  exit() { this.session?.end().catch(() => {}); }

  _ended() {
    this.session = null;
    this.h.view()?.stopXR();
    label(this.h.button, 'vr.enter');
    if (this.steerKey !== '0,0') { this.steerKey = '0,0'; this.h.steer([0, 0]); }
    this.h.onState('vr.off');
  }

  get presenting() { return !!this.session; }

  /** One XR frame: draw (View.frameXR does), then the head pose and the thumbsticks. */
  _frame(view, time, frame) {
    this.h.draw(time);
    const head = view.xrHead();
    if (head) this.pose(head, time);
    if (frame?.session) this._sticks(frame.session, head);
  }

  /**
   * The head orientation `q` ([x, y, z, w], y-up world): sent as `pose` unless one went
   * out less than 1/30 s ago (or the head has not turned). Resolves with what was sent:
   * {sent, head (z-up), heading, reply (the ack or error of a pose that asked for one,
   * else null)}.
   */
  async pose(q, now = performance.now()) {
    if (!this.h.canPose()) return { sent: false, why: 'role' };
    const head = toProtocolQuat(q);
    if (now - this.lastSent < MIN_INTERVAL_MS) return { sent: false, why: 'rate' };
    if (this.lastHead && angleBetween(head, this.lastHead) < MIN_TURN && now - this.lastSent < KEEPALIVE_MS) {
      return { sent: false, why: 'still' };
    }
    const position = this.h.position();
    if (!position) return { sent: false, why: 'position' };
    this.lastSent = now;
    this.lastHead = head;
    const heading = headingOf(head);
    const fields = {
      position: position.map((v) => Math.round(v * 1000) / 1000),
      heading: Math.round(heading * 10000) / 10000,
      head: head.map((v) => Math.round(v * 10000) / 10000 + 0), // + 0: no -0 on the wire
      floor: this.h.floor(),
    };
    if (!this.refused && now - this.lastAsked < ACK_EVERY_MS) {
      if (!this.h.post('pose', fields)) return { sent: false, why: 'disconnected' };
      this.sent++;
      return { sent: true, head: fields.head, heading: fields.heading, reply: null };
    }
    this.lastAsked = now;
    this.sent++;
    const reply = await this.h.send('pose', { ...fields, ack: true });
    // A refused pose is not repeated 30 times a second (the server counts refusals).
    this.refused = reply.type === 'error';
    if (this.refused) this.lastSent = performance.now() + 2000;
    return { sent: true, head: fields.head, heading: fields.heading, reply };
  }

  /** Thumbstick steering: a direction relative to where the head looks, sent on change. */
  _sticks(session, head) {
    let ax = 0, ay = 0;
    for (const src of session.inputSources || []) {
      const a = src.gamepad?.axes;
      if (!a) continue;
      const x = a.length >= 4 ? a[2] : a[0], y = a.length >= 4 ? a[3] : a[1];
      if (Math.hypot(x, y) > Math.hypot(ax, ay)) { ax = x; ay = y; }
    }
    let dir = [0, 0];
    if (Math.hypot(ax, ay) > DEADZONE && head) {
      const [fx, fy] = lookOf(toProtocolQuat(head));
      const l = Math.hypot(fx, fy) || 1;
      const f = [fx / l, fy / l], r = [f[1], -f[0]];
      const dx = f[0] * -ay + r[0] * ax, dy = f[1] * -ay + r[1] * ax;
      // Sixteen directions: a steady thumb sends nothing new.
      const a16 = Math.round(Math.atan2(dy, dx) / (Math.PI / 8)) * (Math.PI / 8);
      dir = [Math.round(Math.cos(a16) * 1000) / 1000, Math.round(Math.sin(a16) * 1000) / 1000];
    }
    const key = dir.join(',');
    if (key !== this.steerKey) { this.steerKey = key; this.h.steer(dir); }
  }
}
