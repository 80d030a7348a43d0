// net/web/protocol.js against frames the Python server encodes (written by
// tests/web/test_web_js.py into $EVACDRILL_FRAMES), and its edge cases.
// Run: pytest tests/web/test_web_js.py (or node --test tests/web/js with EVACDRILL_FRAMES set).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { encode } from '../../../net/web/vendor/msgpack/index.js';
import {
  AgentState, DrillState, ProtocolError, decodeMessage, encodeMessage, WAITING,
} from '../../../net/web/protocol.js';

const FRAMES = process.env.EVACDRILL_FRAMES;
const CASES = (process.env.EVACDRILL_CASES || 'office,two_storey').split(',');

function readFrames(path) {
  const data = readFileSync(path);
  const frames = [];
  for (let at = 0; at < data.length;) {
    const size = data.readUInt32LE(at);
    // A fresh ArrayBuffer per frame, as a WebSocket delivers it.
    frames.push(new Uint8Array(data.subarray(at + 4, at + 4 + size)).buffer);
    at += 4 + size;
  }
  return frames;
}

function sameState(agents, want, where) {
  const n = agents.n;
  assert.equal(n, want.ids.length, `${where}: number of agents`);
  assert.deepEqual(Array.from(agents.ids.subarray(0, n)), want.ids, `${where}: ids`);
  assert.deepEqual(Array.from(agents.pos.subarray(0, 3 * n)), want.pos, `${where}: positions`);
  assert.deepEqual(Array.from(agents.state.subarray(0, n)), want.state, `${where}: states`);
}

for (const name of CASES) {
  test(`decodes the server's ${name} stream exactly like net.state.AgentDecoder`,
    { skip: FRAMES ? false : 'EVACDRILL_FRAMES not set: run pytest tests/web/test_web_js.py' },
    () => {
      const frames = readFrames(join(FRAMES, `${name}.frames`));
      const expect = JSON.parse(readFileSync(join(FRAMES, `${name}.json`), 'utf8'));
      assert.equal(frames.length, expect.states.length);
      const drill = new DrillState();
      let gone = 0;
      frames.forEach((frame, i) => {
        const msg = decodeMessage(frame);
        const before = drill.agents.n;
        const r = drill.apply(msg);
        assert.ok(r.applied, `frame ${i} (${msg.type} seq ${msg.seq}) not applied`);
        assert.ok(!r.resync, `frame ${i}: asked for a resync`);
        if (msg.type === 'delta') gone += before - drill.agents.n;
        sameState(drill.agents, expect.states[i], `${name} frame ${i} (${msg.type} ${msg.seq})`);
      });
      assert.equal(drill.evacuated, expect.evacuated);
      assert.equal(drill.total, expect.total);
      assert.ok(gone > 0, 'the stream covered agents leaving');
    });
}

// ---------------------------------------------------------------- hand-made frames

const u32 = (...v) => new Uint8Array(new Uint32Array(v).buffer);
const i32 = (...v) => new Uint8Array(new Int32Array(v).buffer);
const i8 = (...v) => new Uint8Array(new Int8Array(v).buffer);
const wire = (m) => decodeMessage(encode(m));

function snapshot(ids, pos, state, seq = 1) {
  return wire({ type: 'snapshot', v: 1, seq, t: 0, total: ids.length, status: 'running',
    agents: { n: ids.length, ids: u32(...ids), pos: i32(...pos), state: new Uint8Array(state) } });
}

test('message round trip, and frames that are not messages are refused', () => {
  const m = decodeMessage(encodeMessage('join', { drill: 'abc', token: 't', name: '张三' }));
  assert.deepEqual(m, { type: 'join', v: 1, drill: 'abc', token: 't', name: '张三' });
  assert.throws(() => decodeMessage(encode([1, 2])), ProtocolError);
  assert.throws(() => decodeMessage(encode({ v: 1 })), ProtocolError);
  assert.throws(() => decodeMessage(new Uint8Array([0xc1])), ProtocolError);
});

