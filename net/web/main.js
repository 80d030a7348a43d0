// The browser client of a drill: joining (token or resume), the state stream, the 3D
// view, input (keys, click-to-go, marks, placing injects), VR, the report link, and the
// test hooks on window.evacdrill (docs/client.md; protocol: docs/protocol.md).

import { DrillState, ON_STAIR, WAITING, scriptEntry } from './protocol.js';
import { Connection, socketUrl } from './connection.js';
import { currentLang, hasKey, label, setCurrentLang, t, tr, translate } from './i18n.js';
import { Panels, unlockAudio } from './panels.js';
import { clock } from './dom.js';
import { VR } from './vr.js';

const $ = (id) => document.getElementById(id);
const DECODE_SAMPLES = 300;
const WALK_SPEED = 1.3;
const SMOKY = new Set(['smoke', 'fire', 'gas']);
/** How long the page asks info.json for the report after a drill ended, polls. */
const REPORT_POLLS = 150;

const s = {
  drill: null,
  token: null,
  name: '',
  resume: null,
  usedResume: false,
  info: null,
  welcome: null,
  role: null,
  pid: null,
  myAgent: null,
  maxSpeed: 2,
  connected: false,
  joined: false,
  everJoined: false,
  fatal: false,
  error: null,
  errorCode: null,
  frames: 0,
  decodeMs: [],
  frameMs: [],
  firstDrawMs: null,
  tickAt: 0,
  tickPeriod: 100,
  builtDrill: null,
  buildingReady: false,
  mySlot: -1,
  seenMine: false,
  myFloor: null,
  exitsKey: '',
  hazardsKey: '',
  alarmIds: new Set(),
  markMode: null,
  /** The next click on the map goes to this function (point, floor): the inject palette. */
  placer: null,
  move: { dir: [0, 0], speed: WALK_SPEED },
  /** {start, end} of a replay (s), or null for a live drill. */
  replay: null,
  reportUrl: null,
  reportPolling: false,
  /** The welcome came; its state (the first snapshot) not yet. */
  awaitFirst: false,
  /** The floors this connection receives: `key` ('all' or '0,2') as acknowledged, the
   * key asked for and not yet answered, one the server refused (not asked again), and
   * the acknowledged floors (null: all). */
  sub: { key: 'all', asking: null, refused: null, floors: null },
  /** The server's `ended` message once the drill has ended (nothing reconnects then). */
  ended: null,
};
const d = { state: new DrillState() };
let conn = null;
let view = null;
let viewFailed = false;
let panels = null;
let sceneModule = null;
let vr = null;

// ------------------------------------------------------------------ language

function setLang(code) {
  const lang = setCurrentLang(code);
  document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
  translate(document);
  for (const b of document.querySelectorAll('[data-lang]')) b.classList.toggle('active', b.dataset.lang === lang);
  const url = new URL(window.location.href);
  if (lang === 'zh') url.searchParams.delete('lang'); else url.searchParams.set('lang', lang);
  window.history.replaceState(null, '', url);
  if (s.error && s.errorKey) s.error = t(s.errorKey, s.errorArgs);
  panels?.relabel();
  return lang;
}

// ------------------------------------------------------------------ errors and pages

function setError(code, key, args = {}) {
  s.errorCode = code;
  s.errorKey = key;
  s.errorArgs = args;
  s.error = t(key, args);
}

function clearError(code) {
  if (code === undefined || s.errorCode === code) {
    s.error = null; s.errorCode = null; s.errorKey = null;
  }
}

/** A page instead of the drill (unknown drill, bad token): a sentence, never a trace. */
function showPage(titleKey, key, args, { retry = false } = {}) {
  $('app').hidden = true;
  $('join').hidden = true;
  const page = $('page');
  page.hidden = false;
  label($('page-title'), titleKey);
  label($('page-text'), key, args);
  $('page-retry').hidden = !retry;
}

function showJoinForm() {
  $('app').hidden = true;
  $('page').hidden = true;
  $('join').hidden = false;
  const title = $('join-drill');
  if (s.drill) label(title, 'join.drill', { drill: s.drill }); else title.textContent = '';
  $('join-name').value = s.name || '';
  $('join-link').value = s.token || '';
  $('join-form').onsubmit = (ev) => {
    ev.preventDefault();
    unlockAudio();
    const raw = $('join-link').value.trim();
    const name = $('join-name').value.trim();
    let drill = s.drill, token = raw;
    try {
      if (/^https?:\/\//i.test(raw) || raw.startsWith('/')) {
        const u = new URL(raw, window.location.href);
        const m = u.pathname.match(/^\/drills\/([^/]+)\/?$/);
        if (m) drill = decodeURIComponent(m[1]);
        token = u.searchParams.get('token') || '';
      }
    } catch { /* not a link: a bare token */ }
    if (!drill || !token) {
      label($('join-msg'), 'join.needlink');
      return;
    }
    const url = new URL(`/drills/${encodeURIComponent(drill)}/`, window.location.href);
    url.searchParams.set('token', token);
    if (name) url.searchParams.set('name', name);
    if (currentLang() !== 'zh') url.searchParams.set('lang', currentLang());
    if (drill !== s.drill) { window.location.assign(url); return; }
    window.history.replaceState(null, '', url);
    s.token = token;
    s.name = name;
    $('join').hidden = true;
    start();
  };
  $('join-msg').textContent = '';
}

