// Hazards drawn where they were injected (the `hazards` list of snapshots and deltas):
// fire (orange-red disc + flickering cone), smoke (grey translucent cylinder), gas
// (yellow-green), flood (blue disc), power_cut (dark overlay), blocked_exit (red X on the
// exit). Built in the three.js world (y-up): protocol (x, y) on floor f lies at
// (x, elevation(f), -y), the mapping of sim/scenes/export.py.

import * as THREE from './vendor/three/three.module.js';

const MIN_RADIUS = 0.6;

function centroid(poly) {
  let x = 0, y = 0;
  const pts = poly.length > 1 && poly[0][0] === poly[poly.length - 1][0]
    && poly[0][1] === poly[poly.length - 1][1] ? poly.slice(0, -1) : poly;
  for (const p of pts) { x += p[0]; y += p[1]; }
  return [x / pts.length, y / pts.length];
}

/** A THREE.Shape of a polygon given in protocol metres ([[x, y], …]). */
export function shapeOf(poly) {
  const s = new THREE.Shape();
  poly.forEach(([x, y], i) => (i ? s.lineTo(x, y) : s.moveTo(x, y)));
  return s;
}

export class Hazards {
  constructor(scene, info) {
    this.scene = scene;
    this.info = info;
    this.group = new THREE.Group();
    this.group.name = 'hazards';
    scene.add(this.group);
    this.items = new Map(); // id -> {key, obj, floor, flicker: [meshes]}
    this.viewElevation = Infinity;
    this.only = null;
  }

  elevation(floor) {
    const f = this.info.floors[floor];
    return f ? f.elevation : 0;
  }

  /** Replace the drawn hazards with `list` (only changed ones are rebuilt). */
  set(list) {
    const seen = new Set();
    for (const h of list || []) {
      const id = String(h.id);
      seen.add(id);
      const key = JSON.stringify(h);
      const have = this.items.get(id);
      if (have && have.key === key) continue;
      if (have) this._remove(id);
      const item = this._build(h);
      item.key = key;
      this.items.set(id, item);
      this.group.add(item.obj);
    }
    for (const id of [...this.items.keys()]) if (!seen.has(id)) this._remove(id);
    this.setFloor(this.viewElevation, this.only);
  }

  _remove(id) {
    const item = this.items.get(id);
    this.group.remove(item.obj);
    item.obj.traverse((o) => {
      if (o.geometry) o.geometry.dispose();
      if (o.material) o.material.dispose();
    });
    this.items.delete(id);
  }

