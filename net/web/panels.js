// The page around the 3D view: HUD, floor and camera selectors, legend, banners and
// toasts, cues (alarm beep, smoke vignette), and the side panels each role gets.
// Every visible label is set with i18n.label (data-i18n), so switching language
// re-translates the page.

import { hasKey, label, t } from './i18n.js';
import { COLOURS } from './crowd.js';
import { clock, el, hex, section } from './dom.js';
import { ControlPanel, CreatePanel, InjectPalette, Timeline } from './console.js';
import { ForecastPanel } from './forecast.js';
import { Evaluation, ReportLink } from './evaluation.js';
import { ReplayBar } from './replaybar.js';

const $ = (id) => document.getElementById(id);

function centre(poly) {
  let x = 0, y = 0;
  for (const p of poly) { x += p[0]; y += p[1]; }
  return [x / poly.length, y / poly.length];
}

/** A command log entry in words (what was done, then what it named). */
function describe(e) {
  const ev = e.event || {};
  const word = (prefix, k) => (hasKey(`${prefix}.${k}`) ? t(`${prefix}.${k}`) : k);
  const parts = {
    order_evacuation: () => [e.zone ?? e.floor ?? (e.all ? t('order.all') : '')],
    door: () => [e.id, word('door', e.action)],
    mark: () => [word('mark', e.kind)],
    inject: () => [word('hazard', ev.kind), ev.exit, ev.id,
      typeof ev.x === 'number' && typeof ev.y === 'number' ? `(${ev.x.toFixed(1)}, ${ev.y.toFixed(1)})` : null,
      ev.note ? `“${ev.note}”` : null],
    speed: () => [`${e.factor}×`],
    seek: () => [clock(e.t)],
    script_fire: () => [`#${(e.index ?? 0) + 1}`],
    script_skip: () => [`#${(e.index ?? 0) + 1}`],
  }[e.type];
  return [word('log', e.type), ...(parts ? parts() : [])]
    .filter((x) => x !== undefined && x !== null && x !== '').join(' ');
}

// ------------------------------------------------------------------ sound

let audio = null;

/** Create (or resume) the audio context; browsers allow it after a user gesture. */
export function unlockAudio() {
  try {
    audio ??= new (window.AudioContext || window.webkitAudioContext)();
    if (audio.state === 'suspended') audio.resume().catch(() => {});
  } catch { audio = null; }
}

/** Three short alarm beeps (WebAudio; no sound file). */
export function beep() {
  unlockAudio();
  if (!audio) return;
  const t0 = audio.currentTime + 0.02;
  for (let i = 0; i < 3; i++) {
    const osc = audio.createOscillator(), gain = audio.createGain();
    osc.type = 'square';
    osc.frequency.setValueAtTime(880, t0 + i * 0.45);
    osc.frequency.linearRampToValueAtTime(660, t0 + i * 0.45 + 0.3);
    gain.gain.setValueAtTime(0.0001, t0 + i * 0.45);
    gain.gain.exponentialRampToValueAtTime(0.15, t0 + i * 0.45 + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, t0 + i * 0.45 + 0.35);
    osc.connect(gain).connect(audio.destination);
    osc.start(t0 + i * 0.45);
    osc.stop(t0 + i * 0.45 + 0.4);
  }
}

// ------------------------------------------------------------------ panels

export class Panels {
  /**
   * actions: send(type, fields, {quiet}) -> Promise(reply), explain(reply, type, fields)
   * -> {key, args}, placer(fn|null) (the next map click), setFloor(i), setCamera(name),
   * markMode(kind|null), stop().
   */
  constructor(actions) {
    this.a = actions;
    this.welcome = null;
    this.doorRows = new Map();
    this.lastDoorSort = 0;
    this.logKey = '';
    this.banners = new Map();
    /** The parts of the side panel that follow the state: console, timeline, evaluation… */
    this.parts = [];
    this.lastYou = null;
  }