// ------------------------------------------------------------------ connection

function start() {
  $('app').hidden = false;
  label($('conn'), 'join.connecting');
  $('conn').hidden = false;
  conn = new Connection(socketUrl(), { onOpen, onMessage, onClose });
  conn.connect();
}

function sendJoin() {
  if (s.resume) {
    s.usedResume = true;
    conn.post('join', { drill: s.drill, resume: s.resume });
  } else {
    s.usedResume = false;
    const fields = { drill: s.drill, token: s.token };
    if (s.name) fields.name = s.name;
    conn.post('join', fields);
  }
}

function onOpen() {
  s.connected = true;
  sendJoin();
}

function onClose(ev, wasOpen) {
  s.connected = false;
  const was = s.joined;
  s.joined = false;
  if (s.fatal) return;
  if (ev.code === 1000 && ev.reason === 'drill ended') {
    // The server ended the drill but its `ended` did not get through: never reconnect to
    // it; info.json says why and when.
    endedFromInfo();
    return;
  }
  if (was || s.everJoined) {
    setError('lost', 'err.lost');
  } else if (!wasOpen) {
    setError('unreachable', 'err.unreachable');
  }
  label($('conn'), s.errorKey === 'err.unreachable' ? 'err.unreachable' : 'err.lost');
  $('conn').hidden = false;
  releaseKeys();
  conn.reconnect();
}

function onMessage(msg) {
  if (msg.type === 'ended') { onEnded(msg); return; } // the answer to a join, or the end
  if (!s.joined) {
    if (msg.type === 'welcome') { onWelcome(msg); return; }
    if (msg.type === 'error') { onJoinError(msg); return; }
    return;
  }
  switch (msg.type) {
    case 'snapshot':
      if (s.awaitFirst) onFirstSnapshot(msg); else onState(msg);
      break;
    case 'delta':
      onState(msg);
      break;
    case 'welcome':
      onWelcome(msg);
      break;
    case 'error':
      if (msg.reason === 'forecast_failed') panels.forecast?.failed(msg);
      else if (msg.ref === undefined) showReplyError(msg);
      break;
    case 'forecast_progress':
      panels.forecast?.progress(msg);
      break;
    case 'forecast_result':
      panels.forecast?.result(msg);
      break;
    default:
      break;
  }
}

function onJoinError(msg) {
  if (msg.code === 'auth' && s.usedResume) {
    // The seat expired (over 60 s away, or the server restarted): join afresh.
    s.resume = null;
    if (s.token) { sendJoin(); return; }
  }
  s.fatal = true;
  conn.stop();
  $('conn').hidden = true;
  if (msg.code === 'auth') {
    setError('auth', 'err.auth', { drill: s.drill });
    showPage('page.error', 'err.auth', { drill: s.drill });
    // An unknown drill (it ended and the server forgot it, or the server restarted) is
    // worth saying so rather than blaming the token.
    fetch(`/drills/${encodeURIComponent(s.drill)}/info.json`, { cache: 'no-store' }).then((res) => {
      if (res.status === 404) {
        setError('nodrill', 'err.nodrill', { drill: s.drill });
        showPage('notfound.title', 'err.nodrill', { drill: s.drill });
      }
    }).catch(() => {});
  } else {
    setError(msg.code || 'other', 'err.other', { message: msg.message || msg.code });
    showPage('page.error', 'err.other', { message: msg.message || msg.code }, { retry: true });
  }
}

function onWelcome(w) {
  const again = s.everJoined;
  s.welcome = w;
  s.joined = true;
  s.everJoined = true;
  s.role = w.role;
  s.pid = w.participant_id ?? null;
  s.resume = w.resume_token || s.resume;
  s.myAgent = Number.isInteger(w.agent) ? w.agent : null;
  s.maxSpeed = typeof w.max_speed === 'number' ? w.max_speed : 2;
  if (w.name) s.name = w.name;
  conn.connected();
  $('conn').hidden = true;
  if (s.errorCode === 'lost' || s.errorCode === 'unreachable') clearError();
  if (again) panels.toast(t('err.resumed'), 'ok', 'err.resumed');
  const fresh = s.builtDrill !== w.drill;
  s.replay = w.replay && typeof w.replay === 'object'
    ? { start: w.replay.start ?? 0, end: w.replay.end ?? null } : null;
  if (fresh) {
    panels.build(w);
    translate(document);
    s.alarmIds.clear();
    s.exitsKey = s.hazardsKey = '';
  }
  // The state follows in a `snapshot` (older servers put it inside the welcome); deltas
  // before it are ignored (the state is stale until then).
  d.state = new DrillState();
  s.awaitFirst = true;
  s.mySlot = -1;
  // A new connection receives every floor until it subscribes to the one shown.
  s.sub = { key: 'all', asking: null, refused: null, floors: null };
  if (fresh) {
    buildView(w).then(() => {
      if (d.state.snapshots) afterTick([], null);
      placeView();
      syncFloors();
    });
  }
  if (w.snapshot) onFirstSnapshot(w.snapshot);
  if (!fresh) syncFloors();
}

