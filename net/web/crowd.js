// The crowd: ONE InstancedMesh of low-poly cylinders, coloured by agent state, moved by
// writing the translation entries of instanceMatrix.array directly. Positions of the
// last two ticks are kept as Float32Arrays (three.js world: x, z, -y; see toWorld) and
// interpolated every frame.

import * as THREE from './vendor/three/three.module.js';
import { WAITING, ON_STAIR, SCALE } from './protocol.js';

/** Protocol (z-up, x y z) -> three.js world (y-up, as the GLB): (x, z, -y). */
export function toWorld(x, y, z, out = new THREE.Vector3()) {
  return out.set(x, z, -y);
}

/** three.js world -> protocol [x, y, z]. */
export function fromWorld(v) {
  return [v.x, -v.z, v.y];
}

export const COLOURS = {
  waiting: 0xa3acba,
  moving: 0x2b7bd9,
  stair: 0x9b4dca,
  me: 0xff2d95,
  others: 0xf5c400,
};

function linear(hex) {
  const c = new THREE.Color(hex);
  return [c.r, c.g, c.b];
}

const HEIGHT = 1.64;

/** A person's figure: a tapered prism of `sides` sides with its top cap only, feet at 0. */
function personGeometry(sides) {
  const g = new THREE.CylinderGeometry(0.17, 0.24, HEIGHT, sides, 1);
  const bottom = g.groups[2]; // torso, top cap, bottom cap
  g.setIndex(Array.from(g.index.array.slice(0, bottom.start)));
  g.clearGroups();
  g.translate(0, HEIGHT / 2, 0);
  return g;
}

export class Crowd {
  constructor(scene, labelLayer, { sides = 7 } = {}) {
    this.scene = scene;
    this.labelLayer = labelLayer;
    // A prism narrower at the shoulders, with no bottom (it stands on the floor): 3 triangles
    // a side, so 10 000 people stay cheap to draw. Software rasterisers (SwiftShader) are
    // bound by triangles: they get 5 sides instead of 7.
    this.geometry = personGeometry(sides);
    this.material = new THREE.MeshLambertMaterial({ color: 0xffffff });
    this.mesh = null;
    this.capacity = 0;
    this.n = 0;
    this.prev = new Float32Array(0);
    this.cur = new Float32Array(0);
    this.palette = {
      waiting: linear(COLOURS.waiting), moving: linear(COLOURS.moving),
      stair: linear(COLOURS.stair), me: linear(COLOURS.me), others: linear(COLOURS.others),
    };
    this.mySlot = -1;
    this.labels = []; // {slot, el}
    this.labelPool = [];
    this.cutY = Infinity;
    this.visible = 0;
    // The own avatar's marker: a ring on the floor and an arrow above the head.
    const ringGeo = new THREE.RingGeometry(0.35, 0.5, 24).rotateX(-Math.PI / 2);
    const arrowGeo = new THREE.ConeGeometry(0.22, 0.45, 8).rotateX(Math.PI);
    const mat = new THREE.MeshBasicMaterial({ color: COLOURS.me, side: THREE.DoubleSide });
    this.marker = new THREE.Group();
    const ring = new THREE.Mesh(ringGeo, mat);
    ring.position.y = 0.08;
    const arrow = new THREE.Mesh(arrowGeo, mat);
    arrow.position.y = HEIGHT + 0.55;
    this.marker.add(ring, arrow);
    this.arrow = arrow;
    this.marker.visible = false;
    this.markerParts = [ringGeo, arrowGeo, mat];
    scene.add(this.marker);
    this._v = new THREE.Vector3();
  }

  _ensure(n) {
    if (n <= this.capacity && this.mesh) return;
    const cap = Math.max(64, Math.ceil(n * 1.1));
    if (this.mesh) {
      this.scene.remove(this.mesh);
      this.mesh.dispose();
    }
    const mesh = new THREE.InstancedMesh(this.geometry, this.material, cap);
    mesh.instanceMatrix.setUsage(THREE.DynamicDrawUsage);
    mesh.instanceColor = new THREE.InstancedBufferAttribute(new Float32Array(3 * cap), 3);
    mesh.instanceColor.setUsage(THREE.DynamicDrawUsage);
    mesh.frustumCulled = false; // instances move: a bounding sphere computed once goes stale
    mesh.count = 0;
    mesh.name = 'crowd';
    this.mesh = mesh;
    this.capacity = cap;
    this.prev = new Float32Array(3 * cap);
    this.cur = new Float32Array(3 * cap);
    this.scene.add(mesh);
  }

