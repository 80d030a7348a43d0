// Protocol v1 of the drill server (docs/protocol.md): msgpack messages, and the agent
// state kept from snapshots and deltas exactly as net/state.py::AgentDecoder keeps it
// (gone, st/stv, moved/dxy/dz, far, then born/born_pos/born_st: agents that joined or came
// into the client's view, merged into the ascending id order).
// No three.js here: this module runs in node (tests/web/js/) as well as in the page.

import { encode, decode } from './vendor/msgpack/index.js';

export const VERSION = 1;
/** Agent state codes (sim.agents.crowd.State). */
export const WAITING = 0;
export const MOVING = 1;
export const ON_STAIR = 3;
/** Positions on the wire are centimetres. */
export const SCALE = 100;

/** A frame the page cannot use (not a map with a type, an inconsistent delta). */
export class ProtocolError extends Error {}

/** One message as msgpack bytes: `{type, v: 1, ...fields}`. */
export function encodeMessage(type, fields = {}) {
  return encode({ type, v: VERSION, ...fields });
}

/** A received binary frame (ArrayBuffer or Uint8Array) as a message object. */
export function decodeMessage(data) {
  const bytes = data instanceof Uint8Array ? data : new Uint8Array(data);
  let msg;
  try {
    msg = decode(bytes);
  } catch (err) {
    throw new ProtocolError(`not msgpack: ${err.message}`);
  }
  if (msg === null || typeof msg !== 'object' || Array.isArray(msg) || typeof msg.type !== 'string') {
    throw new ProtocolError('not a message (a map with a string "type")');
  }
  return msg;
}

const LITTLE = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

// msgpack bin values are views into the frame at any offset; typed arrays of 4-byte
// elements need an aligned offset, so unaligned ones are copied first.
function words(bytes, Type) {
  if (!(bytes instanceof Uint8Array)) throw new ProtocolError('expected bytes');
  if (bytes.byteLength % 4) throw new ProtocolError('byte length is not a multiple of 4');
  const n = bytes.byteLength / 4;
  if (!LITTLE) {
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const out = new Type(n);
    const signed = Type === Int32Array;
    for (let i = 0; i < n; i++) out[i] = signed ? dv.getInt32(4 * i, true) : dv.getUint32(4 * i, true);
    return out;
  }
  if (bytes.byteOffset % 4 === 0) return new Type(bytes.buffer, bytes.byteOffset, n);
  return new Type(bytes.slice().buffer, 0, n);
}