/** The first snapshot after a welcome: the drill's state as the page starts from it. */
function onFirstSnapshot(snap) {
  const w = s.welcome;
  s.awaitFirst = false;
  const t0 = conn?.lastFrameAt ?? performance.now();
  d.state.applySnapshot(snap);
  if (Array.isArray(w.script) && !Array.isArray(snap.script)) d.state.script = w.script.map(scriptEntry);
  if (snap.replay && !s.replay) s.replay = { start: w.replay?.start ?? 0, end: w.replay?.end ?? null };
  s.tickAt = performance.now();
  afterTick([], s.buildingReady ? t0 : null);
  if (snap.status === 'ended') panels.banner('ended', 'err.ended', { drill: w.drill }, 'info');
  if (s.replay) panels.banner('replay', 'status.replay', null, 'info');
}

async function buildView(w) {
  s.builtDrill = w.drill;
  s.buildingReady = false;
  if (!view && !viewFailed) {
    try {
      sceneModule ??= await import('./scene.js');
      view = new sceneModule.View($('view'), $('labels'));
      bindPointer();
    } catch (err) {
      console.error(err);
      viewFailed = true;
      panels.banner('webgl', 'err.webgl', null, 'error');
    }
  }
  if (!view) return;
  let glb = `/drills/${encodeURIComponent(w.drill)}/scene.glb`;
  try { if (w.glb) glb = new URL(w.glb, window.location.href).pathname; } catch { /* keep */ }
  try {
    const usedGlb = await view.load(w.scene, glb);
    if (!usedGlb) panels.toast(t('err.glb'), 'info', 'err.glb');
  } catch (err) {
    console.error(err);
    panels.banner('webgl', 'err.webgl', null, 'error');
    return;
  }
  s.buildingReady = true;
  s.exitsKey = s.hazardsKey = '';
}

/** After the building is drawn: view one's own floor, face one's avatar's heading. */
function placeView() {
  if (!view || !s.buildingReady) return;
  const mine = myPosition();
  if (mine) view.setFloor(myFloor() ?? floorOf(mine[2]));
  panels.showView(shownFloor(), view.cameraName);
  const av = myAvatar();
  if (mine && av && typeof av.heading === 'number') view.setHeading(av.heading / 1000);
}

// ------------------------------------------------------------------ state stream

function onState(msg) {
  const t0 = conn.lastFrameAt ?? performance.now();
  const r = d.state.apply(msg);
  if (r.resync) conn.post('resync');
  if (!r.applied) return;
  const now = performance.now();
  if (msg.type === 'delta' && s.tickAt) {
    const dt = now - s.tickAt;
    if (dt > 20 && dt < 1000) s.tickPeriod = 0.8 * s.tickPeriod + 0.2 * dt;
  }
  s.tickAt = now;
  afterTick(r.events, t0);
}

function othersSlots() {
  const out = [];
  for (const [pid, av] of Object.entries(d.state.avatars)) {
    if (Number(pid) === s.pid || !Number.isInteger(av.agent) || av.agent === s.myAgent) continue;
    if (av.inside === false) continue;
    out.push({ slot: d.state.agents.slotOf(av.agent), name: av.name || '' });
  }
  return out;
}

function afterTick(events, t0) {
  const a = d.state.agents;
  s.mySlot = s.myAgent !== null ? a.slotOf(s.myAgent) : -1;
  if (s.mySlot >= 0) s.seenMine = true;
  if (view && s.buildingReady) {
    view.crowd.sync(a, s.mySlot, othersSlots());
    view.crowd.update(0, view.cutY ?? Infinity);
    view.follow = s.mySlot;
    if (t0 !== null) {
      s.decodeMs.push(performance.now() - t0);
      if (s.decodeMs.length > DECODE_SAMPLES) s.decodeMs.splice(0, s.decodeMs.length - DECODE_SAMPLES);
    }
    const ek = JSON.stringify(d.state.exits);
    if (ek !== s.exitsKey) { s.exitsKey = ek; view.setExits(d.state.exits); }
    const hk = JSON.stringify(d.state.hazards);
    if (hk !== s.hazardsKey) { s.hazardsKey = hk; view.setHazards(d.state.hazards); }
    view.setMarks(d.state.marks);
    // Out of the building: no first person. Merely off the floor received (a stair down
    // to another floor, the view follows in a tick): keep it.
    if (s.mySlot < 0 && view.cameraName === 'first' && myInside() !== true) setCamera('overview');
  }
  for (const h of d.state.hazards || []) {
    if (h.kind === 'alarm' && !s.alarmIds.has(h.id)) { s.alarmIds.add(h.id); panels.alarm(); }
  }
  for (const e of events) onEvent(e);
  followOwnFloor();
  const you = youStatus();
  panels.update(d.state, you);
  panels.smoke(inSmoke(you.pos, you.floor));
  if (d.state.status === 'ended') panels.banner('ended', 'err.ended', { drill: s.drill }, 'info');
  if ((d.state.status === 'ended' || d.state.status === 'finished') && !d.state.replay) watchReport();
}

/**
 * After a drill is over the server writes its evaluation report (from the recording);
 * ask info.json until it names it, then show the link (instructors and observers).
 */