  /** Build the HUD and panels for a `welcome`. */
  build(w) {
    this.welcome = w;
    const scene = w.scene;
    $('drill-name').textContent = `${scene.name} · ${w.drill}`;
    label($('role-badge'), `role.${w.role}`);
    $('role-badge').className = `badge role-${w.role}`;
    if (w.name) $('me-name').textContent = w.name; else $('me-name').textContent = '';
    this._hud(w);
    this._viewbar(w);
    this._legend(w);
    const side = $('side');
    side.replaceChildren();
    side.className = `side-${w.role}`;
    this.doorRows.clear();
    this.parts = [];
    this.control = this.palette = this.timeline = this.evaluation = this.replayBar = null;
    this.forecast = null;
    $('replaybar')?.remove();
    document.body.classList.remove('replaying');
    // A replay's welcome has its time range (`replay`); older servers said it in the snapshot.
    const replay = !!(w.replay || w.snapshot?.replay);
    const watcher = w.role !== 'participant';
    this.report = watcher && !replay ? new ReportLink() : null;
    if (w.role === 'participant') {
      side.append(this._movePanel(), this._orderPanel(scene), this._doorPanel(scene),
        this._reportPanel(), this._markPanel());
    }
    if (w.role === 'instructor' && !replay) {
      this.control = this._part(new ControlPanel(this.a, this.report.el));
      this.palette = this._part(new InjectPalette(this.a, scene));
      this.forecast = this._part(new ForecastPanel(this.a));
      side.append(this.control.element(), this.palette.element(), this.forecast.element());
    }
    const timeline = () => {
      if ((w.role === 'participant' && w.blind) || !Array.isArray(w.script)) return [];
      this.timeline = this._part(new Timeline(this.a, w.role === 'instructor' && !replay));
      return [this.timeline.element()];
    };
    if (!watcher) side.append(...timeline());
    else {
      // The evaluator's view comes first, unfolded, for observers and in a replay; an
      // instructor running a drill has it below the timeline, folded.
      const first = w.role === 'observer' || replay;
      this.evaluation = this._part(new Evaluation(scene, {
        open: first, report: w.role === 'observer' && this.report ? this.report.el : null, replay,
      }));
      const evaluation = this.evaluation.elements();
      if (first) side.append(...evaluation, ...timeline());
      else side.append(...timeline(), ...evaluation);
      side.append(this._logPanel());
    }
    if (w.role === 'instructor') side.append(this._part(new CreatePanel(this.a)).element());
    if (replay) {
      const range = w.replay || { start: 0, end: null };
      this.replayBar = this._part(new ReplayBar(this.a, range, w.role === 'instructor'));
      $('view').append(this.replayBar.element());
      document.body.classList.add('replaying');
    }
  }

  /** Remember a part of the panel that follows the state (update) and the language (relabel). */
  _part(p) {
    this.parts.push(p);
    return p;
  }

  /** The report link: 'waiting', 'none' or its url (instructors and observers). */
  setReport(state) { this.report?.show(state); }

  _hud(w) {
    const hud = $('hud');
    const item = (key, id) => el('div', { class: 'hud-item' }, el('span', { class: 'hud-label', i18n: key }),
      el('span', { class: 'hud-value', id }));
    hud.replaceChildren(item('hud.time', 'hud-t'), item('hud.status', 'hud-status'),
      item('hud.inside', 'hud-inside'), item('hud.evacuated', 'hud-evacuated'));
    if (w.role === 'participant') hud.append(item('hud.you', 'hud-you'));
    else hud.append(item('hud.speed', 'hud-speed'));
  }

  _viewbar(w) {
    const floors = $('floors');
    floors.replaceChildren(el('span', { class: 'bar-label', i18n: 'view.floor' }));
    this.floorCounts = [];
    this.floorKey = '';
    // Several floors: "all" draws the whole building; a floor draws (and receives) only its
    // people. Each button says how many are inside on it (floor_counts), drawn or not.
    if (w.scene.floors.length > 1) {
      const n = el('span', { class: 'floor-n', id: 'floor-n-all' });
      floors.append(el('button', {
        class: 'floor-btn floor-all', id: 'floor-all', dataset: { floor: 'all' }, onclick: () => this.a.setFloor(null),
      }, el('span', { i18n: 'view.allfloors' }), n));
      this.floorCounts.push({ floor: null, n, btn: n.parentNode });
    }
    w.scene.floors.forEach((f, i) => {
      const n = el('span', { class: 'floor-n', id: `floor-n-${i}` });
      const btn = el('button', { class: 'floor-btn', dataset: { floor: String(i) }, onclick: () => this.a.setFloor(i) },
        el('span', { class: 'floor-id' }, f.id), n);
      floors.append(btn);
      this.floorCounts.push({ floor: i, id: f.id, n, btn });
    });
    const cams = $('cameras');
    cams.replaceChildren(el('span', { class: 'bar-label', i18n: 'view.camera' }));
    for (const c of ['overview', 'plan', 'first']) {
      if (c === 'first' && w.role !== 'participant') continue;
      cams.append(el('button', { class: 'cam-btn', dataset: { camera: c }, i18n: `cam.${c}`, onclick: () => this.a.setCamera(c) }));
    }
  }