  /**
   * Take a new tick's agent state (protocol.js AgentState): positions (previous and
   * current, world metres) and colours. `mySlot` is the own avatar's slot (or -1),
   * `others` the slots and names of other participants' avatars.
   */
  sync(agents, mySlot = -1, others = []) {
    const n = agents.n;
    this._ensure(n);
    const pos = agents.pos, prv = agents.prev, st = agents.state;
    const cur = this.cur, prev = this.prev;
    const k = 1 / SCALE;
    for (let i = 0, e = 3 * n; i < e; i += 3) {
      cur[i] = pos[i] * k; cur[i + 1] = pos[i + 2] * k; cur[i + 2] = -pos[i + 1] * k;
      prev[i] = prv[i] * k; prev[i + 1] = prv[i + 2] * k; prev[i + 2] = -prv[i + 1] * k;
    }
    const col = this.mesh.instanceColor.array;
    const pw = this.palette.waiting, pm = this.palette.moving, ps = this.palette.stair;
    for (let i = 0; i < n; i++) {
      const s = st[i];
      const c = s === WAITING ? pw : s === ON_STAIR ? ps : pm;
      const j = 3 * i;
      col[j] = c[0]; col[j + 1] = c[1]; col[j + 2] = c[2];
    }
    for (const o of others) {
      if (o.slot < 0 || o.slot >= n) continue;
      const c = this.palette.others, j = 3 * o.slot;
      col[j] = c[0]; col[j + 1] = c[1]; col[j + 2] = c[2];
    }
    if (mySlot >= 0 && mySlot < n) {
      const c = this.palette.me, j = 3 * mySlot;
      col[j] = c[0]; col[j + 1] = c[1]; col[j + 2] = c[2];
    }
    const ic = this.mesh.instanceColor;
    ic.clearUpdateRanges();
    ic.addUpdateRange(0, 3 * n);
    ic.needsUpdate = true;
    this.n = n;
    this.mesh.count = n;
    this.mySlot = mySlot < n ? mySlot : -1;
    this._setLabels(others.filter((o) => o.slot >= 0 && o.slot < n && o.name));
  }

  _setLabels(list) {
    while (this.labels.length > list.length) {
      const l = this.labels.pop();
      l.el.style.display = 'none';
      this.labelPool.push(l.el);
    }
    while (this.labels.length < list.length) {
      let el = this.labelPool.pop();
      if (!el) {
        el = document.createElement('div');
        el.className = 'avatar-label';
        this.labelLayer.appendChild(el);
      }
      this.labels.push({ slot: -1, el });
    }
    list.forEach((o, i) => {
      const l = this.labels[i];
      l.slot = o.slot;
      if (l.el.textContent !== o.name) l.el.textContent = o.name;
    });
  }

  /**
   * Write interpolated instance matrices (translation entries; scale 0 hides an agent
   * above the cut height `cutY`, i.e. on a floor above the viewed one). alpha in [0, 1].
   */
  update(alpha, cutY = this.cutY) {
    if (!this.mesh) return;
    this.cutY = cutY;
    const m = this.mesh.instanceMatrix.array;
    const cur = this.cur, prev = this.prev, n = this.n;
    const b = 1 - alpha;
    let visible = 0;
    for (let i = 0; i < n; i++) {
      const j = 3 * i, o = 16 * i;
      const y = prev[j + 1] * b + cur[j + 1] * alpha;
      const s = y <= cutY ? 1 : 0;
      visible += s;
      m[o] = s; m[o + 5] = s; m[o + 10] = s;
      m[o + 12] = prev[j] * b + cur[j] * alpha;
      m[o + 13] = y;
      m[o + 14] = prev[j + 2] * b + cur[j + 2] * alpha;
    }
    this.visible = visible;
    const im = this.mesh.instanceMatrix;
    im.clearUpdateRanges();
    im.addUpdateRange(0, 16 * n);
    im.needsUpdate = true;
    if (this.mySlot >= 0) {
      const p = this.positionOf(this.mySlot, alpha, this._v);
      this.marker.position.copy(p);
      this.marker.visible = p.y <= cutY;
    } else {
      this.marker.visible = false;
    }
  }

  /** Interpolated world position of the agent in `slot`. */
  positionOf(slot, alpha, out = new THREE.Vector3()) {
    const j = 3 * slot, b = 1 - alpha, p = this.prev, c = this.cur;
    return out.set(p[j] * b + c[j] * alpha, p[j + 1] * b + c[j + 1] * alpha,
      p[j + 2] * b + c[j + 2] * alpha);
  }

  /** World direction of the last tick's motion of `slot` (x, z), or null if it stood still. */
  motionOf(slot) {
    const j = 3 * slot;
    const dx = this.cur[j] - this.prev[j], dz = this.cur[j + 2] - this.prev[j + 2];
    return dx * dx + dz * dz > 1e-6 ? [dx, dz] : null;
  }

  /** Place the name labels of other participants over their heads (screen pixels). */
  placeLabels(camera, width, height, alpha) {
    const v = this._v;
    for (const l of this.labels) {
      this.positionOf(l.slot, alpha, v);
      const hidden = v.y > this.cutY;
      v.y += HEIGHT + 0.35;
      v.project(camera);
      if (hidden || v.z > 1 || v.z < -1) { l.el.style.display = 'none'; continue; }
      l.el.style.display = '';
      l.el.style.transform = `translate(${((v.x + 1) / 2) * width}px, ${((1 - v.y) / 2) * height}px) translate(-50%, -100%)`;
    }
  }

  dispose() {
    if (this.mesh) {
      this.scene.remove(this.mesh);
      this.mesh.dispose();
      this.mesh = null;
    }
    this.scene.remove(this.marker);
    for (const p of this.markerParts) p.dispose();
    this.geometry.dispose();
    this.material.dispose();
    for (const l of this.labels) l.el.remove();
    for (const el of this.labelPool) el.remove();
    this.labels = [];
    this.labelPool = [];
    this.capacity = 0;
  }
}
