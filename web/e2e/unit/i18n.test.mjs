// The two dictionaries must have the same keys, no empty strings and the
// same {placeholders}, so switching language never shows a raw key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { zh } from '../../static/js/i18n/zh-CN.js';
import { en } from '../../static/js/i18n/en.js';

const vars = (s) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

test('zh-CN and en have the same keys', () => {
  const a = Object.keys(zh).sort();
  const b = Object.keys(en).sort();
  assert.deepEqual(a.filter((k) => !(k in en)), [], 'keys missing from en');
  assert.deepEqual(b.filter((k) => !(k in zh)), [], 'keys missing from zh-CN');
});

test('every string is non-empty and has the same placeholders in both languages', () => {
  for (const k of Object.keys(zh)) {
    assert.ok(zh[k].trim(), `zh-CN ${k} is empty`);
    assert.ok(en[k].trim(), `en ${k} is empty`);
    assert.deepEqual(vars(zh[k]), vars(en[k]), `placeholders of ${k} differ`);
  }
});

test('every key the client uses is in the dictionaries', () => {
  const dir = new URL('../../static/js/', import.meta.url);
  const files = [];
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const u = new URL(e.name + (e.isDirectory() ? '/' : ''), d);
      if (e.isDirectory()) walk(u); else if (e.name.endsWith('.js')) files.push(u);
    }
  };
  walk(dir);
  const missing = [];
  for (const f of files) {
    const src = readFileSync(f, 'utf8');
    for (const m of src.matchAll(/\bt\('([a-z0-9_.]+)'/g)) {
      if (m[1].endsWith('.')) continue; // built keys such as 'nav.' + tab
      if (!(m[1] in zh)) missing.push(`${m[1]} (${f.pathname.split('/static/')[1]})`);
    }
  }
  assert.deepEqual(missing, []);
});

test('the client never assigns innerHTML or outerHTML', () => {
  const dir = new URL('../../static/js/', import.meta.url);
  const offenders = [];
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const u = new URL(e.name + (e.isDirectory() ? '/' : ''), d);
      if (e.isDirectory()) walk(u);
      else if (e.name.endsWith('.js') && /\.(inner|outer)HTML\s*=|insertAdjacentHTML|document\.write/.test(readFileSync(u, 'utf8'))) offenders.push(e.name);
    }
  };
  walk(dir);
  assert.deepEqual(offenders, []);
});