  _legend(w) {
    const row = (colour, key) => el('div', { class: 'legend-row' },
      el('span', { class: 'swatch', style: `background:${hex(colour)}` }), el('span', { i18n: key }));
    const items = [row(COLOURS.waiting, 'legend.waiting'), row(COLOURS.moving, 'legend.moving'),
      row(COLOURS.stair, 'legend.stair')];
    if (w.role === 'participant') items.push(row(COLOURS.me, 'legend.me'));
    items.push(row(COLOURS.others, 'legend.others'), row(0x1fbf4a, 'legend.exit'), row(0xe02424, 'legend.closed'));
    $('legend').replaceChildren(...items);
  }

  _panel(key, ...body) {
    return section(key, {}, ...body);
  }

  async _do(type, fields, okKey) {
    const reply = await this.a.send(type, fields);
    if (reply.type !== 'error' && okKey) this.toast(t(okKey), 'ok', okKey);
    return reply;
  }

  _movePanel() {
    return this._panel('panel.move', el('p', { class: 'help', i18n: 'move.help' }),
      el('button', { id: 'move-stop', i18n: 'move.stop', onclick: () => this.a.stop() }));
  }

  _orderPanel(scene) {
    const sel = el('select', { id: 'order-target' });
    for (const z of scene.zones || []) sel.append(el('option', { value: `zone:${z.id}`, i18n: ['order.zone', { id: z.id }] }));
    for (const f of scene.floors) sel.append(el('option', { value: `floor:${f.id}`, i18n: ['order.floor', { id: f.id }] }));
    sel.append(el('option', { value: 'all:', i18n: 'order.all' }));
    const go = () => {
      const [kind, id] = sel.value.split(/:(.*)/s);
      const fields = kind === 'all' ? { all: true } : { [kind]: id };
      this._do('order_evacuation', fields, 'cue.ack');
    };
    return this._panel('panel.order', sel, el('button', { id: 'order-send', i18n: 'order.send', onclick: go }));
  }

  _doorPanel(scene) {
    const list = el('div', { id: 'doors', class: 'doors' });
    scene.exits.forEach((e, i) => {
      const state = el('span', { class: 'door-state' });
      const dist = el('span', { class: 'door-dist' });
      const btn = el('button', { class: 'door-btn', dataset: { exit: e.id } });
      btn.addEventListener('click', () => {
        const open = this.exits?.[i] !== false;
        this._do('door', { id: e.id, action: open ? 'close' : 'open' }, 'cue.ack');
      });
      const row = el('div', { class: 'door-row', dataset: { exit: e.id } }, el('span', { class: 'door-id' }, e.id), state, dist, btn);
      this.doorRows.set(e.id, { row, state, dist, btn, index: i, centre: centre(e.polygon), floor: e.floor });
      list.append(row);
    });
    return this._panel('panel.doors', list);
  }

  _reportPanel() {
    const text = el('textarea', { id: 'report-text', rows: '3', maxlength: '2000', 'data-i18n-placeholder': 'report.hint' });
    text.placeholder = t('report.hint');
    const send = async () => {
      const v = text.value.trim();
      if (!v) return;
      const r = await this._do('report', { text: v }, 'report.sent');
      if (r.type !== 'error') text.value = '';
    };
    return this._panel('panel.report', text, el('button', { id: 'report-send', i18n: 'report.send', onclick: send }));
  }