function watchReport() {
  // Participants are told of the report by `ended` (everyone gets its link).
  if (s.reportPolling || (s.role === 'participant' && !s.ended?.report) || !s.drill) return;
  s.reportPolling = true;
  let polls = 0;
  const poll = async () => {
    let info = null;
    try {
      const res = await fetch(`/drills/${encodeURIComponent(s.drill)}/info.json`, { cache: 'no-store' });
      if (res.ok) info = await res.json();
    } catch { /* the server may be busy or gone: try again */ }
    polls++;
    if (info && typeof info.report === 'string' && info.report) {
      s.reportUrl = new URL(info.report, window.location.href).href;
      panels?.setReport(s.reportUrl);
      endedReport('ready', s.reportUrl);
      return;
    }
    if (info?.report_failed) {
      panels?.setReport('none');
      endedReport('failed');
      return;
    }
    // A server that says nothing of reports (no `report` key), or says the drill is not
    // recorded (`recorded: false`), will not write one.
    if ((info && !('report' in info) && polls >= 3) || info?.recorded === false || polls >= REPORT_POLLS) {
      panels?.setReport('none');
      if (info?.recorded === false) endedReport('none');
      return;
    }
    panels?.setReport('waiting');
    setTimeout(poll, Math.min(4000, 500 + 250 * polls));
  };
  poll();
}

// ------------------------------------------------------------------ the drill has ended

/**
 * `ended` {drill, scenario, reason, t, recording, report}: the drill is over and the
 * server closes the connection. Say so (why, at what simulated time, the report), and
 * never reconnect.
 */
function onEnded(msg) {
  s.ended = { reason: msg.reason ?? null, t: Number(msg.t) || 0, recording: msg.recording ?? null,
    report: typeof msg.report === 'string' && msg.report ? new URL(msg.report, window.location.href).href : null,
    drill: msg.drill || s.drill };
  s.fatal = true;
  s.awaitFirst = false;
  conn?.stop();
  releaseKeys();
  $('conn').hidden = true;
  setError('ended', 'err.ended', { drill: s.ended.drill });
  if (s.welcome) {
    d.state.status = 'ended';
    if (Number.isFinite(msg.t)) d.state.t = Math.max(d.state.t, msg.t);
    panels.update(d.state, youStatus());
    panels.banner('ended', 'err.ended', { drill: s.ended.drill }, 'info');
  }
  showEnded();
  if (s.ended.report) {
    panels?.setReport('waiting');
    s.reportPolling = false; // a poll that gave up before the end may look again
    watchReport();
  } else if (s.welcome && !s.replay) {
    panels?.setReport('none');
  }
}

/** The connection closed as "drill ended" without an `ended`: take its facts from info.json. */
async function endedFromInfo() {
  s.fatal = true;
  conn?.stop();
  let info = null;
  try {
    const res = await fetch(`/drills/${encodeURIComponent(s.drill)}/info.json`, { cache: 'no-store' });
    if (res.ok) info = await res.json();
  } catch { /* gone */ }
  const url = info && (info.recorded && !info.report_failed) ? `/drills/${encodeURIComponent(s.drill)}/report/` : null;
  onEnded({ drill: s.drill, reason: info?.reason ?? null, t: info?.t ?? d.state.t,
    recording: info?.recording ?? null, report: info?.report || url });
}

/** The ended card: over the last picture of the drill, or alone (the drill had ended). */
function showEnded() {
  const e = s.ended;
  const card = $('ended');
  const over = !!s.welcome && !$('app').hidden;
  if (!over) { $('app').hidden = true; $('join').hidden = true; $('page').hidden = true; }
  card.classList.toggle('over', over);
  document.body.classList.add('ended');
  const reason = ['instructor', 'idle', 'server', 'error'].includes(e.reason) ? e.reason : 'other';
  label($('ended-text'), `ended.${reason}`, { drill: e.drill, t: clock(e.t) });
  const link = $('ended-report-link');
  if (e.report) {
    link.href = e.report;
    link.hidden = false;
    label($('ended-report-note'), 'ended.report.writing');
  } else {
    link.hidden = true;
    const why = s.replay || d.state.replay ? 'ended.noreport.replay'
      : e.recording === null ? 'ended.noreport.unrecorded' : 'ended.noreport';
    label($('ended-report-note'), why);
  }
  const rec = $('ended-rec');
  rec.hidden = !e.recording;
  if (e.recording) label(rec, 'ended.recording', { file: e.recording });
  const close = $('ended-close');
  close.hidden = !over;
  close.onclick = () => { card.hidden = true; document.body.classList.remove('ended'); };
  card.hidden = false;
}

/** What the ended card says of the report as info.json learns more: ready, failed, none. */
function endedReport(what, url) {
  if (!s.ended) return;
  const link = $('ended-report-link');
  if (what === 'ready' && url) {
    link.href = url;
    link.hidden = false;
    label($('ended-report-note'), 'ended.report.ready');
  } else if (what === 'failed') {
    label($('ended-report-note'), 'ended.report.failed');
  } else if (what === 'none' && !s.ended.report) {
    link.hidden = true;
  }
}

