// The 智能排班 (shift planner) app, from the signed catalog
// web/e2e/make-catalog builds out of plugins/apps/shiftplanner: the admin of
// 青山县人民医院 installs it through the consent screen with the org chart
// and the roster narrowed to one ward; that ward's head nurse (护士长) opens
// it in the app center and generates next month's draft; the app's bot sends
// her the summary in chat; the draft is in the web client's roster editor as
// a draft that breaks no hard rule, and she publishes it there. Afterwards
// the app refuses to touch the published month, and a nurse of the ward may
// not plan at all; both refusals change nothing. Desktop and 390 px
// screenshots.
//
// The other hospital is used because 09-roster publishes next month of the
// first hospital's head nurse's ward in the same run.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, newPage, demo, hasRoute, signIn, shot, DESKTOP, PHONE, apiIn } from '../lib.mjs';

let browser;
let skip = '';
let password = '';
let admin; let head; let nurse; // demo logins of one hospital: its admin, a ward's head nurse and a nurse of that ward
let org = '';
let ward = ''; // the head nurse's ward (department id)
let wardName = '';
let month = ''; // next month, "2026-12"
let published = false;
const publisherKey = process.env.ROUNDS_E2E_PUBLISHER_KEY || '';

/** Opens 智能排班 in the app center; returns the frame. */
async function openPlanner(page, vp = DESKTOP) {
  if (vp === PHONE) {
    await page.getByTestId('more-tab').click();
    await page.getByTestId('more-menu').locator('[data-tab=apps]').click();
  } else {
    await page.locator('.rail-tab[data-tab=apps]').click();
  }
  await page.locator('.app-tile[data-app=shift-planner]').click({ timeout: 30000 });
  const frame = page.getByTestId('app-frame');
  await frame.waitFor();
  assert.equal(await frame.getAttribute('sandbox'), 'allow-scripts allow-forms');
  assert.match(await frame.getAttribute('src'), /^\/plugins\/shift-planner\/ui\/plan\?lang=zh-CN$/);
  const inside = page.frameLocator('[data-testid=app-frame]');
  await inside.locator('#ward option').first().waitFor({ state: 'attached' });
  return inside;
}

/** "2026-12" plus n months. */
const addMonths = (m, n) => new Date(Date.UTC(Number(m.slice(0, 4)), Number(m.slice(5)) - 1 + n, 1)).toISOString().slice(0, 7);

