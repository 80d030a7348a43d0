// The shared 3D view: the building (from the drill's GLB, or drawn from welcome.scene
// polygons when the GLB fails), floors above the viewed one cut away, the crowd, hazards,
// marks, and three cameras: an orbiting overview, a top-down floor plan, and first person
// behind one's own avatar. World coordinates are the GLB's (y-up): see crowd.js toWorld.

import * as THREE from './vendor/three/three.module.js';
import { GLTFLoader } from './vendor/three/addons/loaders/GLTFLoader.js';
import { OrbitControls } from './vendor/three/addons/controls/OrbitControls.js';
import { Crowd, fromWorld } from './crowd.js';
import { Hazards, shapeOf } from './hazards.js';

export const CAMERAS = ['overview', 'plan', 'first'];

const COLOURS = {
  floor: 0xd9d9d4,
  walls: 0x8f97a6,
  stair: 0xe8a23c,
  zone: 0xd06060,
  exitOpen: 0x1fbf4a,
  exitClosed: 0xe02424,
  background: 0xeef1f5,
};
const MARK_COLOURS = { injured: 0xc62828, fire: 0xff6d00, blocked: 0x37474f, other: 0x00897b };
const STOREY = 3.5;

function dispose(obj) {
  obj.traverse((o) => {
    if (o.geometry) o.geometry.dispose();
    if (o.material) (Array.isArray(o.material) ? o.material : [o.material]).forEach((m) => m.dispose());
  });
}

/** Bounds of a scene_info in protocol metres: {minX, maxX, minY, maxY}. */
function bounds(info, floors = info.floors) {
  const b = { minX: Infinity, maxX: -Infinity, minY: Infinity, maxY: -Infinity };
  for (const f of floors) {
    for (const [x, y] of f.walkable) {
      b.minX = Math.min(b.minX, x); b.maxX = Math.max(b.maxX, x);
      b.minY = Math.min(b.minY, y); b.maxY = Math.max(b.maxY, y);
    }
  }
  if (!Number.isFinite(b.minX)) Object.assign(b, { minX: 0, maxX: 10, minY: 0, maxY: 10 });
  return b;
}