function onEvent(e) {
  switch (e.type) {
    case 'exit_closed':
      panels.banner(`exit:${e.exit}`, 'cue.exitclosed', { exit: e.exit }, 'warn', 8000);
      break;
    case 'exit_opened':
      panels.hideBanner(`exit:${e.exit}`);
      panels.toast('', 'info', 'cue.exitopened', { exit: e.exit });
      break;
    case 'hazard': {
      const kind = e.hazard?.kind ?? e.kind;
      if (kind === 'alarm') {
        panels.alarm(); // once: the hazard list and this event both announce it
      } else {
        panels.toast('', 'warn', 'cue.hazard', { kind: tr(`hazard.${kind}`, kind) });
      }
      break;
    }
    case 'alarm':
      panels.alarm();
      break;
    case 'floor_clear':
      panels.toast('', 'info', 'cue.floorclear', { floor: e.floor });
      break;
    case 'evacuation_ordered':
      panels.toast('', 'info', 'cue.ordered', { n: e.agents ?? '' });
      break;
    case 'person_out':
      panels.toast('', 'info', 'cue.personout', { name: e.name || `#${e.pid}`, exit: e.exit });
      break;
    default:
      break;
  }
}

function myAvatar() {
  return s.pid !== null ? d.state.avatars[String(s.pid)] : undefined;
}

function myPosition() {
  if (s.myAgent === null) return null;
  if (s.mySlot >= 0) return d.state.agents.position(s.mySlot);
  const av = myAvatar();
  if (av && av.inside !== false && Array.isArray(av.pos)) return av.pos.map((v) => v / 100);
  return null;
}

function myInside() {
  if (s.myAgent === null) return null;
  if (s.mySlot >= 0) return true;
  const av = myAvatar();
  if (av && av.inside === false) return false;
  // Not among the agents received: on a floor not shown (the avatar says it is inside).
  if (av && av.inside === true) return true;
  return s.seenMine ? false : null;
}

/** Index of the floor the own avatar is on (the crowd's, else its pose's), or null. */
function myFloor() {
  if (s.myAgent === null) return null;
  const av = myAvatar();
  if (s.mySlot < 0 && av && av.inside !== false && Number.isInteger(av.floor)) return av.floor;
  const pos = myPosition();
  return pos ? floorOf(pos[2]) : null;
}

/** Index of the floor at protocol height z: the highest at or below z + 0.5 m. */
function floorOf(z) {
  const floors = s.welcome?.scene?.floors || [];
  let best = -1;
  floors.forEach((f, i) => { if (f.elevation <= z + 0.5 && (best < 0 || f.elevation > floors[best].elevation)) best = i; });
  return best < 0 ? 0 : best;
}

function youStatus() {
  const pos = myPosition();
  const floor = myFloor();
  if (s.myAgent === null) return { key: 'you.none', pos: null, floor: null };
  if (s.mySlot >= 0) {
    const st = d.state.agents.state[s.mySlot];
    const key = st === WAITING ? 'you.waiting' : st === ON_STAIR ? 'you.stair' : 'you.inside';
    return { key, pos, floor };
  }
  const av = myAvatar();
  if (av && av.inside === true) {
    // On a floor the page does not show (its people are not received): still inside.
    const id = s.welcome?.scene?.floors?.[floor]?.id ?? String(floor ?? '');
    return { key: 'you.onfloor', args: { floor: id }, pos, floor };
  }
  if (av && av.exit) return { key: 'you.out', args: { exit: av.exit }, pos: null, floor: null };
  return { key: 'you.outplain', pos: null, floor: null };
}

function inSmoke(pos, floor) {
  if (!pos) return false;
  for (const h of d.state.hazards || []) {
    if (!SMOKY.has(h.kind) || (h.floor ?? 0) !== floor) continue;
    if (Math.hypot(pos[0] - h.x, pos[1] - h.y) <= (h.radius || 0)) return true;
  }
  return false;
}

function followOwnFloor() {
  if (!view || !s.buildingReady) return;
  const f = myFloor();
  if (f === null) return;
  // One floor shown: the view goes along when the own avatar changes floors.
  if (s.myFloor !== null && f !== s.myFloor && !view.allFloors && f !== view.floor) setFloor(f);
  s.myFloor = f;
}

// ------------------------------------------------------------------ replies

/** A reply's error as a sentence of the page's language: {key, args} for i18n.t. */
function explain(reply, type, fields = {}) {
  const known = ['refused', 'state', 'forbidden', 'rate_limited', 'bad_field', 'timeout', 'disconnected', 'busy', 'unavailable'];
  let key = known.includes(reply.code) ? `err.${reply.code}` : 'err.other';
  const status = d.state.status;
  if (reply.code === 'state' && (status === 'ended' || status === 'finished') && !d.state.replay) key = 'err.ended';
  else if (reply.code === 'state' && status === 'ready' && type !== 'start') key = 'err.notstarted';
  else if (reply.code === 'state' && status === 'paused' && type !== 'pause' && type !== 'start') key = 'err.paused';
  else if (reply.code === 'refused' && type === 'move' && myInside() === false) key = 'err.out';
  else if (reply.code === 'refused' && type === 'move' && fields.to) key = 'err.notwalkable';
  else if (reply.code === 'refused' && type === 'inject') key = 'err.inject';
  else if (reply.code === 'bad_field' && type === 'speed') key = 'err.speed.range';
  else if (reply.code === 'state' && ['start', 'pause', 'resume'].includes(type)) key = `err.ctl.${type}`;
  const args = {
    message: reply.message || reply.code, drill: s.drill, min: 0.1, max: 10,
    now: tr(`status.${status}`, status), ...(reply.detail || {}),
  };
  // A reason the server gives (docs/protocol.md) says it in the user's language.
  if (reply.reason && hasKey(`err.r.${reply.reason}`)) key = `err.r.${reply.reason}`;
  if (typeof args.state === 'string') args.state = tr(`script.state.${args.state}`, args.state);
  if (typeof args.status === 'string') args.status = tr(`status.${args.status}`, args.status);
  if (typeof args.index === 'number') args.n = args.index + 1;
  if (typeof args.kind === 'string') args.kind = tr(`hazard.${args.kind}`, args.kind);
  return { key, args };
}

