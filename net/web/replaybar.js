// Replay controls (a recorded drill, `snapshot.replay`): a time slider from the
// recording's start to its end (seek on release), play / pause, and the playback speed.
// Only instructors control a replay; everyone else sees the same bar read-only.

import { clock, el, MessageLine } from './dom.js';
import { label, t } from './i18n.js';
import { sendSaying } from './console.js';

const SPEEDS = [0.25, 0.5, 1, 2, 4, 10];

export class ReplayBar {
  /** actions: send, explain; range {start, end} (s, end null when unknown); canControl. */
  constructor(actions, range, canControl) {
    this.a = actions;
    this.start = range.start ?? 0;
    this.end = range.end ?? null;
    this.can = canControl;
    this.dragging = false;
    /** false, or the number of snapshots seen when a seek went out (it ends with the next one). */
    this.seeking = false;
    this.snapshots = 0;
    this.line = new MessageLine('replay-msg');
    this.status = null;
  }

  element() {
    this.play = el('button', { id: 'replay-play', type: 'button', class: 'replay-play', onclick: () => this._toggle() });
    this.slider = el('input', {
      id: 'replay-slider', type: 'range', min: String(this.start), max: String(this.end ?? this.start + 1),
      step: '0.1', value: String(this.start), 'data-i18n-title': 'replay.slider', title: t('replay.slider'),
      disabled: !this.can,
    });
    this.slider.addEventListener('input', () => { this.dragging = true; this._showTime(Number(this.slider.value)); });
    this.slider.addEventListener('change', () => this._seek(Number(this.slider.value)));
    this.now = el('span', { class: 'replay-now', id: 'replay-now' }, clock(this.start));
    this.total = el('span', { class: 'replay-end', id: 'replay-end' }, this.end !== null ? clock(this.end) : '—');
    this.speed = el('select', { id: 'replay-speed', disabled: !this.can, 'data-i18n-title': 'replay.speed', title: t('replay.speed') });
    for (const x of SPEEDS) this.speed.append(el('option', { value: String(x) }, `${x}×`));
    this.speed.value = '1';
    this.speed.addEventListener('change', () => sendSaying(this.a, this.line, 'speed', { factor: Number(this.speed.value) }));
    const bar = el('div', { id: 'replaybar', class: this.can ? 'replaybar' : 'replaybar readonly' },
      el('span', { class: 'replay-label', i18n: 'replay.label' }),
      this.play, this.now, this.slider, this.total,
      el('label', { class: 'replay-speed' }, el('span', { i18n: 'replay.speed' }), this.speed));
    if (!this.can) bar.append(el('span', { class: 'muted replay-ro', i18n: 'replay.readonly' }));
    bar.append(this.line.el);
    this.play.disabled = !this.can;
    label(this.play, 'replay.pause');
    this.bar = bar;
    return bar;
  }

  _showTime(t) { this.now.textContent = clock(t); }

  async _seek(t) {
    // The snapshot at the new time follows the ack; until it comes the slider stays put.
    this.seeking = this.snapshots;
    const r = await sendSaying(this.a, this.line, 'seek', { t });
    this.dragging = false;
    if (r.type === 'error') this.seeking = false;
  }

  async _toggle() {
    const s = this.status;
    if (s === 'running') { await sendSaying(this.a, this.line, 'pause', {}); return; }
    if (s === 'finished') {
      const r = await sendSaying(this.a, this.line, 'seek', { t: this.start });
      if (r.type === 'error') return;
      this.slider.value = String(this.start);
      await new Promise((res) => setTimeout(res, 250)); // the seek is applied at the next tick
    }
    await sendSaying(this.a, this.line, 'resume', {});
  }

  update(d) {
    if (this.end === null || d.t > this.end) {
      // An older server did not say where the recording ends: the slider grows with it.
      this.end = Math.max(this.end ?? 0, d.t);
      this.slider.max = String(this.end);
      this.total.textContent = clock(this.end);
    }
    if (d.status !== this.status) {
      this.status = d.status;
      label(this.play, d.status === 'running' ? 'replay.pause' : d.status === 'finished' ? 'replay.again' : 'replay.play');
      this.play.classList.toggle('playing', d.status === 'running');
      this.play.disabled = !this.can || d.status === 'ended';
    }
    const sp = String(d.speed ?? 1);
    if (document.activeElement !== this.speed && this.speed.value !== sp && SPEEDS.includes(Number(sp))) this.speed.value = sp;
    this.snapshots = d.snapshots;
    if (this.seeking !== false && d.snapshots > this.seeking) this.seeking = false;
    if (!this.dragging && this.seeking === false) {
      this.slider.value = String(d.t);
      this._showTime(d.t);
    }
  }
}
