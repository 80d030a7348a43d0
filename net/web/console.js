// The instructor's console: drill control (start, pause, resume, speed, end with a
// confirmation), the inject palette (pick a kind and its parameters, then click the map),
// the scripted timeline (fire now / skip; read-only for other roles), and creating a new
// drill. Every refusal is said in words on the message line under the control that
// caused it (actions.explain turns a reply into an i18n key and arguments).

import { el, MessageLine, section } from './dom.js';
import { label, t, tr } from './i18n.js';

/** The palette's kinds: `place` ones are put on the map with a click; `radius` its default. */
export const INJECT_KINDS = [
  { kind: 'fire', place: true, radius: 2, factor: true },
  { kind: 'smoke', place: true, radius: 4, factor: true },
  { kind: 'gas', place: true, radius: 4, factor: true },
  { kind: 'flood', place: true, radius: 3, factor: true },
  { kind: 'block_exit', exit: true },
  { kind: 'unblock_exit', exit: true },
  { kind: 'power_cut', place: true, radius: 0, factor: true },
  { kind: 'alarm' },
  { kind: 'clear', hazard: true },
];

const SPEED_MIN = 0.1;
const SPEED_MAX = 10;

function round2(v) { return Math.round(v * 100) / 100; }

/** A number typed in an input, or `fallback` when it is empty. */
function numberOf(input, fallback) {
  const v = input.value.trim();
  return v === '' ? fallback : Number(v);
}

/**
 * Send through `actions` and say the outcome on `line`: the refusal in words, or
 * `okKey` (with `okArgs`) when accepted. Resolves with the reply.
 */
export async function sendSaying(actions, line, type, fields, okKey = null, okArgs = null) {
  const reply = await actions.send(type, fields, { quiet: true });
  if (reply.type === 'error') {
    const { key, args } = actions.explain(reply, type, fields);
    line.say(key, args, 'error');
  } else if (okKey) {
    line.say(okKey, okArgs, 'ok', 6000);
  } else {
    line.clear();
  }
  return reply;
}

// ------------------------------------------------------------------ control

export class ControlPanel {
  /** actions: send, explain; `report`: the element of the report link (evaluation.js). */
  constructor(actions, report) {
    this.a = actions;
    this.report = report;
    this.line = new MessageLine('control-msg');
    this.status = null;
  }

  element() {
    const b = (key, type) => el('button', {
      id: `ctl-${type}`, class: `ctl-${type}`, i18n: key, type: 'button',
      onclick: () => sendSaying(this.a, this.line, type, {}),
    });
    this.buttons = { start: b('ctl.start', 'start'), pause: b('ctl.pause', 'pause'), resume: b('ctl.resume', 'resume') };
    this.speedInput = el('input', {
      id: 'speed-input', type: 'number', min: String(SPEED_MIN), max: String(SPEED_MAX), step: '0.1',
      value: '1', 'data-i18n-title': 'ctl.speed.hint', title: t('ctl.speed.hint'),
    });
    this.speedInput.addEventListener('keydown', (ev) => { if (ev.key === 'Enter') this._speed(); });
    this.speedNow = el('span', { class: 'speed-now', i18n: ['ctl.speed.now', { x: 1 }] });
    const speedSet = el('button', { id: 'speed-set', type: 'button', i18n: 'ctl.speed.set', onclick: () => this._speed() });
    this.endButton = el('button', { id: 'ctl-end', class: 'ctl-end danger', type: 'button', i18n: 'ctl.end', onclick: () => this._askEnd(true) });
    this.confirm = el('div', { class: 'confirm', id: 'end-confirm', hidden: true },
      el('p', { i18n: 'ctl.end.confirm' }),
      el('div', { class: 'buttons' },
        el('button', { id: 'end-yes', class: 'danger', type: 'button', i18n: 'ctl.end.yes', onclick: () => this._end() }),
        el('button', { id: 'end-no', type: 'button', i18n: 'ctl.end.no', onclick: () => this._askEnd(false) })));
    return section('panel.control', { id: 'panel-control' },
      el('div', { class: 'buttons' }, this.buttons.start, this.buttons.pause, this.buttons.resume, this.endButton),
      this.confirm,
      el('div', { class: 'row speed-row' },
        el('label', { for: 'speed-input', i18n: 'ctl.speed' }), this.speedInput, speedSet, this.speedNow),
      this.line.el,
      this.report);
  }

