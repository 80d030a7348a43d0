// The evaluator's view (评估): the evacuation curve (people out over simulated time, a
// small canvas chart from the snapshot's `curve` and the deltas), people out by each exit
// (`exit_counts`), the plan's steps turning met or missed (`plan`), and the link to the
// evaluation report once the server has written it (info.json `report`).

import { clock, el, section } from './dom.js';
import { label, t, tr } from './i18n.js';

const CHART_H = 140;
const INK = '#1c2430';
const GRID = '#e3e7ee';
const LINE = '#1769d1';
const TOTAL = '#9aa4b2';

/** A "nice" step for `span` split in about `n` parts (1, 2 or 5 × 10^k). */
function niceStep(span, n) {
  const raw = Math.max(span / n, 1e-9);
  const p = 10 ** Math.floor(Math.log10(raw));
  const m = raw / p;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
}

/** Draw the curve ([[t, n], …] plus the point now) on a 2D canvas of css size w × h. */
export function drawCurve(canvas, curve, now, total) {
  const dpr = Math.min(window.devicePixelRatio || 1, 2);
  const w = canvas.clientWidth || 270, h = canvas.clientHeight || CHART_H;
  if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
  }
  const g = canvas.getContext('2d');
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.clearRect(0, 0, w, h);
  const pts = now ? [...curve, now] : curve;
  const tMax = Math.max(30, ...pts.map((p) => p[0]));
  const nMax = Math.max(1, total || 0, ...pts.map((p) => p[1]));
  const L = 34, R = 8, T = 8, B = 20;
  const X = (v) => L + (v / tMax) * (w - L - R);
  const Y = (v) => h - B - (v / nMax) * (h - T - B);
  g.font = '10px system-ui, sans-serif';
  g.lineWidth = 1;
  g.strokeStyle = GRID;
  g.fillStyle = INK;
  g.textAlign = 'center';
  g.textBaseline = 'top';
  const ts = niceStep(tMax, 5);
  for (let v = 0; v <= tMax + 1e-9; v += ts) {
    g.beginPath(); g.moveTo(X(v), T); g.lineTo(X(v), h - B); g.stroke();
    g.fillText(String(Math.round(v)), X(v), h - B + 4);
  }
  g.textAlign = 'right';
  g.textBaseline = 'middle';
  const ns = niceStep(nMax, 4);
  for (let v = 0; v <= nMax + 1e-9; v += ns) {
    g.beginPath(); g.moveTo(L, Y(v)); g.lineTo(w - R, Y(v)); g.stroke();
    g.fillText(String(Math.round(v)), L - 4, Y(v));
  }
  if (total) {
    g.setLineDash([4, 3]);
    g.strokeStyle = TOTAL;
    g.beginPath(); g.moveTo(L, Y(total)); g.lineTo(w - R, Y(total)); g.stroke();
    g.setLineDash([]);
  }
  g.strokeStyle = INK;
  g.beginPath(); g.moveTo(L, T); g.lineTo(L, h - B); g.lineTo(w - R, h - B); g.stroke();
  if (pts.length) { // over the axes: the curve starts along the time axis
    g.strokeStyle = LINE;
    g.lineWidth = 2;
    g.beginPath();
    pts.forEach((p, i) => (i ? g.lineTo(X(p[0]), Y(p[1])) : g.moveTo(X(p[0]), Y(p[1]))));
    g.stroke();
  }
}

// ------------------------------------------------------------------ report link

/** "评估报告": waiting while the server writes it, then a link. */
export class ReportLink {
  constructor() {
    this.url = null;
    this.link = el('a', { id: 'report-link', target: '_blank', rel: 'noopener', i18n: 'report.open', hidden: true });
    this.note = el('span', { id: 'report-note', class: 'muted' });
    this.el = el('div', { class: 'report-row', id: 'report-row', hidden: true }, this.link, this.note);
  }

  /** state: 'waiting' (the drill is over, no report yet), 'none' (none will come), or the url. */
  show(state) {
    this.el.hidden = false;
    if (state === 'waiting' || state === 'none') {
      this.link.hidden = true;
      label(this.note, state === 'waiting' ? 'report.waiting' : 'report.none');
      return;
    }
    this.url = state;
    this.link.href = state;
    this.link.hidden = false;
    label(this.note, 'report.ready');
  }
}

// ------------------------------------------------------------------ the view

export class Evaluation {
  /** `scene`: welcome.scene; `open`: sections unfolded; `report`: a ReportLink element or null; `replay`. */
  constructor(scene, { open = true, report = null, replay = false } = {}) {
    this.scene = scene;
    this.replay = replay;
    this.open = open;
    this.report = report;
    this.drawnKey = '';
    this.lastDraw = 0;
    this.exitKey = '';
    this.planKey = '';
  }