  _markPanel() {
    const sel = el('select', { id: 'mark-kind' });
    for (const k of ['injured', 'fire', 'blocked', 'other']) sel.append(el('option', { value: k, i18n: `mark.${k}` }));
    const btn = el('button', { id: 'mark-place', i18n: 'mark.place' });
    btn.addEventListener('click', () => {
      const on = !this.placing;
      this.setPlacing(on ? sel.value : null);
      this.a.markMode(on ? sel.value : null);
    });
    this.markButton = btn;
    return this._panel('panel.marks', sel, btn);
  }

  /** Show whether the next click on the map places a mark. */
  setPlacing(kind) {
    this.placing = kind;
    if (!this.markButton) return;
    label(this.markButton, kind ? 'mark.cancel' : 'mark.place');
    document.body.classList.toggle('placing', !!kind);
    if (kind) this.toast(t('mark.placing'), 'info', 'mark.placing');
  }

  _logPanel() {
    this.reportList = el('ul', { id: 'reports', class: 'log' });
    this.logList = el('ul', { id: 'log', class: 'log' });
    const wrap = el('div', { class: 'logs' });
    wrap.append(section('panel.reports', { id: 'panel-reports' }, this.reportList),
      section('panel.log', { id: 'panel-log' }, this.logList));
    return wrap;
  }

  // ------------------------------------------------------------------ per tick

  /** Refresh the HUD and panels from the drill state (`d`: protocol.js DrillState). */
  update(d, you) {
    this.lastYou = you;
    const set = (id, v) => { const e = $(id); if (e && e.textContent !== v) e.textContent = v; };
    set('hud-t', clock(d.t));
    const st = $('hud-status');
    if (st && st.dataset.i18n !== `status.${d.status}`) label(st, `status.${d.status}`);
    // The people inside and out are the server's counts: the agents received may be only
    // those of the floor shown (`subscribe`).
    set('hud-inside', String(d.inside));
    set('hud-evacuated', String(Number.isFinite(d.evacuated) ? d.evacuated : Math.max(0, d.total - d.inside)));
    this._updateFloorCounts(d);
    const youEl = $('hud-you');
    if (youEl && you) {
      if (youEl.dataset.i18n !== you.key || youEl.dataset.i18nArgs !== (you.args ? JSON.stringify(you.args) : undefined)) {
        label(youEl, you.key, you.args);
      }
    }
    set('hud-speed', `${Math.round((d.speed ?? 1) * 100) / 100}×`);
    this.exits = d.exits;
    this.lastState = d;
    this._updateDoors(d.exits, you?.pos, you?.floor);
    if (this.logList) this._updateLog(d);
    this.timeline?.update(d.script);
    for (const p of this.parts) if (p !== this.timeline) p.update?.(d);
  }

  /** The number of people inside on each floor, on the floor buttons (with a tooltip). */
  _updateFloorCounts(d) {
    if (!this.floorCounts?.length) return;
    const counts = Array.isArray(d.floor_counts) ? d.floor_counts : null;
    const key = counts ? counts.join(',') : '';
    if (key === this.floorKey) return;
    this.floorKey = key;
    for (const f of this.floorCounts) {
      const n = !counts ? null : f.floor === null ? d.inside : (counts[f.floor] ?? 0);
      f.n.textContent = n === null ? '' : String(n);
      if (n === null) {
        delete f.btn.dataset.i18nTitle; delete f.btn.dataset.i18nArgs; f.btn.removeAttribute('title');
        continue;
      }
      const tkey = f.floor === null ? 'view.allfloors.count' : 'view.floor.count';
      const args = f.floor === null ? { n } : { floor: f.id, n };
      f.btn.dataset.i18nTitle = tkey;
      f.btn.dataset.i18nArgs = JSON.stringify(args);
      f.btn.title = t(tkey, args);
    }
  }