  _speed() {
    const factor = Number(this.speedInput.value);
    // The server checks the range (and says why it refuses); a non-number is not sent.
    if (!Number.isFinite(factor) || this.speedInput.value.trim() === '') {
      this.line.say('err.speed.range', { min: SPEED_MIN, max: SPEED_MAX, message: this.speedInput.value }, 'error');
      return;
    }
    sendSaying(this.a, this.line, 'speed', { factor }, 'ctl.speed.done', { x: factor });
  }

  _askEnd(on) {
    this.confirm.hidden = !on;
    this.endButton.hidden = on;
  }

  async _end() {
    this._askEnd(false);
    await sendSaying(this.a, this.line, 'end', {}, 'ctl.end.done');
  }

  update(d) {
    if (d.status !== this.status) {
      this.status = d.status;
      const s = d.status;
      this.buttons.start.disabled = s !== 'ready';
      this.buttons.pause.disabled = s !== 'running';
      this.buttons.resume.disabled = s !== 'paused';
      this.endButton.disabled = s === 'ended'; // a finished drill may still be ended (freed)
      if (s === 'ended') this._askEnd(false);
    }
    const x = Math.round((d.speed ?? 1) * 100) / 100;
    if (this.speedNow.dataset.i18nArgs !== JSON.stringify({ x })) label(this.speedNow, 'ctl.speed.now', { x });
  }
}

// ------------------------------------------------------------------ inject palette

export class InjectPalette {
  /** actions: send, explain, placer(fn | null) (the next click on the map calls fn(point, floor)). */
  constructor(actions, scene) {
    this.a = actions;
    this.scene = scene;
    this.kind = INJECT_KINDS[0];
    this.placing = false;
    this.line = new MessageLine('inject-msg');
    this.hazardKey = '';
  }

  element() {
    this.kindButtons = INJECT_KINDS.map((k) => el('button', {
      type: 'button', class: 'kind-btn', dataset: { kind: k.kind }, i18n: `hazard.${k.kind}`,
      onclick: () => this.choose(k.kind),
    }));
    this.radius = el('input', { id: 'inject-radius', type: 'number', min: '0', max: '500', step: '0.5', value: '2' });
    this.factor = el('input', {
      id: 'inject-factor', type: 'number', min: '0.05', max: '1', step: '0.05',
      'data-i18n-placeholder': 'inject.factor.default', placeholder: t('inject.factor.default'),
    });
    this.exit = el('select', { id: 'inject-exit' });
    for (const e of this.scene.exits) this.exit.append(el('option', { value: e.id }, e.id));
    this.hazard = el('select', { id: 'inject-hazard' });
    this.note = el('input', {
      id: 'inject-note', type: 'text', maxlength: '200',
      'data-i18n-placeholder': 'inject.note.hint', placeholder: t('inject.note.hint'),
    });
    const row = (key, input, cls) => el('label', { class: `row ${cls}` }, el('span', { i18n: key }), input);
    this.rows = {
      radius: row('inject.radius', this.radius, 'row-radius'),
      factor: row('inject.factor', this.factor, 'row-factor'),
      exit: row('inject.exit', this.exit, 'row-exit'),
      hazard: row('inject.hazard', this.hazard, 'row-hazard'),
    };
    this.go = el('button', { id: 'inject-go', type: 'button', class: 'primary', onclick: () => this._go() });
    const box = section('panel.inject', { id: 'panel-inject' },
      el('div', { class: 'kinds' }, ...this.kindButtons),
      this.rows.radius, this.rows.factor, this.rows.exit, this.rows.hazard,
      row('inject.note', this.note, 'row-note'),
      this.go, this.line.el);
    this.choose('fire');
    return box;
  }