/** The rosters of the ward that overlap month m (next month unless said). */
async function rostersOf(page, m = month) {
  const from = m + '-01';
  const to = new Date(Date.UTC(Number(m.slice(0, 4)), Number(m.slice(5)), 0)).toISOString().slice(0, 10);
  const r = await apiIn(page, 'GET', `/api/v1/orgs/${org}/departments/${ward}/rosters?from=${from}&to=${to}`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.items;
}

before(async () => {
  if (!(await hasRoute('POST', '/api/v1/sessions'))) { skip = 'the server does not serve sign-in yet'; return; }
  if (!(await hasRoute('GET', '/api/v1/me/apps'))) { skip = 'the server does not serve the app center yet'; return; }
  if (!(await hasRoute('GET', '/api/v1/roster-patterns'))) { skip = 'the server does not serve rostering yet'; return; }
  if (!publisherKey) { skip = 'no signed catalog: run through web/e2e/run (ROUNDS_E2E_PUBLISHER_KEY)'; return; }
  const d = demo();
  password = d.password;
  const wardOf = (l) => l.role.split(' · ')[1];
  head = d.logins.find((l) => l.login.startsWith('qsxy.') && / · 护士长 · /.test(l.role));
  admin = head && d.logins.find((l) => l.login.startsWith('qsxy.') && /org_admin/.test(l.role));
  nurse = head && d.logins.find((l) => l.login.startsWith('qsxy.') && l !== head && / · 护士 · /.test(l.role) && wardOf(l) === wardOf(head));
  if (!head || !admin || !nurse) { skip = 'the demo printed no admin, head nurse and nurse of one ward of 青山县人民医院'; return; }
  browser = await launch();

  // What the hospital has set up before anyone plans (not this app's
  // screens): the admin adopts the three-shift pattern, and the head nurse
  // records who of her ward is senior (主管护师), as the default rules want a
  // senior nurse on every night.
  const A = await newPage(browser, DESKTOP);
  await signIn(A.page, admin.login, password);
  org = (await apiIn(A.page, 'GET', '/api/v1/me')).body.org_id;
  const p = await apiIn(A.page, 'POST', `/api/v1/orgs/${org}/shift-patterns/three_shift`, {});
  assert.equal(p.status, 200, JSON.stringify(p.body));
  await A.context.close();

  const H = await newPage(browser, DESKTOP);
  await signIn(H.page, head.login, password);
  const me = (await apiIn(H.page, 'GET', '/api/v1/me')).body;
  const card = (await apiIn(H.page, 'GET', `/api/v1/orgs/${org}/staff/${me.id}`)).body;
  ward = card.primary_department_id;
  wardName = card.primary_department.name;
  const members = (await apiIn(H.page, 'GET', `/api/v1/orgs/${org}/departments/${ward}/members?subtree=true&limit=200`)).body.items;
  for (const m of members.filter((x) => x.position === '主管护师')) {
    const r = await apiIn(H.page, 'PUT', `/api/v1/orgs/${org}/staff/${m.id}/roster-profile`, { skills: ['senior_nurse'] });
    assert.equal(r.status, 200, JSON.stringify(r.body));
  }
  // Next month on the hospital's clock (Beijing), as the app counts it.
  month = addMonths(new Date(Date.now() + 8 * 3600e3).toISOString().slice(0, 7), 1);
  if ((await rostersOf(H.page)).some((r) => r.status === 'published')) skip = `${wardName} ${month} is already published`;
  await H.context.close();
});
after(async () => { await browser?.close(); });

test('admin: installs 智能排班 with the org chart and the roster narrowed to the ward', async (t) => {
  if (skip) return t.skip(skip);
  const { page, context } = await newPage(browser, DESKTOP);
  await signIn(page, admin.login, password);
  await page.locator('.rail-tab[data-tab=admin]').click();
  await page.locator('.adm-tab[data-tab=apps]').click();
  const keys = (await apiIn(page, 'GET', `/api/v1/orgs/${org}/marketplace/keys`)).body.items || [];
  if (!keys.some((k) => k.public_key === publisherKey)) {
    await page.getByTestId('key-name').fill('江城医疗软件');
    await page.getByTestId('key-value').fill(publisherKey);
    await page.getByTestId('key-add').click();
    await page.locator('.adm-keys li').first().waitFor();
  }
  const card = page.locator('.adm-app[data-app=shift-planner]');
  await card.waitFor();
  const text = await card.textContent();
  assert.match(text, /智能排班/);
  assert.match(text, /江城医疗软件 · 临床/);
  assert.match(text, /读取组织架构.*读取排班.*编辑排班.*im:direct.*提供页面和接口/s);
  const img = card.locator('img.adm-shot');
  await img.waitFor();
  await page.waitForFunction((el) => el.complete && el.naturalWidth > 0, await img.elementHandle());
  await card.scrollIntoViewIfNeeded();
  await shot(page, 'shiftplanner-catalog-desktop');

  await page.getByTestId('install-shift-planner-0.1.0').click();
  const consent = page.getByTestId('consent');
  await consent.waitFor();
  for (const scope of ['orgchart:read', 'roster:read', 'roster:write']) {
    await consent.locator(`[data-where="${scope}"]`).selectOption('subtree');
    await consent.locator(`[data-subtree="${scope}"]`).selectOption(ward);
  }
  assert.ok(await consent.locator('#cs-enable').isChecked());
  await shot(page, 'shiftplanner-consent-desktop');
  await page.getByTestId('consent-install').click();
  await consent.waitFor({ state: 'detached', timeout: 60000 });
  const row = page.locator('.adm-install[data-app=shift-planner]');
  await row.waitFor();
  await page.waitForFunction(() => /已启用/.test(document.querySelector('.adm-install[data-app=shift-planner] [data-testid=install-state]')?.textContent || ''), null, { timeout: 60000 });
  assert.match(await row.textContent(), new RegExp(`编辑排班 · [^ ]*${wardName}`));
  const inst = (await apiIn(page, 'GET', `/api/v1/orgs/${org}/marketplace/installs`)).body.items.find((i) => i.app_id === 'shift-planner');
  assert.deepEqual(inst.current.grants, [{ scope: 'orgchart:read', subtree: ward }, { scope: 'roster:read', subtree: ward },
    { scope: 'roster:write', subtree: ward }, { scope: 'im:direct' }, { scope: 'http:routes' }]);
  await row.scrollIntoViewIfNeeded();
  await shot(page, 'shiftplanner-installed-desktop');
  assert.deepEqual(page.errors, []);
  await context.close();
});

test('the head nurse generates next month\'s draft, finds it in the roster editor with no hard-rule violation, and publishes it', async (t) => {
  if (skip) return t.skip(skip);
  const { page, context } = await newPage(browser, DESKTOP);
  await signIn(page, head.login, password);
  const inside = await openPlanner(page);
  // Her ward (the only one granted) and next month are chosen for her.
  assert.equal(await inside.getByLabel('病区').inputValue(), ward);
  assert.equal(await inside.locator('#ward option:checked').textContent(), wardName);
  assert.equal(await inside.getByLabel('月份').inputValue(), month);
  assert.match(await inside.locator('#month option:checked').textContent(), /（下个月）$/);
  await shot(page, 'shiftplanner-page-desktop');

  await inside.getByRole('button', { name: '生成草稿' }).click();
  const result = inside.getByTestId('plan-result');
  await result.waitFor({ timeout: 60000 });
  const monthZh = `${Number(month.slice(0, 4))}年${Number(month.slice(5))}月`;
  assert.equal(await inside.locator('#msg').textContent(), `已生成${wardName} ${monthZh}的排班草稿：硬性违规 0 项。`);
  assert.match(await result.locator('h2').textContent(), new RegExp(`${wardName} ${monthZh} 排班草稿`));
  assert.match(await result.textContent(), /草稿 · 未发布/);
  assert.equal(await result.getByTestId('hard').textContent(), '0硬性违规');
  assert.match(await result.textContent(), /夜班每人 \d+(–\d+)? 个.*周末班每人/);
  assert.match(await result.textContent(), /详细摘要已通过消息发给您/);
  // Everyone of the ward but her is rostered; the table is there to open.
  await result.locator('summary').click();
  const rows = result.locator('[data-testid=people] tbody tr');
  assert.ok(await rows.count() >= 10, 'the ward\'s nurses are listed');
  assert.equal(await result.locator('[data-testid=people] tbody th', { hasText: head.role.split(' · ')[0] }).count(), 0, 'the head nurse is not rostered');
  await shot(page, 'shiftplanner-result-desktop');
  // Nothing is published by the app.
  const saved = await rostersOf(page);
  assert.deepEqual(saved.map((r) => r.status), ['draft']);

  // The app's bot tells her in chat.
  await page.locator('.rail-tab[data-tab=chat]').click();
  const conv = page.locator('.conv-item', { hasText: '【智能排班】' });
  await conv.first().waitFor();
  await conv.first().click();
  const summary = page.locator('.msg-list .msg .text', { hasText: `【智能排班】${wardName} ${month} 排班草稿已生成，尚未发布` });
  await summary.waitFor();
  assert.match(await summary.textContent(), /硬性违规 0 项/);
  await shot(page, 'shiftplanner-chat-desktop');

  // The roster page: next month has the draft, not yet published.
  await page.goto(`/#/roster/${ward}/month/${month}-01`);
  await page.getByTestId('roster-unpublished').waitFor();
  const edit = page.getByTestId('edit-draft');
  await edit.waitFor();
  await edit.click();
  await page.waitForURL(/#\/roster\/[^/]+\/edit\//);
  const grid = page.getByTestId('editor-grid');
  await grid.waitFor();
  // The server's own rule check of the draft: nothing to fix.
  await page.getByTestId('violation-count').waitFor();
  const count = await page.getByTestId('violation-count').textContent();
  assert.ok(count === '全部符合' || /^0 项必须修正/.test(count), count);
  assert.equal(await page.locator('[data-testid=violations] .rs-v-hard').count(), 0);
  // Her nurses' shifts are in the grid: the app's assignments, as chips.
  assert.ok(await grid.locator('.rs-chip').count() >= 28 * 7, 'a month of shifts is in the editor');
  await page.waitForFunction(() => !document.querySelector('[data-testid=publish]').disabled);
  await shot(page, 'shiftplanner-editor-desktop');

  await page.getByTestId('publish').click();
  await page.getByTestId('publish-confirm').click();
  await page.getByTestId('published').waitFor();
  published = true;
  await page.waitForURL(/#\/roster\/[^/]+\/month\//);
  await page.getByTestId('roster-grid').waitFor();
  assert.ok(await page.locator('[data-testid=roster-grid] .rs-chip').count() >= 28 * 7, 'the published month shows the shifts');
  assert.deepEqual((await rostersOf(page)).map((r) => r.status), ['published']);
  await shot(page, 'shiftplanner-published-desktop');
  assert.deepEqual(page.errors, []);
  await context.close();
});

test('a published month is left alone, and a nurse may not plan: both refused, nothing changes', async (t) => {
  if (skip) return t.skip(skip);
  if (!published) return t.skip('the draft was not published');
  {
    const { page, context } = await newPage(browser, DESKTOP);
    await signIn(page, head.login, password);
    const before = await rostersOf(page);
    const inside = await openPlanner(page);
    await inside.getByRole('button', { name: '生成草稿' }).click();
    await inside.locator('#msg.error').waitFor();
    assert.match(await inside.locator('#msg').textContent(), /^生成失败：.*已发布，智能排班只生成草稿，不会改动已发布的排班/);
    assert.equal(await inside.getByTestId('plan-result').isVisible(), false);
    assert.deepEqual(await rostersOf(page), before);
    assert.deepEqual(page.errors, []);
    await context.close();
  }
  {
    // A nurse of the ward asks for the month after next, which has no roster.
    const later = addMonths(month, 1);
    const { page, context } = await newPage(browser, DESKTOP);
    await signIn(page, nurse.login, password);
    const inside = await openPlanner(page);
    await inside.getByLabel('月份').selectOption(later);
    await inside.getByRole('button', { name: '生成草稿' }).click();
    await inside.locator('#msg.error').waitFor();
    assert.match(await inside.locator('#msg').textContent(), new RegExp(`^生成失败：只有${wardName}的护士长`));
    await shot(page, 'shiftplanner-refused-desktop');
    assert.deepEqual(page.errors, []);
    await context.close();
    const H = await newPage(browser, DESKTOP);
    await signIn(H.page, head.login, password);
    assert.deepEqual(await rostersOf(H.page, later), [], 'a refused request leaves no draft');
    await H.context.close();
  }
});

test('the page on a phone (390 px): form and result fit the screen', async (t) => {
  if (skip) return t.skip(skip);
  const { page, context } = await newPage(browser, PHONE);
  await signIn(page, head.login, password);
  const inside = await openPlanner(page, PHONE);
  // The month after next: a fresh draft to look at.
  await inside.getByLabel('月份').selectOption({ index: 2 });
  await inside.getByRole('button', { name: '生成草稿' }).click();
  const result = inside.getByTestId('plan-result');
  await result.waitFor({ timeout: 60000 });
  await result.locator('summary').click();
  const f = page.frames().find((x) => x !== page.mainFrame());
  const [scroll, client] = await f.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
  assert.ok(scroll <= client, `the page is ${scroll}px wide in a ${client}px frame`);
  await shot(page, 'shiftplanner-result-phone');
  await f.evaluate(() => document.querySelector('[data-testid=people]').scrollIntoView());
  await shot(page, 'shiftplanner-people-phone');
  assert.deepEqual(page.errors, []);
  await context.close();
});
