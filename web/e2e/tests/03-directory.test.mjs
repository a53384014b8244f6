// The directory: the org tree, search by pinyin initials, a person card.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, newPage, demo, hasRoute, signIn, shot, DESKTOP, PHONE } from '../lib.mjs';

let browser;
let page; let context;
let skip = '';

before(async () => {
  if (!(await hasRoute('POST', '/api/v1/sessions'))) { skip = 'the server does not serve sign-in yet'; return; }
  if (!(await hasRoute('GET', '/api/v1/directory/search'))) { skip = 'the server does not serve the directory API yet'; return; }
  const { password, logins } = demo();
  if (!logins.length) { skip = 'the server printed no demo accounts'; return; }
  browser = await launch();
  ({ context, page } = await newPage(browser, DESKTOP));
  await signIn(page, logins[0].login, password);
});
after(async () => { await browser?.close(); });

async function api(path) {
  return page.evaluate(async (p) => { const r = await fetch(p); return { status: r.status, body: await r.json() }; }, path);
}

test('the org tree opens a department and lists its staff', async (t) => {
  if (skip) return t.skip(skip);
  await page.goto('/#/directory');
  const first = page.locator('.tree [role=treeitem]').first();
  await first.waitFor();
  // Keyboard: focus the tree, open the first department with Enter.
  await first.focus();
  await page.keyboard.press('Enter');
  await page.waitForURL(/#\/directory\/dept\//);
  await page.locator('.dir-body h3').first().waitFor();
  await shot(page, 'directory-desktop');
});

test('search by pinyin initials finds the person, and the card opens', async (t) => {
  if (skip) return t.skip(skip);
  // Find initials that the server matches as initials (the demo's names are
  // generated), then type them as a person would.
  let query = ''; let hit = null;
  for (const q of ['zw', 'wj', 'lj', 'zl', 'wl', 'lx', 'zj', 'ch', 'lh', 'wf', 'zy', 'ly', 'wy', 'hj', 'zh']) {
    const r = await api('/api/v1/directory/search?q=' + q);
    const h = (r.body.items || []).find((x) => x.matched_by === 'initials');
    if (h) { query = q; hit = h; break; }
  }
  if (!hit) return t.skip('no demo name matched any of the tried initials');
  await page.goto('/#/directory');
  await page.getByTestId('dir-search').fill(query);
  const row = page.locator(`.search-results .person-row[data-person="${hit.id}"]`);
  await row.waitFor();
  assert.match(await row.textContent(), new RegExp(hit.name));
  await row.click();
  await page.locator('.person-card').waitFor();
  assert.equal(await page.locator('.card-name').textContent(), hit.name);
  assert.ok(await page.getByTestId('start-chat').isVisible());
  await shot(page, 'person-card-desktop');
  assert.deepEqual(page.errors.map(String), []);
});

test('the directory at phone width shows one pane at a time', async (t) => {
  if (skip) return t.skip(skip);
  const ctx = await browser.newContext({ baseURL: process.env.ROUNDS_E2E_BASE_URL, viewport: PHONE, storageState: await context.storageState() });
  const p = await ctx.newPage();
  await p.goto('/#/directory');
  await p.locator('.tree [role=treeitem]').first().waitFor();
  assert.equal(await p.evaluate(() => document.documentElement.scrollWidth > window.innerWidth), false);
  await shot(p, 'directory-phone');
  await p.locator('.tree .tree-name').first().click();
  await p.locator('.dir-body h3').first().waitFor();
  assert.equal(await p.locator('.list-pane').isVisible(), false);
  await ctx.close();
});
