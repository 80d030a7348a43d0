// The instructor's forecast: ask the server how the evacuation will go on from now
// (`forecast`), follow its progress (`forecast_progress`) and show the answer
// (`forecast_result`): the remaining time P50 / P95 over the runs, the exits that will run
// at capacity and the floors that clear last. Only instructors get these messages.

import { clock, el, MessageLine, section } from './dom.js';
import { label } from './i18n.js';
import { sendSaying } from './console.js';

const RUNS_MIN = 1;
const RUNS_MAX = 64;
const SHOWN_FLOORS = 3;

export class ForecastPanel {
  /** actions: send, explain. */
  constructor(actions) {
    this.a = actions;
    this.line = new MessageLine('forecast-msg');
    this.last = null;
  }

  element() {
    this.runsInput = el('input', {
      id: 'forecast-runs', type: 'number', min: String(RUNS_MIN), max: String(RUNS_MAX), step: '1', value: '8',
    });
    this.order = el('input', { id: 'forecast-order', type: 'checkbox' });
    this.ask = el('button', { id: 'forecast-ask', type: 'button', i18n: 'fc.ask', onclick: () => this._ask() });
    this.status = el('p', { id: 'forecast-status', class: 'muted', role: 'status', 'aria-live': 'polite' });
    this.out = el('div', { id: 'forecast-result', hidden: true });
    return section('panel.forecast', { id: 'panel-forecast' },
      el('p', { class: 'muted', i18n: 'fc.about' }),
      el('div', { class: 'row' },
        el('label', { for: 'forecast-runs', i18n: 'fc.runs' }), this.runsInput, this.ask),
      el('label', { class: 'row fc-order' }, this.order, el('span', { i18n: 'fc.order' })),
      this.line.el, this.status, this.out);
  }

  async _ask() {
    const runs = Number(this.runsInput.value);
    if (!Number.isInteger(runs) || runs < RUNS_MIN || runs > RUNS_MAX) {
      this.line.say('fc.runs.range', { min: RUNS_MIN, max: RUNS_MAX }, 'error');
      return;
    }
    const fields = { runs };
    if (this.order.checked) fields.order = true;
    const reply = await sendSaying(this.a, this.line, 'forecast', fields);
    if (reply.type !== 'error') {
      this.ask.disabled = true;
      label(this.status, 'fc.queued', { runs });
    }
  }

  /** A `forecast_progress` message. */
  progress(m) {
    this.ask.disabled = true;
    const r = m.remaining_s;
    if (r) {
      label(this.status, m.by === 'inject' ? 'fc.early.auto' : 'fc.early',
        { done: m.done, runs: m.runs, t: clock(m.t), p50: r.p50, p95: r.p95 });
    } else {
      label(this.status, m.by === 'inject' ? 'fc.running.auto' : 'fc.running',
        { done: m.done, runs: m.runs, t: clock(m.t) });
    }
  }

  /** An `error` of a forecast that could not be made (reason forecast_failed). */
  failed(m) {
    this.ask.disabled = false;
    this.status.textContent = '';
    const { key, args } = this.a.explain(m, 'forecast');
    this.line.say(key, args, 'error');
  }

  /** A `forecast_result` message. */
  result(m) {
    this.last = m;
    this.ask.disabled = false;
    label(this.status, 'fc.took', { s: m.wall_s, t: clock(m.t) });
    const n = m.runs - m.failed.length;
    const rows = [];
    const r = m.remaining_s;
    rows.push(el('p', { class: 'fc-head', i18n: ['fc.head', { t: clock(m.t) }] }));
    if (r) {
      rows.push(el('p', { class: 'fc-remaining', id: 'forecast-remaining' },
        el('strong', { i18n: ['fc.p', { p50: r.p50, p95: r.p95 }] }),
        el('span', { class: 'muted', i18n: ['fc.range', { n: m.finished, min: r.min, max: r.max }] })));
    } else {
      rows.push(el('p', { class: 'fc-remaining', id: 'forecast-remaining', i18n: 'fc.none' }));
    }
    if (m.not_out) rows.push(el('p', { class: 'warn', i18n: ['fc.notout', { n: m.not_out, h: m.horizon }] }));
    if (m.held) rows.push(el('p', { class: 'warn', i18n: ['fc.held', { n: m.held }] }));
    if (m.failed.length) rows.push(el('p', { class: 'warn', i18n: ['fc.failed', { n: m.failed.length }] }));
    const sat = m.exits.filter((e) => e.saturated_runs > 0);
    rows.push(el('h3', { i18n: 'fc.exits' }));
    rows.push(sat.length
      ? el('ul', { id: 'forecast-exits' }, ...sat.map((e) => el('li', {
        i18n: ['fc.exit', {
          exit: e.id, runs: e.saturated_runs, n, from: clock(e.saturated_from_s),
          dur: e.saturated_s_p50, people: e.people_p50,
        }],
      })))
      : el('p', { id: 'forecast-exits', class: 'muted', i18n: 'fc.noexit' }));
    const floors = m.floors.filter((f) => !f.clear_now).slice(0, SHOWN_FLOORS);
    rows.push(el('h3', { i18n: 'fc.floors' }));
    rows.push(el('ol', { id: 'forecast-floors' }, ...floors.map((f) => el('li', {
      i18n: f.clear_p95 !== null
        ? ['fc.floor', { floor: f.id, p50: clock(f.clear_p50), p95: clock(f.clear_p95) }]
        : ['fc.floor.open', { floor: f.id, cleared: f.cleared_runs, n }],
    }))));
    this.out.replaceChildren(...rows);
    this.out.hidden = false;
  }

  update() {}
}
