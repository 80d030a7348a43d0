// net/web/i18n.js: both languages have the same keys, and every key the page uses exists.
// Also: the page loads nothing from another origin, and its modules import only files
// that exist (relative paths into net/web/).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TABLES, t, setCurrentLang } from '../../../net/web/i18n.js';

const WEB = resolve(dirname(fileURLToPath(import.meta.url)), '../../../net/web');
const own = readdirSync(WEB).filter((f) => f.endsWith('.js'));
const html = readFileSync(join(WEB, 'index.html'), 'utf8');

test('zh and en tables have the same keys, none empty', () => {
  assert.deepEqual(Object.keys(TABLES.en).sort(), Object.keys(TABLES.zh).sort());
  for (const lang of ['zh', 'en']) {
    for (const [k, v] of Object.entries(TABLES[lang])) assert.ok(v.trim(), `${lang} ${k} is empty`);
  }
});

test('placeholders agree between the languages', () => {
  const holes = (s) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
  for (const k of Object.keys(TABLES.zh)) assert.deepEqual(holes(TABLES.en[k]), holes(TABLES.zh[k]), k);
});

test('every key used in index.html and the modules is in the tables', () => {
  const used = new Set();
  for (const m of html.matchAll(/data-i18n(?:-placeholder|-title)?="([^"]+)"/g)) used.add(m[1]);
  for (const f of own) {
    const src = readFileSync(join(WEB, f), 'utf8');
    // label(el, 'key' …), t('key' …), i18n: 'key', i18n: ['key' …], setError(code, 'key' …), banner/toast keys
    for (const m of src.matchAll(/(?:\blabel\([^,]+,\s*|\bt\(|i18n:\s*\[?|setError\([^,]+,\s*|showPage\(|'(?:info|ok|warn|error)',\s*)['`]([a-z_]+\.[a-z_.]+)['`]/g)) {
      used.add(m[1]);
    }
  }
  assert.ok(used.size > 40, `found only ${used.size} keys: the scan is broken`);
  const missing = [...used].filter((k) => !(k in TABLES.zh));
  assert.deepEqual(missing, []);
});

test('texts fill their placeholders; Chinese is the default', () => {
  setCurrentLang('xx');
  assert.equal(t('err.auth', { drill: 'ab12' }).includes('口令无效'), true);
  assert.equal(t('err.lost'), '与服务器的连接已断开，正在重新连接…');
  setCurrentLang('en');
  assert.match(t('err.auth', { drill: 'ab12' }), /token is not valid for drill ab12/);
  setCurrentLang('zh');
});

test('the page loads nothing from another origin', () => {
  for (const m of html.matchAll(/(?:src|href)="([^"]+)"/g)) {
    assert.ok(m[1].startsWith('/') || m[1].startsWith('data:'), `index.html loads ${m[1]}`);
  }
  for (const f of own) {
    const src = readFileSync(join(WEB, f), 'utf8');
    assert.doesNotMatch(src, /\bimport\b[^;]*from\s*['"]https?:/, `${f} imports from another origin`);
    assert.doesNotMatch(src, /fetch\(\s*['"`]https?:/, `${f} fetches from another origin`);
  }
});

test('module imports are relative and resolve to files in net/web', () => {
  const seen = new Set();
  const visit = (file) => {
    if (seen.has(file)) return;
    seen.add(file);
    const src = readFileSync(file, 'utf8');
    for (const m of src.matchAll(/^(?:import|export)\b[^;'"]*?\bfrom\s*['"]([^'"]+)['"]|^\}\s*from\s*['"]([^'"]+)['"]|^import\s*['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/gm)) {
      const spec = m[1] || m[2] || m[3] || m[4];
      assert.ok(spec.startsWith('.'), `${file}: bare import ${spec} (the CSP allows no import map)`);
      const target = resolve(dirname(file), spec);
      assert.ok(target.startsWith(WEB) && existsSync(target), `${file}: ${spec} does not exist`);
      visit(target);
    }
  };
  visit(join(WEB, 'main.js'));
  assert.ok([...seen].some((f) => f.endsWith('three.core.js')), 'three.js is reached from main.js');
  assert.ok([...seen].some((f) => f.endsWith('GLTFLoader.js')), 'GLTFLoader is reached from main.js');
});

test('keys built from protocol values exist for every value', () => {
  const families = {
    status: ['ready', 'running', 'paused', 'finished', 'ended'],
    role: ['participant', 'instructor', 'observer'],
    hazard: ['fire', 'smoke', 'gas', 'flood', 'power_cut', 'alarm', 'blocked_exit', 'block_exit', 'unblock_exit', 'clear'],
    cam: ['overview', 'plan', 'first'],
    mark: ['injured', 'fire', 'blocked', 'other'],
    err: ['refused', 'state', 'forbidden', 'rate_limited', 'bad_field', 'timeout', 'disconnected', 'other'],
  };
  for (const [family, values] of Object.entries(families)) {
    for (const v of values) assert.ok(`${family}.${v}` in TABLES.zh, `${family}.${v}`);
  }
});