/** Show a refusal: the error hook, and (unless `quiet`: the control says it) a toast. */
function showReplyError(reply, type, fields = {}, quiet = false) {
  const { key, args } = explain(reply, type, fields);
  setError(reply.code, key, args);
  if (!quiet) panels.toast('', 'error', key, args);
}

/** Send a message and wait for its reply; `quiet`: the caller shows a refusal itself. */
async function send(type, fields = {}, { quiet = false } = {}) {
  unlockAudio();
  if (!conn) return { type: 'error', code: 'disconnected', message: 'not connected' };
  const reply = await conn.request(type, fields);
  if (reply.type === 'error') showReplyError(reply, type, fields, quiet);
  // An accepted action clears the last refusal; the head poses of VR (ten a second) do not.
  else if (type !== 'pose' && s.errorCode && !['lost', 'unreachable', 'auth', 'nodrill'].includes(s.errorCode)) clearError();
  return reply;
}

// ------------------------------------------------------------------ input

const keys = new Set();
const KEYMAP = {
  KeyW: 'f', ArrowUp: 'f', KeyS: 'b', ArrowDown: 'b', KeyA: 'l', ArrowLeft: 'l', KeyD: 'r', ArrowRight: 'r',
};

function typing(ev) {
  const tag = ev.target?.tagName;
  return tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT' || ev.target?.isContentEditable;
}

function moveFromKeys(shift) {
  const fwd = (keys.has('f') ? 1 : 0) - (keys.has('b') ? 1 : 0);
  const side = (keys.has('r') ? 1 : 0) - (keys.has('l') ? 1 : 0);
  if (!fwd && !side) return { dir: [0, 0], speed: WALK_SPEED };
  const [fx, fy] = view ? view.forward() : [0, 1];
  const rx = fy, ry = -fx; // right of forward, z up
  let dx = fx * fwd + rx * side, dy = fy * fwd + ry * side;
  const l = Math.hypot(dx, dy) || 1;
  dx = Math.round((dx / l) * 1000) / 1000;
  dy = Math.round((dy / l) * 1000) / 1000;
  return { dir: [dx, dy], speed: shift ? s.maxSpeed : WALK_SPEED };
}

function sendMove(m) {
  const same = m.dir[0] === s.move.dir[0] && m.dir[1] === s.move.dir[1] && m.speed === s.move.speed;
  if (same) return;
  s.move = m;
  if (s.role !== 'participant' || !s.joined) return;
  send('move', { dir: m.dir, speed: m.speed });
}

function releaseKeys() {
  keys.clear();
  s.move = { dir: [0, 0], speed: WALK_SPEED };
}

window.addEventListener('keydown', (ev) => {
  if (typing(ev) || ev.ctrlKey || ev.metaKey || ev.altKey) return;
  if (ev.key === 'Escape' && (s.markMode || s.placer)) {
    if (s.markMode) setMarkMode(null);
    if (s.placer) panels.palette?.cancelPlacing();
    return;
  }
  const k = KEYMAP[ev.code];
  if (!k) { if (ev.key === 'Shift' && keys.size && !ev.repeat) sendMove(moveFromKeys(true)); return; }
  ev.preventDefault();
  if (ev.repeat) return; // held keys: the direction was sent when they went down
  if (s.role !== 'participant') return;
  unlockAudio();
  keys.add(k);
  sendMove(moveFromKeys(ev.shiftKey));
});

window.addEventListener('keyup', (ev) => {
  const k = KEYMAP[ev.code];
  if (!k) { if (ev.key === 'Shift' && keys.size) sendMove(moveFromKeys(false)); return; }
  keys.delete(k);
  if (s.role === 'participant') sendMove(moveFromKeys(ev.shiftKey));
});

window.addEventListener('blur', () => {
  if (keys.size) { keys.clear(); sendMove({ dir: [0, 0], speed: WALK_SPEED }); }
});

function setMarkMode(kind) {
  s.markMode = kind;
  panels?.setPlacing(kind);
}