  elements() {
    this.canvas = el('canvas', { id: 'curve', class: 'curve', width: '270', height: String(CHART_H) });
    this.caption = el('p', { class: 'curve-caption', id: 'curve-caption' });
    const curve = section('panel.curve', { id: 'panel-curve', open: this.open },
      this.canvas,
      el('p', { class: 'chart-axes muted', i18n: 'curve.axes' }),
      this.caption, this.report);
    this.exitRows = new Map();
    const table = el('table', { class: 'exits', id: 'exit-counts' },
      el('thead', {}, el('tr', {}, el('th', { i18n: 'exits.exit' }), el('th', { i18n: 'exits.out' }), el('th', {}),
        el('th', { i18n: 'exits.state' }))));
    const body = el('tbody', {});
    this.scene.exits.forEach((e, i) => {
      const n = el('td', { class: 'num' }, '—');
      const bar = el('span', { class: 'bar' });
      const state = el('td', { class: 'exit-state' });
      const tr = el('tr', { dataset: { exit: e.id } }, el('td', { class: 'exit-id' }, e.id), n, el('td', { class: 'bar-cell' }, bar), state);
      this.exitRows.set(i, { n, bar, state, tr });
      body.append(tr);
    });
    table.append(body);
    const exits = section('panel.exits', { id: 'panel-exits', open: this.open }, table);
    this.planList = el('ul', { id: 'plan', class: 'plan' });
    const plan = section('panel.plan', { id: 'panel-plan', open: this.open }, this.planList);
    return [curve, exits, plan];
  }

  update(d) {
    const evacuated = d.evacuated ?? 0;
    const now = [d.t, evacuated];
    const key = `${d.curve.length}:${evacuated}:${d.total}:${Math.floor(d.t * 2)}`;
    const ms = performance.now();
    if (key !== this.drawnKey && ms - this.lastDraw > 200 && this.canvas.isConnected && this.canvas.clientWidth) {
      this.drawnKey = key;
      this.lastDraw = ms;
      drawCurve(this.canvas, d.curve, now, d.total);
    }
    const args = { n: evacuated, total: d.total, t: clock(d.t) };
    if (this.caption.dataset.i18nArgs !== JSON.stringify(args)) label(this.caption, 'curve.caption', args);
    this._exits(d);
    this._plan(d.plan);
  }

  _exits(d) {
    const counts = d.exit_counts;
    const key = JSON.stringify([counts, d.exits]);
    if (key === this.exitKey) return;
    this.exitKey = key;
    const max = Math.max(1, ...(counts || [0]));
    for (const [i, r] of this.exitRows) {
      const c = counts ? counts[i] ?? 0 : null;
      r.n.textContent = c === null ? '—' : String(c);
      r.bar.style.width = `${c === null ? 0 : Math.round((60 * c) / max)}px`;
      const open = d.exits?.[i] !== false;
      label(r.state, open ? 'door.isopen' : 'door.isclosed');
      r.tr.classList.toggle('closed', !open);
    }
  }

  _plan(plan) {
    const steps = plan || [];
    const key = JSON.stringify(steps.map((s) => [s.id, s.state, s.achieved_s, s.deadline_s]));
    if (key === this.planKey) return;
    this.planKey = key;
    if (!steps.length) {
      // A replay does not judge the plan as it goes: the evaluation report does.
      this.planList.replaceChildren(el('li', { class: 'empty', i18n: this.replay ? 'plan.replay' : 'plan.empty' }));
      return;
    }
    this.planList.replaceChildren(...steps.map((s) => {
      const state = s.state || 'pending';
      const when = state === 'met' && typeof s.achieved_s === 'number'
        ? ['plan.met.at', { t: s.achieved_s.toFixed(1) }]
        : state === 'missed' ? ['plan.state.missed'] : ['plan.state.pending'];
      const deadline = typeof s.deadline_s === 'number'
        ? ['plan.deadline.at', { within: s.within, after: tr(`plan.after.${s.after}`, s.after), t: s.deadline_s.toFixed(0) }]
        : ['plan.deadline', { within: s.within, after: tr(`plan.after.${s.after}`, s.after) }];
      return el('li', { class: `plan-step plan-${state}`, dataset: { id: String(s.id), state } },
        el('div', { class: 'plan-head' },
          el('span', { class: 'plan-id' }, String(s.id)),
          el('span', { class: 'plan-role' }, s.role && s.role !== '—' ? s.role : ''),
          el('span', { class: `plan-state badge-${state}`, i18n: when })),
        el('div', { class: 'plan-text' }, s.text || s.action || ''),
        el('div', { class: 'plan-deadline muted', i18n: deadline }));
    }));
  }

  relabel() {
    this.drawnKey = '';
    this.planKey = '';
    this.exitKey = '';
  }
}