  _build(h) {
    const obj = new THREE.Group();
    obj.name = `hazard:${h.id}`;
    const floor = Number.isInteger(h.floor) ? h.floor : 0;
    const z = this.elevation(floor);
    const r = Math.max(h.radius || 0, MIN_RADIUS);
    const x = h.x || 0, y = h.y || 0;
    const flicker = [];
    const mat = (color, opacity) => new THREE.MeshBasicMaterial({
      color, transparent: true, opacity, depthWrite: false, side: THREE.DoubleSide,
    });
    const disc = (color, opacity, lift) => {
      const m = new THREE.Mesh(new THREE.CircleGeometry(r, 40).rotateX(-Math.PI / 2), mat(color, opacity));
      m.position.set(x, z + lift, -y);
      m.renderOrder = 2;
      return m;
    };
    const column = (color, opacity, height) => {
      const m = new THREE.Mesh(new THREE.CylinderGeometry(r, r, height, 32, 1, true), mat(color, opacity));
      m.position.set(x, z + height / 2 + 0.05, -y);
      m.renderOrder = 3;
      return m;
    };
    switch (h.kind) {
      case 'fire': {
        obj.add(disc(0xff5a1f, 0.55, 0.08));
        const cone = new THREE.Mesh(new THREE.ConeGeometry(Math.min(r * 0.45, 1.5), 2.2, 12),
          new THREE.MeshBasicMaterial({ color: 0xff3300, transparent: true, opacity: 0.85, depthWrite: false }));
        cone.position.set(x, z + 1.15, -y);
        const inner = new THREE.Mesh(new THREE.ConeGeometry(Math.min(r * 0.25, 0.9), 1.4, 10),
          new THREE.MeshBasicMaterial({ color: 0xffc21a, transparent: true, opacity: 0.9, depthWrite: false }));
        inner.position.set(x, z + 0.75, -y);
        obj.add(cone, inner);
        flicker.push(cone, inner);
        break;
      }
      case 'smoke':
        obj.add(disc(0x6b6b6b, 0.45, 0.08), column(0x8a8a8a, 0.28, 2.6));
        break;
      case 'gas':
        obj.add(disc(0xb5d92b, 0.45, 0.08), column(0xc8e64a, 0.25, 2.2));
        break;
      case 'flood':
        obj.add(disc(0x1e7fe0, 0.55, 0.1));
        break;
      case 'power_cut': {
        let geo;
        if (!h.radius) {
          const f = this.info.floors[floor];
          geo = new THREE.ShapeGeometry(shapeOf(f ? f.walkable : [])).rotateX(-Math.PI / 2);
          const m = new THREE.Mesh(geo, mat(0x000000, 0.5));
          m.position.y = z + 0.09;
          m.renderOrder = 2;
          obj.add(m);
        } else {
          obj.add(disc(0x000000, 0.5, 0.09));
        }
        break;
      }
      case 'blocked_exit': {
        const e = this.info.exits.find((ex) => ex.id === h.exit);
        if (e) {
          const [cx, cy] = centroid(e.polygon);
          const ez = this.elevation(e.floor);
          const [theta, long] = longestEdge(e.polygon);
          const len = Math.min(3, Math.max(1.2, long));
          // The X stands in the door's plane: along the exit's longest side.
          const xg = new THREE.Group();
          xg.position.set(cx, ez + 1.1, -cy);
          xg.rotation.y = theta;
          for (const a of [Math.PI / 4, -Math.PI / 4]) {
            const bar = new THREE.Mesh(new THREE.BoxGeometry(len, 0.25, 0.25),
              new THREE.MeshBasicMaterial({ color: 0xe00000 }));
            bar.rotation.z = a;
            xg.add(bar);
          }
          obj.add(xg);
          const flat = new THREE.Mesh(new THREE.BoxGeometry(len, 0.06, Math.max(0.6, len / 3)),
            mat(0xe00000, 0.35));
          flat.position.set(cx, ez + 0.08, -cy);
          flat.rotation.y = theta;
          obj.add(flat);
          obj.userData.floor = e.floor;
        }
        break;
      }
      default: // alarm and unknown kinds: no geometry (the page shows a banner)
        break;
    }
    return { obj, floor: obj.userData.floor ?? floor, flicker, key: '' };
  }

  /** Hide hazards on floors above the viewed one (elevation in m), or, with `only` (a
   * floor index), on every other floor. */
  setFloor(viewElevation, only = null) {
    this.viewElevation = viewElevation;
    this.only = only;
    for (const item of this.items.values()) {
      item.obj.visible = only !== null && only !== undefined ? item.floor === only
        : this.elevation(item.floor) <= viewElevation + 1e-6;
    }
  }

  /** Flicker the flames (time in ms). */
  animate(now) {
    const s = now / 1000;
    for (const item of this.items.values()) {
      item.flicker.forEach((m, i) => {
        const f = 1 + 0.18 * Math.sin(s * 13 + i * 2.1) + 0.1 * Math.sin(s * 29 + i);
        m.scale.set(1 / Math.sqrt(f), f, 1 / Math.sqrt(f));
        m.material.opacity = 0.7 + 0.2 * Math.sin(s * 17 + i);
      });
    }
  }

  ids() { return [...this.items.keys()]; }

  dispose() {
    for (const id of [...this.items.keys()]) this._remove(id);
    this.scene.remove(this.group);
  }
}

/** Direction (angle about the world's y axis) and length of a polygon's longest side. */
function longestEdge(poly) {
  let best = 0, theta = 0;
  for (let i = 0; i + 1 < poly.length; i++) {
    const dx = poly[i + 1][0] - poly[i][0], dy = poly[i + 1][1] - poly[i][1];
    const l = Math.hypot(dx, dy);
    if (l > best) { best = l; theta = Math.atan2(dy, dx); }
  }
  return [theta, best];
}

export { centroid };