function bindPointer() {
  const canvas = view.renderer.domElement;
  let down = null;
  canvas.addEventListener('pointerdown', (ev) => {
    unlockAudio();
    down = ev.button === 0 ? { x: ev.clientX, y: ev.clientY, t: performance.now() } : null;
  });
  canvas.addEventListener('pointerup', (ev) => {
    if (!down || ev.button !== 0) return;
    const moved = Math.hypot(ev.clientX - down.x, ev.clientY - down.y);
    const quick = performance.now() - down.t < 700;
    down = null;
    if (moved > 6 || !quick) return; // a drag turns or pans the camera
    const p = view.pick(ev.clientX, ev.clientY);
    if (!p) return;
    if (s.placer) {
      const place = s.placer;
      s.placer = null;
      place(p, view.floor);
    } else if (s.markMode) {
      const kind = s.markMode;
      setMarkMode(null);
      send('mark', { kind, position: p, floor: view.floor }).then((r) => {
        if (r.type !== 'error') panels.toast(t('mark.sent'), 'ok', 'mark.sent');
      });
    } else if (s.role === 'participant' && s.myAgent !== null) {
      s.move = { dir: [0, 0], speed: WALK_SPEED };
      send('move', { to: [p[0], p[1]] });
    }
  });
}

// ------------------------------------------------------------------ view controls

/** Show floor `i` (null or 'all': every floor); the page then receives only its people. */
function setFloor(i) {
  if (!view) return null;
  const f = i === null || i === 'all' ? view.setAllFloors() : view.setFloor(i);
  panels.showView(shownFloor(), view.cameraName);
  if (s.sub.refused !== '*') s.sub.refused = null; // chosen again: ask again (busy may be over)
  syncFloors();
  return f;
}

/** The floor shown alone, or null when the view shows every floor. */
function shownFloor() {
  return !view || view.allFloors ? null : view.floor;
}

/**
 * Receive the people of the floor shown (`subscribe {floors: [k]}`), or of every floor
 * when all are shown (`subscribe {}`); the server acks, then sends a snapshot of the new
 * view. One request at a time; a refused view is not asked for again.
 */
function syncFloors() {
  if (!conn || !s.joined || !view || !s.buildingReady || s.sub.refused === '*') return;
  const k = shownFloor();
  const key = k === null ? 'all' : String(k);
  if (key === s.sub.key || key === s.sub.asking || key === s.sub.refused || s.sub.asking) return;
  s.sub.asking = key;
  const sub = s.sub;
  conn.request('subscribe', k === null ? {} : { floors: [k] }).then((r) => {
    if (s.sub !== sub) return; // a new connection (welcome) since
    sub.asking = null;
    if (r.type === 'ack') {
      sub.key = key;
      sub.refused = null;
      sub.floors = Array.isArray(r.floors) ? r.floors : null;
    } else if (r.code === 'unknown_type' || r.code === 'bad_field') {
      sub.refused = key; // an older server, or a floor it does not know: keep what comes
      if (r.code === 'unknown_type') sub.refused = '*';
    } else if (r.code !== 'disconnected') {
      sub.refused = key; // busy (too many views): everything keeps coming
    }
    if (sub.refused !== '*') syncFloors(); // the floor may have changed meanwhile
  });
}

function setCamera(name) {
  if (!view) return null;
  const c = view.setCamera(name);
  panels.showView(shownFloor(), c);
  return c;
}

// ------------------------------------------------------------------ render loop

function alphaAt(now) {
  return Math.min(1, Math.max(0, (now - s.tickAt) / s.tickPeriod));
}

function loop(now) {
  requestAnimationFrame(loop);
  if (!view || !s.buildingReady || view.presenting) return; // XR frames come from the session
  const alpha = alphaAt(now);
  const f0 = performance.now();
  view.frame(alpha, now);
  s.frameMs.push(performance.now() - f0);
  if (s.frameMs.length > 120) s.frameMs.shift();
  s.frames++;
  if (s.firstDrawMs === null) s.firstDrawMs = performance.now();
}

// ------------------------------------------------------------------ test hooks

