// The WebSocket to the drill server: binary msgpack frames, replies matched by `ref`,
// and reconnection with backoff (the session in main.js decides what to send on open).

import { decodeMessage, encodeMessage } from './protocol.js';

const REPLY_TIMEOUT_MS = 10000;
const BACKOFF_MS = [500, 1000, 2000, 4000, 8000];
const BACKOFF_MAX_MS = 10000;

/** URL of the drill server's WebSocket: the page's own host and port. */
export function socketUrl(loc = window.location) {
  return `${loc.protocol === 'https:' ? 'wss' : 'ws'}://${loc.host}/`;
}

export class Connection {
  /**
   * handlers: onOpen(), onMessage(msg, bytes), onClose(event, wasOpen), onBadFrame(err).
   */
  constructor(url, handlers) {
    this.url = url;
    this.h = handlers;
    this.ws = null;
    this.open = false;
    this.nextRef = 1;
    this.pending = new Map();
    this.bytesIn = 0;
    this.messagesIn = 0;
    this.attempt = 0;
    this.timer = null;
    this.stopped = false;
    this.lastFrameAt = null;
    /** WebSockets opened so far (the first connection and every reconnection). */
    this.opened = 0;
  }

  connect() {
    clearTimeout(this.timer);
    this.timer = null;
    if (this.stopped) return;
    let ws;
    try {
      ws = new WebSocket(this.url);
    } catch (err) {
      this._closed({ code: 0, reason: String(err) }, false);
      return;
    }
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    this.opened++;
    let wasOpen = false;
    ws.onopen = () => {
      wasOpen = true;
      this.open = true;
      this.h.onOpen?.();
    };
    ws.onmessage = (ev) => {
      if (!(ev.data instanceof ArrayBuffer)) return; // the protocol has binary frames only
      this.lastFrameAt = performance.now(); // per-tick timing starts before msgpack decoding
      this.bytesIn += ev.data.byteLength;
      this.messagesIn++;
      let msg;
      try {
        msg = decodeMessage(ev.data);
      } catch (err) {
        this.h.onBadFrame?.(err);
        return;
      }
      if (msg.ref !== undefined && this.pending.has(msg.ref)) {
        const p = this.pending.get(msg.ref);
        this.pending.delete(msg.ref);
        clearTimeout(p.timer);
        p.resolve(msg);
      }
      this.h.onMessage?.(msg, ev.data);
    };
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.open = false;
      this._closed(ev, wasOpen);
    };
    ws.onerror = () => {}; // a close event follows
  }

  _closed(ev, wasOpen) {
    for (const [, p] of this.pending) {
      clearTimeout(p.timer);
      p.resolve({ type: 'error', code: 'disconnected', message: 'connection closed', ref: p.ref });
    }
    this.pending.clear();
    this.h.onClose?.(ev, wasOpen);
  }

  /** Try again after a delay that grows with each failed attempt (reset by `connected`). */
  reconnect() {
    if (this.stopped || this.timer) return;
    const base = BACKOFF_MS[Math.min(this.attempt, BACKOFF_MS.length - 1)];
    const delay = Math.min(BACKOFF_MAX_MS, base * (0.8 + 0.4 * Math.random()));
    this.attempt++;
    this.timer = setTimeout(() => { this.timer = null; this.connect(); }, delay);
  }

  /** The session is established: the next loss starts the backoff from the beginning. */
  connected() { this.attempt = 0; }

  /** Send without waiting for a reply; false when not connected. */
  post(type, fields = {}) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(encodeMessage(type, fields));
    return true;
  }

  /** Send with a fresh `ref`; resolves with the reply (ack, error, pong, …), never rejects. */
  request(type, fields = {}) {
    const ref = this.nextRef++;
    return new Promise((resolve) => {
      if (!this.post(type, { ...fields, ref })) {
        resolve({ type: 'error', code: 'disconnected', message: 'not connected', ref });
        return;
      }
      const timer = setTimeout(() => {
        this.pending.delete(ref);
        resolve({ type: 'error', code: 'timeout', message: 'no reply', ref });
      }, REPLY_TIMEOUT_MS);
      this.pending.set(ref, { resolve, timer, ref });
    });
  }

  /** Close for good (no reconnection: the drill has ended, or the join was refused). */
  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = null;
    if (this.ws) this.ws.close(1000);
  }

  /** Drop the socket now (tests): behaves like a lost connection. */
  drop() {
    if (this.ws) this.ws.close(4000, 'dropped by the page');
  }
}