  /** Pick the palette's kind (its parameters show, the radius takes the kind's default). */
  choose(kind) {
    const k = INJECT_KINDS.find((x) => x.kind === kind) ?? INJECT_KINDS[0];
    if (this.placing) this._stopPlacing();
    this.kind = k;
    for (const b of this.kindButtons) b.classList.toggle('active', b.dataset.kind === k.kind);
    this.rows.radius.hidden = !k.place;
    this.rows.factor.hidden = !k.factor;
    this.rows.exit.hidden = !k.exit;
    this.rows.hazard.hidden = !k.hazard;
    if (k.place) this.radius.value = String(k.radius);
    this.factor.value = '';
    label(this.go, k.place ? 'inject.place' : 'inject.send');
    this.line.clear();
  }

  _go() {
    if (!this.kind.place) { this._send(this._event()); return; }
    if (this.placing) { this._stopPlacing(); this.line.clear(); return; }
    this.placing = true;
    label(this.go, 'inject.cancel');
    this.line.say('inject.placing', { kind: tr(`hazard.${this.kind.kind}`, this.kind.kind) }, 'info');
    this.a.placer((p, floor) => {
      this._stopPlacing();
      this._send(this._event(p, floor));
    });
  }

  _stopPlacing() {
    this.placing = false;
    label(this.go, this.kind.place ? 'inject.place' : 'inject.send');
    this.a.placer(null);
  }

  /** Cancelled from outside (Escape, another placing mode). */
  cancelPlacing() {
    if (this.placing) { this._stopPlacing(); this.line.clear(); }
  }

  _event(p = null, floor = 0) {
    const k = this.kind;
    const ev = { kind: k.kind };
    if (k.place && p) {
      Object.assign(ev, { floor, x: round2(p[0]), y: round2(p[1]) });
      ev.radius = numberOf(this.radius, k.radius);
    }
    if (k.factor && this.factor.value.trim() !== '') ev.factor = Number(this.factor.value);
    if (k.exit) ev.exit = this.exit.value;
    if (k.hazard) ev.id = this.hazard.value;
    const note = this.note.value.trim();
    if (note) ev.note = note;
    return ev;
  }

  async _send(ev) {
    const kind = tr(`hazard.${ev.kind}`, ev.kind);
    const ok = ev.x !== undefined ? ['inject.done.at', { kind, x: ev.x.toFixed(1), y: ev.y.toFixed(1) }]
      : ['inject.done', { kind }];
    if (ev.kind === 'clear' && !ev.id) {
      this.line.say('inject.nohazard', null, 'error');
      return null;
    }
    const r = await sendSaying(this.a, this.line, 'inject', { event: ev }, ok[0], ok[1]);
    if (r.type !== 'error') this.note.value = '';
    return r;
  }

  /** Keep the list of hazards that `clear` can end in step with the drill. */
  update(d) {
    const over = d.status === 'ended' || d.status === 'finished';
    if (this.go.disabled !== over) {
      this.go.disabled = over;
      if (over) this.cancelPlacing();
    }
    const list = d.hazards || [];
    const key = list.map((h) => `${h.id}:${h.kind}`).join(',');
    if (key === this.hazardKey) return;
    this.hazardKey = key;
    const keep = this.hazard.value;
    this.hazard.replaceChildren(...list.map((h) => el('option', { value: String(h.id) },
      `${h.id} · ${t(`hazard.${h.kind}`)}${h.exit ? ` ${h.exit}` : ''}`)));
    if (list.some((h) => String(h.id) === keep)) this.hazard.value = keep;
  }

  relabel() {
    this.hazardKey = '';
  }
}

// ------------------------------------------------------------------ scripted timeline

export class Timeline {
  /** `controls`: fire now / skip buttons (instructors of a live drill). */
  constructor(actions, controls) {
    this.a = actions;
    this.controls = controls;
    this.line = new MessageLine('script-msg');
    this.key = null;
  }

  element() {
    this.list = el('ul', { id: 'script', class: 'script' });
    return section('panel.script', { id: 'panel-script' }, this.list, this.line.el);
  }

  update(script) {
    const items = script || [];
    const key = JSON.stringify(items.map((s) => [s.index, s.state, s.time]));
    if (key === this.key) return;
    this.key = key;
    if (!items.length) {
      this.list.replaceChildren(el('li', { class: 'empty', i18n: 'script.empty' }));
      return;
    }
    this.list.replaceChildren(...items.map((s) => this._row(s)));
  }