function int8s(bytes) {
  if (!(bytes instanceof Uint8Array)) throw new ProtocolError('expected bytes');
  return new Int8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * The agents inside, as the server last sent them: ascending ids (u32), positions
 * (i32 cm, x y z per agent) and states (u8), in typed arrays of capacity >= n; only the
 * first n entries (3n for positions) are meaningful. `prev` holds each agent's position
 * before the last delta (same slots), for interpolation.
 */
export class AgentState {
  constructor() {
    this.n = 0;
    this.ids = new Uint32Array(0);
    this.pos = new Int32Array(0);
    this.prev = new Int32Array(0);
    this.state = new Uint8Array(0);
    /** Bumped whenever slots change meaning (snapshot, agents gone): caches keyed by slot. */
    this.layout = 0;
  }

  _reserve(n) {
    if (this.ids.length >= n) return;
    const cap = Math.max(n, 16);
    this.ids = new Uint32Array(cap);
    this.pos = new Int32Array(3 * cap);
    this.prev = new Int32Array(3 * cap);
    this.state = new Uint8Array(cap);
  }

  /** Replace the state with a snapshot's `agents` ({n, ids, pos, state}). */
  applySnapshot(agents) {
    const ids = words(agents.ids, Uint32Array);
    const pos = words(agents.pos, Int32Array);
    const state = agents.state;
    const n = ids.length;
    if (pos.length !== 3 * n || !(state instanceof Uint8Array) || state.length !== n) {
      throw new ProtocolError('snapshot: ids, pos and state lengths disagree');
    }
    this._reserve(n);
    this.n = n;
    this.ids.set(ids);
    this.pos.set(pos);
    this.prev.set(pos);
    this.state.set(state);
    this.layout++;
  }

  /** Apply a delta's agent fields (gone, st/stv, moved/dxy/dz, far, born), in that order. */
  applyDelta(d) {
    let n = this.n;
    const ids = this.ids, pos = this.pos, prev = this.prev, state = this.state;
    if (d.gone !== undefined) {
      let gone = words(d.gone, Uint32Array);
      for (let i = 1; i < gone.length; i++) {
        if (gone[i] < gone[i - 1]) { gone = Uint32Array.from(gone).sort(); break; }
      }
      // Both lists ascend: one merge pass drops the gone ids and keeps the others' order.
      let g = 0, j = 0;
      for (let i = 0; i < n; i++) {
        const id = ids[i];
        while (g < gone.length && gone[g] < id) g++;
        const i3 = 3 * i, j3 = 3 * j;
        if (g < gone.length && gone[g] === id) continue;
        ids[j] = id;
        state[j] = state[i];
        prev[j3] = pos[i3]; prev[j3 + 1] = pos[i3 + 1]; prev[j3 + 2] = pos[i3 + 2];
        pos[j3] = pos[i3]; pos[j3 + 1] = pos[i3 + 1]; pos[j3 + 2] = pos[i3 + 2];
        j++;
      }
      if (j !== n) this.layout++;
      n = this.n = j;
    } else {
      prev.set(pos.subarray(0, 3 * n));
    }
    if (d.st !== undefined) {
      const st = words(d.st, Uint32Array), stv = d.stv;
      if (!(stv instanceof Uint8Array) || stv.length !== st.length) {
        throw new ProtocolError('delta: st and stv lengths disagree');
      }
      for (let k = 0; k < st.length; k++) {
        if (st[k] >= n) throw new ProtocolError(`delta: state slot ${st[k]} out of range`);
        state[st[k]] = stv[k];
      }
    }
    if (d.moved !== undefined) {
      const mask = d.moved, dxy = int8s(d.dxy);
      const dz = d.dz !== undefined ? int8s(d.dz) : new Int8Array(0);
      let bit = 0, k = 0, kz = 0;
      const bits = 8 * mask.length;
      for (let s = 0; s < n; s++) {
        if (state[s] === WAITING) continue;
        if (bit >= bits) throw new ProtocolError('delta: moved mask too short');
        if (mask[bit >> 3] & (0x80 >> (bit & 7))) {
          if (2 * k + 1 >= dxy.length) throw new ProtocolError('delta: dxy too short');
          pos[3 * s] += dxy[2 * k];
          pos[3 * s + 1] += dxy[2 * k + 1];
          k++;
          if (state[s] === ON_STAIR && d.dz !== undefined) {
            // dz: one int8 per set bit of an agent on a stair (it climbs as it walks).
            if (kz >= dz.length) throw new ProtocolError('delta: dz too short');
            pos[3 * s + 2] += dz[kz++];
          }
        }
        bit++;
      }
      if (2 * k !== dxy.length) throw new ProtocolError('delta: dxy length disagrees with moved');
      if (kz !== dz.length) throw new ProtocolError('delta: dz length disagrees with the stair walkers moved');
    }
    if (d.far !== undefined) {
      const far = words(d.far, Int32Array);
      if (far.length % 4) throw new ProtocolError('delta: far is not quads');
      for (let k = 0; k < far.length; k += 4) {
        const s = far[k];
        if (s < 0 || s >= n) throw new ProtocolError(`delta: far slot ${s} out of range`);
        pos[3 * s] += far[k + 1];
        pos[3 * s + 1] += far[k + 2];
        pos[3 * s + 2] += far[k + 3];
      }
    }
    if (d.born !== undefined) this._born(d);
  }

  _born(d) {
    const ids = words(d.born, Uint32Array);
    const pos = words(d.born_pos, Int32Array);
    const st = d.born_st;
    const k = ids.length;
    if (pos.length !== 3 * k || !(st instanceof Uint8Array) || st.length !== k) {
      throw new ProtocolError('delta: born, born_pos and born_st lengths disagree');
    }
    if (!k) return;
    for (let i = 1; i < k; i++) {
      if (ids[i] <= ids[i - 1]) throw new ProtocolError('delta: born ids do not ascend');
    }
    const n = this.n;
    // Agents that came into view (a subscription to some floors) may lie anywhere in the
    // id order; participants' avatars that joined are larger than every id (appended).
    const append = n === 0 || ids[0] > this.ids[n - 1];
    if (!append) {
      for (let i = 0; i < k; i++) {
        if (this.slotOf(ids[i]) >= 0) throw new ProtocolError(`delta: born agent ${ids[i]} is already there`);
      }
    }
    if (this.ids.length < n + k) {
      // Grow, keeping what is there.
      const cap = Math.max(n + k, Math.ceil(1.25 * this.ids.length), 16);
      const grow = (a, m, Type) => { const b = new Type(m * cap); b.set(a.subarray(0, m * n)); return b; };
      this.ids = grow(this.ids, 1, Uint32Array);
      this.pos = grow(this.pos, 3, Int32Array);
      this.prev = grow(this.prev, 3, Int32Array);
      this.state = grow(this.state, 1, Uint8Array);
    }
    if (append) {
      this.ids.set(ids, n);
      this.pos.set(pos, 3 * n);
      this.prev.set(pos, 3 * n);
      this.state.set(st, n);
    } else {
      // Merge from the back, in place: both lists ascend, and the slot written (w) is
      // always past the old agent still to be read (i), so nothing is overwritten early.
      const I = this.ids, P = this.pos, R = this.prev, S = this.state;
      let i = n - 1, j = k - 1;
      for (let w = n + k - 1; j >= 0; w--) {
        const w3 = 3 * w;
        if (i >= 0 && I[i] > ids[j]) {
          const i3 = 3 * i;
          I[w] = I[i]; S[w] = S[i];
          P[w3] = P[i3]; P[w3 + 1] = P[i3 + 1]; P[w3 + 2] = P[i3 + 2];
          R[w3] = R[i3]; R[w3 + 1] = R[i3 + 1]; R[w3 + 2] = R[i3 + 2];
          i--;
        } else {
          const j3 = 3 * j;
          I[w] = ids[j]; S[w] = st[j];
          P[w3] = R[w3] = pos[j3]; P[w3 + 1] = R[w3 + 1] = pos[j3 + 1]; P[w3 + 2] = R[w3 + 2] = pos[j3 + 2];
          j--;
        }
      }
    }
    this.n = n + k;
    this.layout++;
  }

  /** Slot of agent `id` (binary search over the ascending ids), or -1. */
  slotOf(id) {
    let lo = 0, hi = this.n - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1, v = this.ids[mid];
      if (v === id) return mid;
      if (v < id) lo = mid + 1; else hi = mid - 1;
    }
    return -1;
  }

  /** [x, y, z] in metres of the agent in `slot`. */
  position(slot) {
    const p = this.pos;
    return [p[3 * slot] / SCALE, p[3 * slot + 1] / SCALE, p[3 * slot + 2] / SCALE];
  }
}

