// Benchmark of the page's per-tick work for a large crowd, in node (V8, as Chromium):
// msgpack-decode a delta frame, apply it (protocol.js DrillState), and update the crowd's
// InstancedMesh (crowd.js Crowd.sync + one Crowd.update), exactly what main.js times
// into window.evacdrill.stats().decodeMs. The frames are synthetic: every agent walks
// (dxy for all, a few far moves, state changes and departures each tick).
//
//   node tests/web/js/bench_decode.mjs [agents=10000] [ticks=300]
//
// Prints one line per figure: `name value unit`.

import { performance } from 'node:perf_hooks';
import { encode } from '../../../net/web/vendor/msgpack/index.js';
import { DrillState, decodeMessage } from '../../../net/web/protocol.js';
import * as THREE from '../../../net/web/vendor/three/three.module.js';
import { Crowd } from '../../../net/web/crowd.js';

const N = Number(process.argv[2] || 10000);
const TICKS = Number(process.argv[3] || 300);

let seed = 12345;
const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);

function frames() {
  let live = Array.from({ length: N }, (_, i) => i);
  const pos = new Int32Array(3 * N).map((_, i) => (i % 3 === 2 ? 0 : Math.floor(rand() * 10000)));
  const out = [encode({ type: 'snapshot', v: 1, seq: 0, t: 0, total: N, status: 'running',
    agents: { n: N, ids: new Uint8Array(new Uint32Array(live).buffer), pos: new Uint8Array(pos.buffer),
      state: new Uint8Array(N).fill(1) } })];
  for (let seq = 1; seq <= TICKS; seq++) {
    const gone = new Set();
    while (gone.size < 3 && live.length > 10) gone.add(live[Math.floor(rand() * live.length)]);
    live = live.filter((id) => !gone.has(id));
    const n = live.length;
    const dxy = new Int8Array(2 * n).map(() => Math.floor(rand() * 27) - 13);
    const far = new Int32Array([1, 200, -150, 0, 7, 0, 0, 35]);
    out.push(encode({ type: 'delta', v: 1, seq, t: seq / 10, evacuated: N - n,
      gone: new Uint8Array(new Uint32Array([...gone].sort((x, y) => x - y)).buffer),
      st: new Uint8Array(new Uint32Array([5, 9]).buffer), stv: new Uint8Array([1, 1]),
      moved: new Uint8Array(Math.ceil(n / 8)).fill(0xff), dxy: new Uint8Array(dxy.buffer),
      far: new Uint8Array(far.buffer) }));
  }
  return out;
}

const data = frames().map((f) => new Uint8Array(f).buffer);
const d = new DrillState();
const crowd = new Crowd(new THREE.Scene(), null);
const times = [];
for (const buf of data) {
  const t0 = performance.now();
  const msg = decodeMessage(buf);
  const r = d.apply(msg);
  if (!r.applied) throw new Error(`frame ${msg.seq} not applied (${r.error || 'gap'})`);
  crowd.sync(d.agents, 0, []);
  crowd.update(0);
  times.push(performance.now() - t0);
}
const ticks = times.slice(1).sort((a, b) => a - b);
const q = (p) => ticks[Math.min(ticks.length - 1, Math.floor(p * ticks.length))];
console.log(`web_tick_agents ${d.agents.n} agents`);
console.log(`web_tick_median ${q(0.5).toFixed(3)} ms`);
console.log(`web_tick_p90 ${q(0.9).toFixed(3)} ms`);
console.log(`web_tick_max ${ticks.at(-1).toFixed(3)} ms`);
console.log(`web_delta_bytes ${data[1].byteLength} bytes`);