test('gone, st, moved (only non-waiting agents have bits) and far apply in order', () => {
  const d = new DrillState();
  d.apply(snapshot([2, 5, 9, 11], [0, 0, 0, 100, 0, 0, 200, 0, 0, 300, 0, 0], [1, 0, 1, 1]));
  // 5 leaves; slots are then 2, 9, 11. Slot 1 (agent 9) stops waiting? it is moving; make
  // slot 0 (agent 2) wait: only slots 1 and 2 have bits; bits "11" -> two dxy pairs.
  const r = d.apply(wire({ type: 'delta', v: 1, seq: 2, gone: u32(5), st: u32(0), stv: new Uint8Array([WAITING]),
    moved: new Uint8Array([0b11000000]), dxy: i8(1, -2, -127, 127), far: i32(0, 5, 6, 350) }));
  assert.ok(r.applied);
  const a = d.agents;
  assert.equal(a.n, 3);
  assert.deepEqual(Array.from(a.ids.subarray(0, 3)), [2, 9, 11]);
  assert.deepEqual(Array.from(a.pos.subarray(0, 9)), [5, 6, 350, 201, -2, 0, 173, 127, 0]);
  assert.deepEqual(Array.from(a.prev.subarray(0, 9)), [0, 0, 0, 200, 0, 0, 300, 0, 0]);
  assert.deepEqual(Array.from(a.state.subarray(0, 3)), [0, 1, 1]);
  assert.equal(a.slotOf(9), 1);
  assert.equal(a.slotOf(5), -1);
  assert.deepEqual(a.position(0), [0.05, 0.06, 3.5]);
});

test('dz climbs the stair walkers among the moved, in order; a short dz is refused', () => {
  const d = new DrillState();
  // Agents 1 (moving), 2 (on a stair), 3 (waiting), 4 (on a stair).
  d.apply(snapshot([1, 2, 3, 4], [0, 0, 0, 0, 0, 100, 0, 0, 0, 0, 0, 200], [1, 3, 0, 3]));
  // Bits for slots 0, 1, 3 (2 waits): all moved; dz for the two on a stair, in order.
  const r = d.apply(wire({ type: 'delta', v: 1, seq: 2, moved: new Uint8Array([0b11100000]),
    dxy: i8(1, 1, 2, 2, 3, 3), dz: i8(-12, 17) }));
  assert.ok(r.applied, r.error);
  assert.deepEqual(Array.from(d.agents.pos.subarray(0, 12)), [1, 1, 0, 2, 2, 88, 0, 0, 0, 3, 3, 217]);
  // A stair walker that only turned into a mover (st first) has no dz.
  assert.ok(d.apply(wire({ type: 'delta', v: 1, seq: 3, st: u32(1), stv: new Uint8Array([1]),
    moved: new Uint8Array([0b11100000]), dxy: i8(0, 1, 0, 1, 0, 1), dz: i8(5) })).applied);
  assert.deepEqual(Array.from(d.agents.pos.subarray(0, 12)), [1, 2, 0, 2, 3, 88, 0, 0, 0, 3, 4, 222]);
  const short = d.apply(wire({ type: 'delta', v: 1, seq: 4, st: u32(1), stv: new Uint8Array([3]),
    moved: new Uint8Array([0b01100000]), dxy: i8(0, 1, 0, 1), dz: i8(5) }));
  assert.ok(short.resync && !short.applied);
  assert.match(short.error, /dz too short/);
  d.apply(snapshot([2], [0, 0, 100], [3], 10));
  const long = d.apply(wire({ type: 'delta', v: 1, seq: 11, moved: new Uint8Array([0x80]), dxy: i8(1, 1), dz: i8(1, 2) }));
  assert.ok(long.resync && /dz length/.test(long.error));
});

test('bins at odd offsets inside a frame decode (copied to aligned memory)', () => {
  // "x" fields of odd lengths before the bins push them off 4-byte alignment.
  const frame = encode({ type: 'snapshot', v: 1, seq: 1, x: 'abc',
    agents: { n: 2, ids: u32(1, 3), y: 'q', pos: i32(-1, 2, 3, 4, -5, 6), state: new Uint8Array([1, 3]) } });
  const d = new DrillState();
  d.apply(decodeMessage(frame));
  assert.deepEqual(Array.from(d.agents.pos.subarray(0, 6)), [-1, 2, 3, 4, -5, 6]);
  assert.deepEqual(Array.from(d.agents.state.subarray(0, 2)), [1, 3]);
});

test('a gap in seq asks for a resync and ignores deltas until the snapshot', () => {
  const d = new DrillState();
  assert.ok(!d.apply(wire({ type: 'delta', v: 1, seq: 1 })).applied, 'no delta before a snapshot');
  d.apply(snapshot([1], [0, 0, 0], [1], 10));
  assert.ok(d.apply(wire({ type: 'delta', v: 1, seq: 11, evacuated: 1 })).applied);
  const gap = d.apply(wire({ type: 'delta', v: 1, seq: 13 }));
  assert.ok(gap.resync && !gap.applied);
  assert.ok(!d.apply(wire({ type: 'delta', v: 1, seq: 14 })).applied);
  d.apply(snapshot([1, 2], [0, 0, 0, 1, 1, 0], [1, 1], 20));
  assert.ok(d.apply(wire({ type: 'delta', v: 1, seq: 21 })).applied);
  assert.equal(d.agents.n, 2);
});