/** A scripted inject as the page keeps it: with its `index` and `state` (older servers sent neither). */
export function scriptEntry(e, i) {
  return { ...e, index: Number.isInteger(e.index) ? e.index : i, state: e.state || 'pending' };
}

/**
 * Everything a client knows of a drill from snapshots and deltas: the agents and the
 * other fields (status, exits, hazards, avatars, marks, reports, log). `apply` returns
 * what happened: {applied, resync (a gap: ask for a snapshot), events}.
 */
export class DrillState {
  constructor() {
    this.agents = new AgentState();
    this.seq = null;
    /** Snapshots applied (the welcome's, resyncs, replay seeks). */
    this.snapshots = 0;
    this.tick = 0;
    this.t = 0;
    this.ts = 0;
    this.total = 0;
    this.status = 'ready';
    this.speed = 1;
    this.replay = false;
    this.exits = [];
    this.hazards = [];
    this.evacuated = 0;
    this.avatars = {};
    this.marks = [];
    this.reports = [];
    this.log = [];
    /** People out by each exit (`exit_counts`, in welcome.scene.exits order), or null. */
    this.exit_counts = null;
    /** People inside on each floor (`floor_counts`, by floor index, every floor), or null
     * (an older server: the agents received are everyone). */
    this.floor_counts = null;
    /** The scripted timeline with each entry's state (welcome.script, then deltas), or null. */
    this.script = null;
    /** The plan's steps with their state (instructors and observers), or null. */
    this.plan = null;
    /** The evacuation curve: [t s, evacuated] once per simulated second. */
    this.curve = [];
    /** Waiting for a snapshot after a gap: deltas are ignored until one comes. */
    this.stale = true;
  }