window.evacdrill = {
  state() {
    const pos = myPosition();
    return {
      connected: s.connected,
      joined: s.joined,
      role: s.role,
      drill: s.drill,
      status: s.welcome ? d.state.status : s.ended ? 'ended' : null,
      t: d.state.t,
      agents: view && view.crowd.mesh ? view.crowd.mesh.count : 0,
      evacuated: Number.isFinite(d.state.evacuated) && d.state.floor_counts
        ? d.state.evacuated : Math.max(0, d.state.total - d.state.inside),
      total: d.state.total,
      /** People inside the building (every floor: the server's floor counts). */
      people: d.state.inside,
      floorCounts: d.state.floor_counts ? [...d.state.floor_counts] : null,
      /** The floors this page receives, as the server acknowledged (null: every floor). */
      subscribed: s.sub.floors ? [...s.sub.floors] : null,
      allFloors: view ? view.allFloors : null,
      /** The server's `ended` ({reason, t, recording, report}), or null. */
      ended: s.ended ? { ...s.ended } : null,
      hazards: view && view.hazards ? view.hazards.ids() : [],
      exits: [...(d.state.exits || [])],
      error: s.error,
      errorCode: s.errorCode,
      myAgent: s.myAgent,
      myPos: pos ? pos.map((v) => Math.round(v * 100) / 100) : null,
      inside: myInside(),
      lang: currentLang(),
      frames: s.frames,
      floor: view ? view.floor : null,
      camera: view ? view.cameraName : null,
      script: (d.state.script || []).map((e) => ({ ...e })),
      plan: (d.state.plan || []).map((e) => ({ ...e })),
      exitCounts: [...(d.state.exit_counts || [])],
      curveLen: d.state.curve.length,
      replay: s.replay ? { ...s.replay } : null,
      reportUrl: s.reportUrl,
      vr: vr ? { supported: vr.supported, presenting: vr.presenting, sent: vr.sent } : null,
    };
  },
  /** The agents the page holds: ids and positions (integer cm, x y z per agent), at t. */
  positions() {
    const a = d.state.agents;
    return { t: d.state.t, ids: Array.from(a.ids.subarray(0, a.n)), pos: Array.from(a.pos.subarray(0, 3 * a.n)) };
  },
  stats() {
    return {
      decodeMs: [...s.decodeMs],
      bytesIn: conn ? conn.bytesIn : 0,
      messagesIn: conn ? conn.messagesIn : 0,
      seq: d.state.seq,
      snapshots: d.state.snapshots,
      sockets: conn ? conn.opened : 0, // WebSockets opened (reconnections + 1)
      firstDrawMs: s.firstDrawMs,
      frameMs: [...s.frameMs], // CPU time of the last frames (update + draw calls), ms
    };
  },
  setLang: (code) => setLang(code),
  /** Show floor i alone (null or 'all': every floor). */
  setFloor: (i) => setFloor(i),
  setCamera: (name) => setCamera(name),
  send: (type, fields = {}) => send(type, fields),
  /** One head orientation [x, y, z, w] (y-up, as an XR viewer gives it) through the VR pose path. */
  xrPose: (q) => (vr ? vr.pose(q) : Promise.resolve({ sent: false, why: 'no vr' })),
};

function setupVR() {
  vr = new VR({
    button: $('vr-enter'),
    view: () => (view && s.buildingReady ? view : null),
    send: (type, fields) => send(type, fields, { quiet: true }),
    post: (type, fields) => !!conn && s.joined && conn.post(type, fields),
    // An embodied participant's pose stands where the avatar is; others where they look from.
    position: () => myPosition() ?? (view ? view.viewerPosition() : null),
    canPose: () => s.joined && (s.role === 'instructor'
      || (s.role === 'participant' && (s.myAgent === null || myInside() === true))),
    floor: () => (view ? view.floor : 0),
    steer: (dir) => {
      if (s.role !== 'participant' || s.myAgent === null || myInside() !== true) return;
      s.move = { dir, speed: WALK_SPEED };
      send('move', { dir, speed: WALK_SPEED }, { quiet: true });
    },
    draw: (time) => {
      view.frameXR(alphaAt(performance.now()), time);
      s.frames++;
    },
    onState: (key, args) => {
      // A failure stays next to the button; entering and leaving are only announced.
      const msg = $('vr-msg');
      if (key === 'vr.failed') label(msg, key, args);
      else { msg.textContent = ''; delete msg.dataset.i18n; delete msg.dataset.i18nArgs; }
      panels.toast('', key === 'vr.failed' ? 'error' : 'info', key, args);
    },
  });
  vr.probe();
}

// ------------------------------------------------------------------ start

async function main() {
  const url = new URL(window.location.href);
  setLang(url.searchParams.get('lang') || 'zh');
  for (const b of document.querySelectorAll('[data-lang]')) b.addEventListener('click', () => setLang(b.dataset.lang));
  $('page-retry').addEventListener('click', () => window.location.reload());
  panels = new Panels({
    send,
    explain,
    placer: (fn) => {
      s.placer = fn;
      document.body.classList.toggle('placing', !!fn || !!s.markMode);
      if (fn && s.markMode) setMarkMode(null);
    },
    setFloor,
    setCamera,
    markMode: (kind) => { s.markMode = kind; },
    stop: () => {
      keys.clear();
      s.move = { dir: [0, 0], speed: WALK_SPEED };
      send('move', { dir: [0, 0] });
    },
  });
  const m = url.pathname.match(/^\/drills\/([^/]+)\/?$/);
  s.drill = m ? decodeURIComponent(m[1]) : null;
  s.token = url.searchParams.get('token');
  s.name = url.searchParams.get('name') || '';
  requestAnimationFrame(loop);
  setupVR();
  if (!s.drill) { showJoinForm(); return; }
  let info = null;
  for (let attempt = 0; ; attempt++) {
    try {
      const res = await fetch(`/drills/${encodeURIComponent(s.drill)}/info.json`, { cache: 'no-store' });
      if (res.status === 404) {
        setError('nodrill', 'err.nodrill', { drill: s.drill });
        showPage('notfound.title', 'err.nodrill', { drill: s.drill });
        return;
      }
      if (res.ok) { info = await res.json(); break; }
    } catch { /* the server is not reachable: retry */ }
    setError('unreachable', 'err.unreachable');
    showPage('page.error', 'err.unreachable', {}, { retry: true });
    await new Promise((r) => setTimeout(r, Math.min(10000, 1000 * 2 ** attempt)));
  }
  clearError('unreachable');
  $('page').hidden = true;
  s.info = info;
  if (info.status === 'ended') setError('ended', 'err.ended', { drill: s.drill });
  if (!s.token) { showJoinForm(); return; }
  start();
}

main();