  _row(s) {
    const where = s.exit ? ` ${s.exit}` : (typeof s.x === 'number' && typeof s.y === 'number'
      ? ` (${s.x.toFixed(0)}, ${s.y.toFixed(0)})` : '');
    const row = el('li', { class: `script-row state-${s.state}`, dataset: { index: String(s.index), state: s.state } },
      el('span', { class: 'script-when', i18n: ['script.item', { time: s.time, kind: tr(`hazard.${s.kind}`, s.kind) }] }),
      el('span', { class: 'script-where' }, where),
      el('span', { class: `script-state badge-${s.state}`, i18n: `script.state.${s.state}` }));
    if (s.note) row.title = s.note;
    if (this.controls && s.state === 'pending') {
      row.append(el('span', { class: 'script-buttons' },
        el('button', { type: 'button', class: 'script-fire', i18n: 'script.fire',
          onclick: () => sendSaying(this.a, this.line, 'script_fire', { index: s.index }, 'script.fired', { time: s.time }) }),
        el('button', { type: 'button', class: 'script-skip', i18n: 'script.skip',
          onclick: () => sendSaying(this.a, this.line, 'script_skip', { index: s.index }, 'script.skipped', { time: s.time }) })));
    }
    return row;
  }

  relabel() { this.key = null; }
}

// ------------------------------------------------------------------ a new drill

export class CreatePanel {
  constructor(actions) {
    this.a = actions;
    this.line = new MessageLine('create-msg');
  }

  element() {
    this.input = el('input', {
      id: 'create-scenario', type: 'text', maxlength: '100', list: 'create-names',
      'data-i18n-placeholder': 'create.hint', placeholder: t('create.hint'),
    });
    const names = el('datalist', { id: 'create-names' });
    for (const n of ['office', 'mall', 'school', 'mine', 'two_storey', 'corridor']) names.append(el('option', { value: n }));
    this.links = el('ul', { id: 'create-links', class: 'links' });
    this.list = el('ul', { id: 'drill-list', class: 'links' });
    return section('panel.create', { id: 'panel-create', open: false },
      el('div', { class: 'row' }, this.input, names,
        el('button', { id: 'create-go', type: 'button', i18n: 'create.go', onclick: () => this._create() })),
      this.line.el, this.links,
      el('div', { class: 'row' }, el('span', { i18n: 'drills.title' }),
        el('button', { id: 'drills-refresh', type: 'button', i18n: 'drills.refresh', onclick: () => this._list() })),
      this.list);
  }

  /** The drills this server hosts, with their status and a link per role. */
  async _list() {
    const r = await sendSaying(this.a, this.line, 'list', {}, null, {});
    if (r.type !== 'drills') return;
    if (!r.drills.length) { this.list.replaceChildren(el('li', { i18n: 'drills.none' })); return; }
    this.list.replaceChildren(...r.drills.map((d) => el('li', { class: 'drill-item' },
      el('b', {}, `${d.drill}`), ` · ${d.scenario} · `,
      el('span', { i18n: d.replay ? 'drills.replay' : `status.${d.status}` }), ' ',
      ...['instructor', 'participant', 'observer'].filter((k) => d.links && d.links[k]).flatMap((role) => [
        el('a', { href: d.links[role], target: '_blank', rel: 'noopener', class: `link-${role}`, i18n: `role.${role}` }), ' ']))));
  }

  async _create() {
    const scenario = this.input.value.trim();
    if (!scenario) { this.line.say('create.need', null, 'error'); return; }
    const r = await sendSaying(this.a, this.line, 'create', { scenario }, 'create.done', { scenario });
    if (r.type !== 'created') return;
    const links = r.links || Object.fromEntries(Object.entries(r.tokens || {}).map(([role, token]) => [role,
      `${window.location.origin}/drills/${encodeURIComponent(r.drill)}/?token=${encodeURIComponent(token)}`]));
    this.links.replaceChildren(...['instructor', 'participant', 'observer'].filter((k) => links[k]).map((role) =>
      el('li', {}, el('span', { i18n: `role.${role}` }), ' ',
        el('a', { href: links[role], target: '_blank', rel: 'noopener', class: `link-${role}` }, `${r.drill}`))));
  }
}