  _fields(m) {
    for (const k of ['tick', 't', 'ts', 'total', 'status', 'speed', 'exits', 'hazards', 'evacuated',
      'exit_counts', 'floor_counts', 'plan']) {
      if (m[k] !== undefined) this[k] = m[k];
    }
    if (Array.isArray(m.script)) this.script = m.script.map(scriptEntry);
  }

  /** Add a point to the curve when a new simulated second began (as the server does). */
  _grow() {
    const last = this.curve.at(-1);
    const sec = Math.floor(this.t + 1e-9);
    if (!last || sec > last[0]) this.curve.push([sec, this.evacuated]);
  }

  applySnapshot(m) {
    this.snapshots++;
    this.agents.applySnapshot(m.agents);
    this._fields(m);
    this.seq = m.seq;
    this.replay = !!m.replay;
    this.avatars = { ...(m.avatars || {}) };
    this.marks = [...(m.marks || [])];
    this.reports = [...(m.reports || [])];
    this.log = [...(m.log || [])];
    // A late joiner (or a replay that jumped) draws the curve from the start.
    if (Array.isArray(m.curve)) this.curve = m.curve.map((p) => [Number(p[0]), Number(p[1])]);
    else this.curve = [];
    this._grow();
    this.stale = false;
    return { applied: true, resync: false, events: [] };
  }

  applyDelta(m) {
    if (this.stale) return { applied: false, resync: false, events: [] };
    if (this.seq !== null && m.seq !== this.seq + 1) {
      this.stale = true;
      return { applied: false, resync: true, events: [] };
    }
    try {
      this.agents.applyDelta(m);
    } catch (err) {
      this.stale = true;
      return { applied: false, resync: true, events: [], error: err.message };
    }
    this.seq = m.seq;
    this._fields(m);
    // The server sends `total` when it changes; older servers did not: count the born.
    // (A server that sends floor counts has views: agents born into the view are not new.)
    if (m.born !== undefined && m.total === undefined && this.floor_counts === null) {
      this.total += m.born.byteLength / 4;
    }
    if (m.avatars) Object.assign(this.avatars, m.avatars);
    if (m.avatars_gone) for (const p of m.avatars_gone) delete this.avatars[String(p)];
    if (m.marks) this.marks = this.marks.concat(m.marks).slice(-500);
    if (m.reports) this.reports = this.reports.concat(m.reports).slice(-200);
    if (m.log) this.log = this.log.concat(m.log).slice(-200);
    this._grow();
    return { applied: true, resync: false, events: m.events || [] };
  }

  /** Apply a snapshot or delta message (anything else is ignored). */
  apply(m) {
    if (m.type === 'snapshot') return this.applySnapshot(m);
    if (m.type === 'delta') return this.applyDelta(m);
    return { applied: false, resync: false, events: [] };
  }

  /**
   * People inside the building, on every floor: the sum of `floor_counts` (the agents
   * received may be only those of the floors subscribed to), else the agents received.
   */
  get inside() {
    const fc = this.floor_counts;
    if (Array.isArray(fc)) return fc.reduce((a, b) => a + (Number(b) || 0), 0);
    return this.agents.n;
  }

  /** People inside on floor `i` (null when the server does not say). */
  onFloor(i) {
    const fc = this.floor_counts;
    return Array.isArray(fc) && Number.isFinite(fc[i]) ? fc[i] : null;
  }
}
