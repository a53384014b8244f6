// Shared helpers for the browser tests: the server under test, Chromium,
// signing in, and screenshots.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

export const baseURL = process.env.ROUNDS_E2E_BASE_URL || '';
const artifacts = process.env.ROUNDS_E2E_ARTIFACTS || new URL('./artifacts', import.meta.url).pathname;

export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };

/** The demo accounts the server printed at start: {password, logins: [{login, role}]}. */
export function demo() {
  const path = process.env.ROUNDS_E2E_SERVER_LOG;
  if (!path) return { password: '', logins: [] };
  const text = readFileSync(path, 'utf8');
  const m = /Demo accounts \(password for all: (\S+)\):\n((?:[ \t]+\S+.*\n?)*)/.exec(text);
  if (!m) return { password: '', logins: [] };
  const logins = m[2].split('\n').map((l) => l.trim()).filter(Boolean).map((l) => {
    const [login, ...role] = l.split(/\s+/);
    return { login, role: role.join(' ') };
  });
  return { password: m[1], logins };
}

export async function launch() {
  // playwright-core gives every launch a new, empty user data directory.
  return chromium.launch({
    executablePath: process.env.ROUNDS_E2E_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
}

export async function newPage(browser, viewport = DESKTOP, opts = {}) {
  const context = await browser.newContext({ baseURL, viewport, locale: 'zh-CN', ...opts });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e));
  // A Content-Security-Policy violation is a bug in the client: report it.
  page.on('console', (m) => { if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) errors.push(new Error(m.text())); });
  page.on('dialog', (d) => d.accept());
  page.errors = errors;
  return { context, page };
}

/** Does the server answer this API route (anything but a 404 "no API route")? */
export async function hasRoute(method, path) {
  const res = await fetch(baseURL + path, { method, headers: { 'Content-Type': 'application/json' }, body: method === 'GET' ? undefined : '{}', signal: AbortSignal.timeout(10000) });
  if (res.status !== 404) return true;
  const body = await res.json().catch(() => ({}));
  return !/no API route/.test(body.message || '');
}

export async function signIn(page, login, password) {
  await page.goto('/');
  await page.locator('#login').fill(login);
  await page.locator('#password').fill(password);
  await page.locator('form.login-form button[type=submit]').click();
  await page.locator('nav.rail').waitFor();
}

export async function shot(page, name) {
  await page.screenshot({ path: join(artifacts, name + '.png') });
}

/** fetch from inside a signed-in page (its cookies), with the CSRF header: {status, body}. */
export function apiIn(page, method, path, body) {
  return page.evaluate(async ([method, path, body]) => {
    const csrf = (document.cookie.split(';').map((c) => c.trim().split('=')).find(([k]) => k === 'rounds_csrf') || [])[1] || '';
    const res = await fetch(path, { method, headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': decodeURIComponent(csrf) }, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: res.status, body: await res.json().catch(() => null) };
  }, [method, path, body]);
}