/** Whether WebGL is drawn by a CPU rasteriser (then the page spares multisampling). */
function softwareGl() {
  try {
    const gl = document.createElement('canvas').getContext('webgl2');
    if (!gl) return false;
    const ext = gl.getExtension('WEBGL_debug_renderer_info');
    const name = String(gl.getParameter(ext ? ext.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
    gl.getExtension('WEBGL_lose_context')?.loseContext();
    return /swiftshader|llvmpipe|softpipe|software/i.test(name);
  } catch {
    return false;
  }
}

export class View {
  constructor(container, labelLayer) {
    this.container = container;
    this.software = softwareGl();
    // Multisampling costs a software rasteriser (SwiftShader, llvmpipe) most of its frame.
    this.renderer = new THREE.WebGLRenderer({ antialias: !this.software, powerPreference: 'high-performance' });
    this.renderer.setPixelRatio(Math.min(window.devicePixelRatio || 1, 2));
    this.renderer.domElement.className = 'view-canvas';
    container.prepend(this.renderer.domElement);
    this.scene = new THREE.Scene();
    this.scene.background = new THREE.Color(COLOURS.background);
    this.scene.add(new THREE.HemisphereLight(0xffffff, 0x8a8f99, 2.2));
    const sun = new THREE.DirectionalLight(0xffffff, 1.6);
    sun.position.set(40, 80, 30);
    this.scene.add(sun);
    this.labelLayer = labelLayer;
    this.crowd = new Crowd(this.scene, labelLayer, { sides: this.software ? 5 : 7 });
    this.info = null;
    this.building = null;
    this.hazards = null;
    this.marks = new THREE.Group();
    this.marks.name = 'marks';
    this.scene.add(this.marks);
    this.markKey = '';
    this.exitMats = new Map();
    this.exitOpen = [];
    this.floor = 0;
    /** Every floor is drawn (the floor selector's "all floors"); else only `floor`. */
    this.allFloors = true;
    this.cameraName = 'overview';
    this.follow = -1; // slot of the own avatar for the first-person camera
    this.heading = 0; // world angle of the first-person view about y
    this.size = [1, 1];
    const aspect = 1;
    this.cameras = {
      overview: new THREE.PerspectiveCamera(38, aspect, 0.1, 5000),
      plan: new THREE.OrthographicCamera(-10, 10, 10, -10, 0.1, 1000),
      first: new THREE.PerspectiveCamera(70, aspect, 0.05, 2000),
    };
    this.cameras.plan.up.set(0, 0, -1); // protocol +y points up the screen
    const el = this.renderer.domElement;
    this.controls = {
      overview: new OrbitControls(this.cameras.overview, el),
      plan: new OrbitControls(this.cameras.plan, el),
    };
    this.controls.overview.enableDamping = true;
    this.controls.overview.maxPolarAngle = Math.PI * 0.49;
    this.controls.plan.enableRotate = false;
    this.controls.plan.screenSpacePanning = true;
    this.controls.plan.enabled = false;
    this.raycaster = new THREE.Raycaster();
    this._resize = () => this.resize();
    this.observer = new ResizeObserver(this._resize);
    this.observer.observe(container);
    this.resize();
  }

  resize() {
    const w = Math.max(1, this.container.clientWidth), h = Math.max(1, this.container.clientHeight);
    this.size = [w, h];
    this.renderer.setSize(w, h, false);
    for (const c of [this.cameras.overview, this.cameras.first]) {
      c.aspect = w / h;
      c.updateProjectionMatrix();
    }
    this._fitPlan();
  }

  // ------------------------------------------------------------------ building

  /** Build the building of `info` (welcome.scene); resolves to true if the GLB was used. */
  async load(info, glbUrl) {
    this.clearBuilding();
    this.info = info;
    this.elevations = info.floors.map((f) => f.elevation);
    let fromGlb = false;
    if (glbUrl) {
      try {
        this.building = await this._loadGlb(glbUrl);
        fromGlb = true;
      } catch (err) {
        console.warn('GLB failed, drawing from the scene polygons:', err);
      }
    }
    if (!this.building) this.building = this._fromPolygons(info);
    this._decorate(info);
    this.scene.add(this.building);
    this.hazards = new Hazards(this.scene, info);
    this.setAllFloors();
    this.frameOverview();
    return fromGlb;
  }

  async _loadGlb(url) {
    const res = await fetch(url);
    if (!res.ok) throw new Error(`GLB: HTTP ${res.status}`);
    const buf = await res.arrayBuffer();
    const gltf = await new GLTFLoader().parseAsync(buf, '');
    const root = new THREE.Group();
    root.name = 'building';
    const floorIds = this.info.floors.map((f) => f.id);
    const stairs = new Map(this.info.stairs.map((s) => [s.id, s]));
    const exits = new Map(this.info.exits.map((e) => [e.id, e]));
    const mats = this._materials();
    let found = 0;
    gltf.scene.updateMatrixWorld(true);
    const named = [];
    // GLTFLoader strips ':' from object names; the glTF node name stays in userData.name.
    const nameOf = (o) => o.userData.name ?? o.name;
    gltf.scene.traverse((o) => {
      if (o !== gltf.scene && /^(floor|walls|exit|stair|zone):/.test(nameOf(o))) named.push(o);
    });
    for (const node of named) {
      const full = nameOf(node);
      const cut = full.indexOf(':');
      const kind = full.slice(0, cut), tail = full.slice(cut + 1);
      // Ids may hold ':' themselves; zones are zone:<floor>:<n>.
      const [id, rest] = kind === 'zone' ? [tail.slice(0, tail.lastIndexOf(':')), tail.slice(tail.lastIndexOf(':') + 1)] : [tail, undefined];
      node.name = full;
      let floor = -1, material = null;
      if (kind === 'floor' || kind === 'walls') {
        floor = floorIds.indexOf(id);
        material = mats[kind];
      } else if (kind === 'exit' && exits.has(id)) {
        floor = exits.get(id).floor;
        material = this._exitMaterial(id);
      } else if (kind === 'stair' && stairs.has(id)) {
        floor = Math.min(...stairs.get(id).floors);
        material = mats.stair;
      } else if (kind === 'zone' && rest !== undefined) {
        floor = floorIds.indexOf(id);
        material = mats.zone;
      }
      if (floor < 0) continue;
      node.traverse((o) => {
        if (o.isMesh) {
          if (o.material && !Object.values(mats).includes(o.material)) o.material.dispose();
          o.material = material;
        }
      });
      // Keep the node where the GLB put it (its transforms hold the y-up rotation).
      node.matrixWorld.decompose(node.position, node.quaternion, node.scale);
      node.userData.floor = floor;
      node.userData.kind = kind;
      root.add(node);
      found++;
    }
    dispose(gltf.scene);
    if (!found) throw new Error('GLB has no floor:/walls:/exit: nodes');
    return root;
  }

  _materials() {
    if (!this.mats) {
      this.mats = {
        floor: new THREE.MeshLambertMaterial({ color: COLOURS.floor }),
        walls: new THREE.MeshLambertMaterial({ color: COLOURS.walls, transparent: true, opacity: 0.82 }),
        stair: new THREE.MeshLambertMaterial({ color: COLOURS.stair }),
        zone: new THREE.MeshBasicMaterial({ color: COLOURS.zone, transparent: true, opacity: 0.3, depthWrite: false }),
      };
    }
    return this.mats;
  }

  _exitMaterial(id) {
    if (!this.exitMats.has(id)) {
      this.exitMats.set(id, new THREE.MeshBasicMaterial({ color: COLOURS.exitOpen }));
    }
    return this.exitMats.get(id);
  }

  _fromPolygons(info) {
    const root = new THREE.Group();
    root.name = 'building';
    const mats = this._materials();
    const flat = (poly, z0, h, material, floor, name) => {
      const g = new THREE.ExtrudeGeometry(shapeOf(poly), { depth: h, bevelEnabled: false })
        .rotateX(-Math.PI / 2);
      const m = new THREE.Mesh(g, material);
      m.position.y = z0;
      m.name = name;
      m.userData.floor = floor;
      root.add(m);
      return m;
    };
    info.floors.forEach((f, i) => {
      const above = this.elevations.filter((e) => e > f.elevation + 1e-6);
      const h = above.length ? Math.min(...above) - f.elevation : STOREY;
      flat(f.walkable, f.elevation - 0.2, 0.2, mats.floor, i, `floor:${f.id}`);
      const walls = new THREE.Group();
      walls.name = `walls:${f.id}`;
      walls.userData.floor = i;
      const ring = f.walkable;
      for (let k = 0; k + 1 < ring.length; k++) {
        const [x0, y0] = ring[k], [x1, y1] = ring[k + 1];
        const len = Math.hypot(x1 - x0, y1 - y0);
        if (len < 1e-3) continue;
        const w = new THREE.Mesh(new THREE.BoxGeometry(len, h * 0.6, 0.2), mats.walls);
        w.position.set((x0 + x1) / 2, f.elevation + h * 0.3, -(y0 + y1) / 2);
        w.rotation.y = Math.atan2(y1 - y0, x1 - x0);
        walls.add(w);
      }
      for (const o of f.obstacles) flat(o, f.elevation, h, mats.walls, i, `walls:${f.id}:o`);
      root.add(walls);
    });
    for (const e of info.exits) {
      flat(e.polygon, info.floors[e.floor].elevation, 0.05, this._exitMaterial(e.id), e.floor, `exit:${e.id}`);
    }
    for (const s of info.stairs) {
      s.areas.forEach((a, k) => {
        const fi = s.floors[k];
        flat(a, info.floors[fi].elevation, 0.05, mats.stair, Math.min(...s.floors), `stair:${s.id}`);
      });
    }
    return root;
  }

  /** Door frames over every exit (a pad in the GLB is hard to see from afar). */
  _decorate(info) {
    for (const e of info.exits) {
      const b = { minX: Infinity, maxX: -Infinity, minY: Infinity, maxY: -Infinity };
      for (const [x, y] of e.polygon) {
        b.minX = Math.min(b.minX, x); b.maxX = Math.max(b.maxX, x);
        b.minY = Math.min(b.minY, y); b.maxY = Math.max(b.maxY, y);
      }
      const z = info.floors[e.floor].elevation;
      const sx = Math.max(b.maxX - b.minX, 0.15), sy = Math.max(b.maxY - b.minY, 0.15);
      const post = new THREE.Mesh(new THREE.BoxGeometry(sx, 2.4, sy), this._exitMaterial(e.id).clone());
      post.material.transparent = true;
      post.material.opacity = 0.6;
      post.material.depthWrite = false;
      post.position.set((b.minX + b.maxX) / 2, z + 1.2, -(b.minY + b.maxY) / 2);
      post.name = `exitframe:${e.id}`;
      post.userData.floor = e.floor;
      post.userData.exit = e.id;
      this.building.add(post);
    }
  }

  clearBuilding() {
    if (this.building) {
      this.scene.remove(this.building);
      dispose(this.building);
      this.building = null;
    }
    if (this.hazards) { this.hazards.dispose(); this.hazards = null; }
    this._clearMarks();
    for (const m of this.exitMats.values()) m.dispose();
    this.exitMats.clear();
    if (this.mats) { Object.values(this.mats).forEach((m) => m.dispose()); this.mats = null; }
    this.info = null;
  }

  // ------------------------------------------------------------------ state

  setExits(open) {
    this.exitOpen = open || [];
    if (!this.info) return;
    this.info.exits.forEach((e, i) => {
      const isOpen = this.exitOpen[i] !== false;
      const colour = isOpen ? COLOURS.exitOpen : COLOURS.exitClosed;
      this._exitMaterial(e.id).color.setHex(colour);
    });
    this.building?.traverse((o) => {
      if (o.userData.exit !== undefined) {
        const i = this.info.exits.findIndex((e) => e.id === o.userData.exit);
        o.material.color.setHex(this.exitOpen[i] !== false ? COLOURS.exitOpen : COLOURS.exitClosed);
      }
    });
  }

  setHazards(list) { this.hazards?.set(list); }

  setMarks(list) {
    const key = (list || []).map((m) => m.id).join(',');
    if (key === this.markKey || !this.info) return;
    this._clearMarks();
    this.markKey = key;
    if (!this.markGeo) {
      this.markGeo = {
        stick: new THREE.CylinderGeometry(0.05, 0.05, 1.8, 6).translate(0, 0.9, 0),
        head: new THREE.SphereGeometry(0.3, 12, 8).translate(0, 2.0, 0),
        base: new THREE.RingGeometry(0.25, 0.45, 20).rotateX(-Math.PI / 2).translate(0, 0.07, 0),
      };
      this.markBase = new THREE.MeshBasicMaterial({ color: 0xffffff, side: THREE.DoubleSide });
      this.markMats = {};
    }
    for (const m of list || []) {
      const kind = MARK_COLOURS[m.kind] !== undefined ? m.kind : 'other';
      this.markMats[kind] ??= new THREE.MeshLambertMaterial({ color: MARK_COLOURS[kind] });
      const pin = new THREE.Group();
      pin.add(new THREE.Mesh(this.markGeo.stick, this.markMats[kind]),
        new THREE.Mesh(this.markGeo.head, this.markMats[kind]),
        new THREE.Mesh(this.markGeo.base, this.markBase));
      const [x, y, z] = m.position || [0, 0, 0];
      const floor = Number.isInteger(m.floor) ? m.floor : this._floorAt(z);
      const elev = this.info.floors[floor]?.elevation ?? z;
      pin.position.set(x, elev, -y);
      pin.userData.floor = floor;
      pin.name = `mark:${m.id}`;
      this.marks.add(pin);
    }
    this._applyFloor();
  }

  _clearMarks() {
    this.marks.clear();
    this.markKey = '';
  }

  _floorAt(z) {
    let best = -1;
    (this.elevations || []).forEach((e, i) => {
      if (e <= z + 0.5 && (best < 0 || e > this.elevations[best])) best = i;
    });
    if (best >= 0) return best;
    let low = 0;
    (this.elevations || []).forEach((e, i) => { if (e < this.elevations[low]) low = i; });
    return low;
  }

  /** Index of the floor at protocol height z (the highest at or below z + 0.5 m). */
  floorAt(z) { return this._floorAt(z); }

  /** Draw only floor `i` (a building of one floor: that is all of it). */
  setFloor(i) {
    if (!this.info) return this.floor;
    const n = this.info.floors.length;
    this.floor = Math.max(0, Math.min(n - 1, Number(i) | 0));
    this.allFloors = n <= 1;
    return this._floorChanged();
  }

  /** Draw every floor; picking, the plan and the overview's target use the highest. */
  setAllFloors() {
    if (!this.info) return this.floor;
    let top = 0;
    this.elevations.forEach((e, i) => { if (e > this.elevations[top]) top = i; });
    this.floor = top;
    this.allFloors = true;
    return this._floorChanged();
  }

  _floorChanged() {
    this._applyFloor();
    this._fitPlan();
    const elev = this.elevations[this.floor];
    const oc = this.controls.overview;
    oc.target.y = elev;
    this.cameras.overview.updateProjectionMatrix();
    return this.floor;
  }

  _applyFloor() {
    if (!this.info) return;
    const elev = this.elevations[this.floor];
    // One floor: only it (the server sends only its people); all: every floor.
    const vis = (f) => f < 0 || this.allFloors || f === this.floor;
    this.building?.children.forEach((o) => { o.visible = vis(o.userData.floor ?? 0); });
    this.marks.children.forEach((o) => { o.visible = vis(o.userData.floor ?? 0); });
    this.hazards?.setFloor(this.allFloors ? Infinity : elev, this.allFloors ? null : this.floor);
    const above = this.elevations.filter((e) => e > elev + 1e-6);
    this.cutY = this.allFloors || !above.length ? Infinity : Math.min(...above) - 0.05;
  }

  frameOverview() {
    if (!this.info) return;
    const b = bounds(this.info);
    const cx = (b.minX + b.maxX) / 2, cy = (b.minY + b.maxY) / 2;
    const cam = this.cameras.overview;
    // Far enough back that the whole footprint fits, seen from the south at about 50°.
    const span = Math.max(b.maxX - b.minX, (b.maxY - b.minY) * 1.2, 10);
    const fit = span / 2 / Math.tan((cam.fov * Math.PI) / 360) / Math.min(1, cam.aspect);
    const dist = fit * 1.1;
    const elev = this.elevations[this.floor];
    const up = Math.sin((50 * Math.PI) / 180), back = Math.cos((50 * Math.PI) / 180);
    cam.position.set(cx, elev + dist * up, -cy + dist * back);
    this.controls.overview.target.set(cx, elev, -cy);
    cam.far = dist * 20;
    cam.updateProjectionMatrix();
    this.controls.overview.update();
  }

  _fitPlan() {
    if (!this.info) return;
    const b = bounds(this.info, [this.info.floors[this.floor]]);
    const cx = (b.minX + b.maxX) / 2, cy = (b.minY + b.maxY) / 2;
    const [w, h] = this.size;
    const halfW = (b.maxX - b.minX) / 2 + 2, halfH = (b.maxY - b.minY) / 2 + 2;
    const scale = Math.max(halfW / (w / h), halfH);
    const cam = this.cameras.plan;
    cam.left = -scale * (w / h); cam.right = scale * (w / h);
    cam.top = scale; cam.bottom = -scale;
    const elev = this.elevations[this.floor];
    cam.position.set(cx, elev + 100, -cy);
    cam.near = 1;
    cam.far = 100 + 1; // sees down to the viewed floor's slab, nothing of the floors above
    cam.zoom = 1;
    cam.updateProjectionMatrix();
    this.controls.plan.target.set(cx, elev, -cy);
    this.controls.plan.update();
  }

  setCamera(name) {
    if (!CAMERAS.includes(name)) return this.cameraName;
    if (name === 'first' && this.follow < 0) return this.cameraName;
    this.cameraName = name;
    this.controls.overview.enabled = name === 'overview';
    this.controls.plan.enabled = name === 'plan';
    if (name === 'plan') this._fitPlan();
    return name;
  }

  get camera() { return this.cameras[this.cameraName]; }

  // ------------------------------------------------------------------ input

  /** The protocol point [x, y, z] (m) on the viewed floor under the pointer, or null. */
  pick(clientX, clientY) {
    if (!this.info) return null;
    const r = this.renderer.domElement.getBoundingClientRect();
    const ndc = new THREE.Vector2(((clientX - r.left) / r.width) * 2 - 1, -((clientY - r.top) / r.height) * 2 + 1);
    this.raycaster.setFromCamera(ndc, this.camera);
    const elev = this.elevations[this.floor];
    const plane = new THREE.Plane(new THREE.Vector3(0, 1, 0), -elev);
    const hit = this.raycaster.ray.intersectPlane(plane, new THREE.Vector3());
    if (!hit) return null;
    const [x, y] = fromWorld(hit);
    return [Math.round(x * 100) / 100, Math.round(y * 100) / 100, elev];
  }

  /** Unit vector (protocol x, y) of the camera's forward direction on the floor. */
  forward() {
    const d = new THREE.Vector3();
    if (this.cameraName === 'plan') return [0, 1];
    this.camera.getWorldDirection(d);
    const l = Math.hypot(d.x, d.z);
    return l > 1e-6 ? [d.x / l, -d.z / l] : [0, 1];
  }

  // ------------------------------------------------------------------ frame

  frame(alpha, now) {
    this.crowd.update(alpha, this.cutY ?? Infinity);
    this.crowd.arrow.visible = this.cameraName !== 'first';
    this.hazards?.animate(now);
    if (this.cameraName === 'first') this._followCam(alpha);
    else if (this.cameraName === 'overview') this.controls.overview.update();
    this.renderer.render(this.scene, this.camera);
    this.crowd.placeLabels(this.camera, this.size[0], this.size[1], alpha);
  }

  _followCam(alpha) {
    const slot = this.follow;
    if (slot < 0 || slot >= this.crowd.n) return;
    const p = this.crowd.positionOf(slot, alpha);
    const m = this.crowd.motionOf(slot);
    if (m) {
      const target = Math.atan2(m[0], m[1]);
      let d = target - this.heading;
      d = Math.atan2(Math.sin(d), Math.cos(d));
      this.heading += d * 0.15;
    }
    const fx = Math.sin(this.heading), fz = Math.cos(this.heading);
    const cam = this.cameras.first;
    // Over the shoulder: the avatar stays in the lower half, the way ahead in view.
    cam.position.set(p.x - fx * 2.6, p.y + 2.9, p.z - fz * 2.6);
    cam.lookAt(p.x + fx * 9, p.y + 0.6, p.z + fz * 9);
  }

  /** Set the first-person heading from a protocol heading (radians, from +x toward +y). */
  setHeading(rad) {
    // protocol direction (cos, sin) -> world (x, z) = (cos, -sin); heading measured as atan2(x, z)
    this.heading = Math.atan2(Math.cos(rad), -Math.sin(rad));
  }

  // ------------------------------------------------------------------ WebXR

  /**
   * Present in an XR session: frames come from the session (`onFrame(time, xrFrame)`,
   * which calls frameXR). The viewer stands in a rig at one's avatar (or the middle of
   * the viewed floor); the rig only moves, so the head's world orientation is the XR one.
   */
  async startXR(session, onFrame) {
    const xr = this.renderer.xr;
    const floorSpace = Array.isArray(session.enabledFeatures) && session.enabledFeatures.includes('local-floor');
    xr.enabled = true;
    xr.setReferenceSpaceType(floorSpace ? 'local-floor' : 'local');
    this.xrLift = floorSpace ? 0 : 1.6; // 'local' starts at the head: lift it to eye height
    if (!this.rig) {
      this.rig = new THREE.Group();
      this.rig.name = 'xr-rig';
      this.xrCamera = new THREE.PerspectiveCamera(70, 1, 0.05, 2000);
      this.rig.add(this.xrCamera);
      this.scene.add(this.rig);
    }
    await xr.setSession(session);
    this.renderer.setAnimationLoop(onFrame);
  }

  stopXR() {
    this.renderer.setAnimationLoop(null);
    this.renderer.xr.enabled = false;
    this.resize();
  }

  get presenting() { return !!this.renderer.xr.isPresenting; }

  /** One XR frame (alpha: between the last two ticks, now: ms). */
  frameXR(alpha, now) {
    this.crowd.update(alpha, this.cutY ?? Infinity);
    this.crowd.arrow.visible = false;
    this.hazards?.animate(now);
    const slot = this.follow;
    if (slot >= 0 && slot < this.crowd.n) {
      const p = this.crowd.positionOf(slot, alpha);
      this.rig.position.set(p.x, p.y + this.xrLift, p.z);
    } else if (this.info) {
      const b = bounds(this.info, [this.info.floors[this.floor]]);
      this.rig.position.set((b.minX + b.maxX) / 2, this.elevations[this.floor] + this.xrLift, -(b.minY + b.maxY) / 2);
    }
    this.renderer.render(this.scene, this.xrCamera);
  }

  /** The head's orientation in the world (y-up) as [x, y, z, w], or null outside XR. */
  xrHead() {
    if (!this.presenting) return null;
    const cam = this.renderer.xr.getCamera();
    const q = new THREE.Quaternion();
    cam.matrixWorld.decompose(new THREE.Vector3(), q, new THREE.Vector3());
    return [q.x, q.y, q.z, q.w];
  }

  /** Where the viewer is, protocol [x, y, z] m: the XR head, else the camera in use. */
  viewerPosition() {
    const v = new THREE.Vector3();
    if (this.presenting) this.renderer.xr.getCamera().getWorldPosition(v);
    else this.camera.getWorldPosition(v);
    return fromWorld(v);
  }

  dispose() {
    this.clearBuilding();
    this.crowd.dispose();
    this.observer.disconnect();
    Object.values(this.controls).forEach((c) => c.dispose());
    if (this.markGeo) Object.values(this.markGeo).forEach((g) => g.dispose());
    if (this.markMats) Object.values(this.markMats).forEach((m) => m.dispose());
    this.markBase?.dispose();
    this.renderer.dispose();
    this.renderer.domElement.remove();
  }
}