test('an inconsistent delta is refused and asks for a resync, never corrupting silently', () => {
  const d = new DrillState();
  d.apply(snapshot([1, 2], [0, 0, 0, 0, 0, 0], [1, 1]));
  const r = d.apply(wire({ type: 'delta', v: 1, seq: 2, st: u32(7), stv: new Uint8Array([1]) }));
  assert.ok(r.resync && !r.applied);
  assert.match(r.error, /out of range/);
});

test('avatars, marks and other fields of deltas update the drill state', () => {
  const d = new DrillState();
  d.apply(snapshot([], [], []));
  d.apply(wire({ type: 'delta', v: 1, seq: 2, status: 'paused', exits: [true, false],
    avatars: { 7: { name: '张三', agent: 3, pos: [1, 2, 0] } }, marks: [{ id: 1, kind: 'fire' }] }));
  assert.equal(d.status, 'paused');
  assert.deepEqual(d.exits, [true, false]);
  assert.equal(d.avatars['7'].name, '张三');
  d.apply(wire({ type: 'delta', v: 1, seq: 3, avatars_gone: [7], marks: [{ id: 2, kind: 'injured' }] }));
  assert.equal(d.avatars['7'], undefined);
  assert.equal(d.marks.length, 2);
});

test('a large snapshot after a small one grows the arrays; a smaller one reuses them', () => {
  const a = new AgentState();
  a.applySnapshot(snapshot([1], [1, 2, 3], [0]).agents);
  const ids = Array.from({ length: 1000 }, (_, i) => 2 * i + 1);
  a.applySnapshot(snapshot(ids, new Array(3000).fill(7), new Array(1000).fill(1)).agents);
  assert.equal(a.n, 1000);
  assert.equal(a.slotOf(1999), 999);
  a.applySnapshot(snapshot([4], [9, 9, 9], [3]).agents);
  assert.equal(a.n, 1);
  assert.equal(a.ids[0], 4);
});

test('born agents (participants joining) are appended after the others', () => {
  const d = new DrillState();
  d.apply(snapshot([1, 4], [0, 0, 0, 10, 10, 0], [1, 1]));
  d.apply(wire({ type: 'delta', v: 1, seq: 2, gone: u32(1), moved: new Uint8Array([0x80]), dxy: i8(5, 5),
    born: u32(9, 10), born_pos: i32(1, 2, 3, 4, 5, 6), born_st: new Uint8Array([1, 0]) }));
  const a = d.agents;
  assert.equal(a.n, 3);
  assert.deepEqual(Array.from(a.ids.subarray(0, 3)), [4, 9, 10]);
  assert.deepEqual(Array.from(a.pos.subarray(0, 9)), [15, 15, 0, 1, 2, 3, 4, 5, 6]);
  assert.deepEqual(Array.from(a.prev.subarray(3, 9)), [1, 2, 3, 4, 5, 6]);
  assert.equal(a.slotOf(10), 2);
  // Grows past its capacity (16) and keeps the old agents.
  const ids = Array.from({ length: 20 }, (_, i) => 100 + i);
  d.apply(wire({ type: 'delta', v: 1, seq: 3, born: u32(...ids), born_pos: i32(...new Array(60).fill(1)),
    born_st: new Uint8Array(20) }));
  assert.equal(a.n, 23);
  assert.equal(d.total, 24, 'total counts the agents born (2 + 2 + 20)');
  assert.deepEqual(Array.from(a.ids.subarray(0, 4)), [4, 9, 10, 100]);
  assert.equal(a.pos[0], 15);
});

