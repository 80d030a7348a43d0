// Small DOM helpers shared by the panels: elements with i18n labels, collapsible
// sections, the clock, and a message line next to a control (refusals in words).

import { label } from './i18n.js';

/** An element: attrs may hold i18n (key or [key, args]), class, on<event>, dataset. */
export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'i18n') (Array.isArray(v) ? label(e, v[0], v[1]) : label(e, v));
    else if (k === 'class') e.className = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(e.dataset, v);
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(c);
  return e;
}

export function hex(n) { return `#${n.toString(16).padStart(6, '0')}`; }

/** Simulated time as mm:ss.s. */
export function clock(t) {
  const s = Math.max(0, t || 0);
  const m = Math.floor(s / 60);
  return `${String(m).padStart(2, '0')}:${(s - 60 * m).toFixed(1).padStart(4, '0')}`;
}

/** A panel that folds (a <details>): the heading is its summary; `open` by default. */
export function section(key, { id, open = true } = {}, ...body) {
  return el('details', { class: 'panel', id, open },
    el('summary', {}, el('h2', { i18n: key })), ...body);
}

/**
 * A message line under a control: `say(key, args, kind)` shows a sentence (kind ok,
 * error, info), `clear()` empties it. The text is an i18n label, so it follows the
 * language switch.
 */
export class MessageLine {
  constructor(id) {
    this.el = el('p', { class: 'ctl-msg', id, role: 'status', 'aria-live': 'polite' });
    this.timer = null;
  }

  say(key, args, kind = 'info', ms = 0) {
    clearTimeout(this.timer);
    label(this.el, key, args || undefined);
    this.el.className = `ctl-msg ctl-msg-${kind}`;
    if (ms) this.timer = setTimeout(() => this.clear(), ms);
  }

  clear() {
    clearTimeout(this.timer);
    this.el.textContent = '';
    delete this.el.dataset.i18n;
    delete this.el.dataset.i18nArgs;
    this.el.className = 'ctl-msg';
  }

  get text() { return this.el.textContent; }
}