  _updateDoors(exits, pos, floor) {
    if (!this.doorRows.size) return;
    for (const r of this.doorRows.values()) {
      const open = exits?.[r.index] !== false;
      const key = open ? 'door.isopen' : 'door.isclosed';
      if (r.state.dataset.i18n !== key) {
        label(r.state, key);
        r.row.classList.toggle('closed', !open);
        label(r.btn, open ? 'door.close' : 'door.open');
      }
    }
    const now = performance.now();
    if (!pos || now - this.lastDoorSort < 1000) return;
    this.lastDoorSort = now;
    const rows = [...this.doorRows.values()];
    for (const r of rows) {
      r.d = Math.hypot(r.centre[0] - pos[0], r.centre[1] - pos[1]) + (r.floor === floor ? 0 : 1e6);
      const args = { d: r.d < 1e5 ? r.d.toFixed(0) : '—' };
      if (r.dist.dataset.i18nArgs !== JSON.stringify(args)) label(r.dist, 'door.dist', args);
    }
    rows.sort((a, b) => a.d - b.d);
    const list = $('doors');
    if (rows.some((r, i) => list.children[i] !== r.row)) list.replaceChildren(...rows.map((r) => r.row));
  }

  _updateLog(d) {
    const key = `${d.reports.length}:${d.log.length}:${d.log.at(-1)?.tick}:${d.reports.at(-1)?.t}`;
    if (key === this.logKey) return;
    this.logKey = key;
    const line = (e) => {
      const who = e.name ? `${e.name}` : `#${e.by ?? '?'}`;
      const what = e.text ?? describe(e);
      return el('li', {}, el('span', { class: 'log-t' }, clock(e.t)), ` ${who}: ${what}`);
    };
    const fill = (ul, items) => {
      if (!items.length) ul.replaceChildren(el('li', { class: 'empty', i18n: 'log.empty' }));
      else ul.replaceChildren(...items.slice(-60).reverse().map(line));
    };
    fill(this.reportList, d.reports);
    fill(this.logList, d.log);
  }

  /** After a language switch: texts built from data (the logs) are written again. */
  relabel() {
    this.logKey = '';
    for (const p of this.parts || []) p.relabel?.();
    if (this.lastState) this.update(this.lastState, this.lastYou);
  }

  /** Mark the floor (null: all floors) and camera buttons in use. */
  showView(floor, camera) {
    const single = !document.querySelector('.floor-all'); // one floor: its button is the building
    for (const b of document.querySelectorAll('.floor-btn')) {
      const on = single || (b.dataset.floor === 'all' ? floor === null : floor !== null && Number(b.dataset.floor) === floor);
      b.classList.toggle('active', on);
    }
    for (const b of document.querySelectorAll('.cam-btn')) b.classList.toggle('active', b.dataset.camera === camera);
  }

  // ------------------------------------------------------------------ messages

  /** A short message at the bottom of the view (kind: ok, info, error); fades out. */
  toast(text, kind = 'info', key = null, args = null) {
    const box = $('toasts');
    const e = el('div', { class: `toast toast-${kind}` });
    if (key) label(e, key, args); else e.textContent = text;
    box.append(e);
    while (box.children.length > 4) box.firstChild.remove();
    setTimeout(() => e.classList.add('fade'), 5000);
    setTimeout(() => e.remove(), 6000);
  }

  /** A banner at the top of the view, kept until `hideBanner(id)` or `ms` elapse. */
  banner(id, key, args, kind = 'warn', ms = 0) {
    let b = this.banners.get(id);
    if (!b) {
      b = el('div', { class: `banner banner-${kind}`, dataset: { banner: id } });
      $('banners').append(b);
      this.banners.set(id, b);
    }
    label(b, key, args);
    clearTimeout(b._timer);
    if (ms) b._timer = setTimeout(() => this.hideBanner(id), ms);
  }

  hideBanner(id) {
    const b = this.banners.get(id);
    if (b) { b.remove(); this.banners.delete(id); }
  }

  /** The alarm: banner and beeps (announced at most once every 3 s). */
  alarm() {
    const now = performance.now();
    if (now - (this.lastAlarm ?? -1e9) < 3000) return;
    this.lastAlarm = now;
    this.banner('alarm', 'cue.alarm.text', null, 'alarm', 15000);
    beep();
  }

  smoke(on) {
    $('vignette').classList.toggle('on', on);
    if (on) this.banner('smoke', 'cue.smoke', null, 'smoke');
    else this.hideBanner('smoke');
  }
}