test('agents that come into view are merged into the ascending id order', () => {
  // A client subscribed to one floor: agents walking down a stair into it arrive in
  // `born` with ids below, between and above the ones it holds.
  const d = new DrillState();
  d.apply(wire({ type: 'snapshot', v: 1, seq: 1, t: 0, total: 50, status: 'running', floor_counts: [3, 47],
    agents: { n: 3, ids: u32(10, 20, 30), pos: i32(1, 1, 0, 2, 2, 0, 3, 3, 0), state: new Uint8Array([1, 0, 1]) } }));
  const a = d.agents;
  const layout = a.layout;
  // Slots before the born: 10, 20, 30 (20 waits: bits for 10 and 30 only).
  const r = d.apply(wire({ type: 'delta', v: 1, seq: 2, moved: new Uint8Array([0b11000000]), dxy: i8(1, 0, 0, 1),
    born: u32(5, 15, 16, 40), born_pos: i32(50, 0, 0, 150, 0, 0, 160, 0, 0, 400, 0, 0),
    born_st: new Uint8Array([1, 3, 1, 0]), floor_counts: [7, 43] }));
  assert.ok(r.applied, r.error);
  assert.equal(a.n, 7);
  assert.deepEqual(Array.from(a.ids.subarray(0, 7)), [5, 10, 15, 16, 20, 30, 40]);
  assert.deepEqual(Array.from(a.pos.subarray(0, 21)),
    [50, 0, 0, 2, 1, 0, 150, 0, 0, 160, 0, 0, 2, 2, 0, 3, 4, 0, 400, 0, 0]);
  // The old agents keep their previous positions (interpolation); the born stand still.
  assert.deepEqual(Array.from(a.prev.subarray(0, 21)),
    [50, 0, 0, 1, 1, 0, 150, 0, 0, 160, 0, 0, 2, 2, 0, 3, 3, 0, 400, 0, 0]);
  assert.deepEqual(Array.from(a.state.subarray(0, 7)), [1, 1, 3, 1, 0, 1, 0]);
  assert.ok(a.layout > layout, 'slots changed meaning');
  for (const [slot, id] of [5, 10, 15, 16, 20, 30, 40].entries()) assert.equal(a.slotOf(id), slot);
  // Agents that came into view are not new people: the total is the server's.
  assert.equal(d.total, 50);
  assert.equal(d.inside, 50, 'people inside: the floor counts, not the agents received');
  assert.equal(d.onFloor(0), 7);
  // The next delta's slots are those of the merged order, after its own gone (agent 15 is
  // then slot 1).
  assert.ok(d.apply(wire({ type: 'delta', v: 1, seq: 3, gone: u32(5, 40), far: i32(1, 10, 0, -300) })).applied);
  assert.deepEqual(Array.from(a.ids.subarray(0, a.n)), [10, 15, 16, 20, 30]);
  assert.deepEqual(a.position(1), [1.6, 0, -3]);
});

test('born agents merged past the capacity keep every agent', () => {
  const d = new DrillState();
  const odd = Array.from({ length: 16 }, (_, i) => 2 * i + 1);
  d.apply(snapshot(odd, odd.flatMap((id) => [id, 0, 0]), new Array(16).fill(1)));
  const even = Array.from({ length: 16 }, (_, i) => 2 * i);
  const r = d.apply(wire({ type: 'delta', v: 1, seq: 2, born: u32(...even),
    born_pos: i32(...even.flatMap((id) => [id, 0, 0])), born_st: new Uint8Array(16).fill(3), floor_counts: [32] }));
  assert.ok(r.applied, r.error);
  const a = d.agents;
  assert.equal(a.n, 32);
  assert.deepEqual(Array.from(a.ids.subarray(0, 32)), Array.from({ length: 32 }, (_, i) => i));
  for (let i = 0; i < 32; i++) {
    assert.equal(a.pos[3 * i], i, `position of agent ${i}`);
    assert.equal(a.state[i], i % 2 ? 1 : 3, `state of agent ${i}`);
  }
});

test('born ids out of order, or of agents already held, are refused (resync)', () => {
  const d = new DrillState();
  d.apply(snapshot([1, 4], [0, 0, 0, 10, 10, 0], [1, 1]));
  const desc = d.apply(wire({ type: 'delta', v: 1, seq: 2, born: u32(9, 3), born_pos: i32(0, 0, 0, 0, 0, 0),
    born_st: new Uint8Array([0, 0]) }));
  assert.ok(desc.resync && !desc.applied);
  assert.match(desc.error, /do not ascend/);
  d.apply(snapshot([1, 4], [0, 0, 0, 10, 10, 0], [1, 1], 10));
  const dup = d.apply(wire({ type: 'delta', v: 1, seq: 11, born: u32(2, 4), born_pos: i32(0, 0, 0, 0, 0, 0),
    born_st: new Uint8Array([0, 0]) }));
  assert.ok(dup.resync && !dup.applied);
  assert.match(dup.error, /already/);
});
