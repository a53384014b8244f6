// The admin console as an org admin of the demo, against the real server and
// the signed catalog web/e2e/make-catalog builds. It works in the demo's
// second hospital (青山县人民医院): 10-apps-admin installs the same app in
// the first, whose later tests use it.
// (a) the 日报 app is installed from the catalog with its department picked
//     from the org chart by name (the manifest's labels, in either language,
//     not raw keys); the saved setting is the department's id and the app
//     runs with it;
// (b) a conversation's messages are exported from the retention tab, given
//     by the link of the conversation as the admin sees it in chat, and the
//     downloaded CSV and JSON Lines files hold exactly those messages; a link
//     that names no conversation is refused and downloads nothing;
// (c) on a 390 px phone every admin tab is in view and reachable by tapping,
//     while the desktop keeps its one-row tab bar.
// Screenshots: the picker (desktop and phone) and the phone tab bar.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { launch, newPage, demo, hasRoute, signIn, shot, DESKTOP, PHONE, apiIn } from '../lib.mjs';

let browser;
let skip = '';
let admin;
let nurse;
let password = '';
const publisherKey = process.env.ROUNDS_E2E_PUBLISHER_KEY || '';
const TABS = ['org', 'roles', 'apps', 'audit', 'settings'];

/** The department at a path ("医院/内科/心内科/心内一病区") in the org's tree. */
async function departmentAt(page, org, path) {
  let node = { children: (await apiIn(page, 'GET', `/api/v1/orgs/${org}/departments`)).body.items };
  for (const name of path.split('/')) node = (node.children || []).find((d) => d.name === name);
  return node;
}

/** RFC 4180 CSV into rows of fields. */
function parseCSV(text) {
  const rows = [];
  let row = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i++; } else if (c === '"') quoted = false; else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { row.push(field); field = ''; } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field); rows.push(row); row = []; field = '';
    } else field += c;
  }
  if (field || row.length) { row.push(field); rows.push(row); }
  return rows;
}

/** Open the admin console: a rail tab on a desktop, under "more" on a phone. */
async function openAdmin(page, phone) {
  if (phone) {
    await page.getByTestId('more-tab').tap();
    await page.getByTestId('more-menu').locator('[data-tab=admin]').tap();
  } else {
    await page.locator('.rail-tab[data-tab=admin]').click();
  }
  await page.waitForURL(/#\/admin/);
  await page.locator('.adm-tabs').waitFor();
}

before(async () => {
  if (!(await hasRoute('POST', '/api/v1/sessions'))) { skip = 'the server does not serve sign-in yet'; return; }
  if (!(await hasRoute('GET', '/api/v1/me/apps'))) { skip = 'the server does not serve the app center yet'; return; }
  if (!publisherKey) { skip = 'no signed catalog: run through web/e2e/run (ROUNDS_E2E_PUBLISHER_KEY)'; return; }
  const d = demo();
  password = d.password;
  admin = d.logins.find((l) => /org_admin/.test(l.role) && l.login.startsWith('qsxy.'));
  nurse = d.logins.find((l) => /护士 /.test(l.role + ' ') && /\(staff\)/.test(l.role) && l.login.startsWith('qsxy.'));
  if (!admin || !nurse) { skip = 'the server printed no org admin or nurse account'; return; }
  nurse.name = nurse.role.split(' · ')[0];
  nurse.dept = nurse.role.split(' · ')[1];
  browser = await launch();
});
after(async () => { await browser?.close(); });

test('(a) the 日报 app is installed with its department picked from the org chart', async (t) => {
  if (skip) return t.skip(skip);
  const { page, context } = await newPage(browser, DESKTOP);
  await signIn(page, admin.login, password);
  const org = (await apiIn(page, 'GET', '/api/v1/me')).body.org_id;
  const mp = `/api/v1/orgs/${org}/marketplace`;
  // The hospital trusts the publisher (10-apps-admin adds a key through the
  // form) and has not installed the app (on a server this test ran on
  // before, it is uninstalled with its data first).
  const keys = (await apiIn(page, 'GET', mp + '/keys')).body.items || [];
  if (!keys.some((k) => k.public_key === publisherKey)) {
    assert.equal((await apiIn(page, 'POST', mp + '/keys', { name: '江城医疗软件', public_key: publisherKey })).status, 201);
  }
  for (const i of (await apiIn(page, 'GET', mp + '/installs')).body.items || []) {
    if (i.app_id === 'daily-report') assert.equal((await apiIn(page, 'DELETE', `${mp}/installs/${i.id}?keep_data=false`)).status, 204);
  }
  const ward = await departmentAt(page, org, nurse.dept);
  assert.ok(ward, 'the demo has the nurse\'s ward ' + nurse.dept);

  await openAdmin(page, false);
  await page.locator('.adm-tab[data-tab=apps]').click();
  await page.getByTestId('install-daily-report-0.2.0').click();
  const consent = page.getByTestId('consent');
  await consent.waitFor();
  // The settings speak the manifest's labels and descriptions, not its keys.
  const dept = consent.locator('[data-setting=department]');
  assert.match(await dept.textContent(), /写日报的科室 \*.*该科室的员工每天写日报/s);
  assert.match(await consent.locator('[data-setting=reminder_hour]').textContent(), /提醒时间（0–23 点，北京时间）/);
  assert.doesNotMatch(await consent.locator('fieldset', { hasText: '设置' }).textContent(), /department|reminder_hour|reminder_conversation/);
  assert.match(await dept.getByTestId('dept-chosen').textContent(), /尚未选择科室/);

  // Installing without a department is stopped in the form: nothing is installed.
  await page.getByTestId('consent-install').click();
  await dept.locator('.field-error', { hasText: '请选择“写日报的科室”。' }).waitFor();
  assert.equal(await page.evaluate(() => document.activeElement.dataset.testid), 'dept-search');
  assert.equal(((await apiIn(page, 'GET', mp + '/installs')).body.items || []).length, 0);

  // Search by part of the name: the matches show where each department sits.
  const search = dept.getByTestId('dept-search');
  await search.fill(ward.name.slice(0, 2));
  const options = dept.getByTestId('dept-options');
  const option = options.locator(`[role=option][data-dept="${ward.id}"]`);
  await option.waitFor();
  assert.match(await option.textContent(), new RegExp(ward.name + '.*' + nurse.dept.split('/').slice(0, -1).join('/')));
  for (const text of await options.locator('[role=option]').allTextContents()) {
    assert.ok(text.includes(ward.name.slice(0, 2)), `${text} matches by its name or where it sits`);
  }
  await shot(page, 'admin-dept-picker-open-desktop');
  // The keyboard chooses as well as the mouse: the whole name, ↓, Enter.
  await search.fill(ward.name);
  await search.press('ArrowDown');
  assert.equal(await options.locator('[aria-selected=true]').getAttribute('data-dept'), ward.id);
  await search.press('Enter');
  assert.equal(await options.isVisible(), false);
  assert.equal(await dept.getByTestId('dept-chosen').textContent(), '已选： ' + nurse.dept);
  assert.equal(await dept.locator('.field-error').textContent(), '');
  await shot(page, 'admin-dept-picker-chosen-desktop');

  await page.getByTestId('consent-install').click();
  await consent.waitFor({ state: 'detached', timeout: 60000 });
  // The app starts with that department (it refuses to start without one).
  await page.waitForFunction(() => /已启用/.test(document.querySelector('.adm-install[data-app=daily-report] [data-testid=install-state]')?.textContent || ''), null, { timeout: 60000 });
  const installs = (await apiIn(page, 'GET', mp + '/installs')).body.items;
  assert.equal(installs.length, 1);
  assert.equal(installs[0].current.settings.department, ward.id, 'the saved setting is the department\'s id');
  assert.equal(installs[0].current.settings.reminder_hour, '17');

  // The settings dialog shows the saved department by its path, in English too.
  await page.evaluate(() => localStorage.setItem('rounds.lang', 'en'));
  await page.reload();
  await page.locator('.adm-install[data-app=daily-report]').getByTestId('settings').click();
  const form = page.getByTestId('settings-form');
  await form.waitFor();
  assert.match(await form.locator('[data-setting=department]').textContent(), /Department whose staff write reports \*.*Its staff write a report each day/s);
  assert.equal(await form.getByTestId('dept-chosen').textContent(), 'Chosen: ' + nurse.dept);
  await form.locator('button', { hasText: 'Save' }).click();
  await form.waitFor({ state: 'detached' });
  assert.equal((await apiIn(page, 'GET', mp + '/installs')).body.items[0].current.settings.department, ward.id);
  assert.deepEqual(page.errors, []);
  await context.close();
});

test('(b) a conversation\'s messages are exported and downloaded', async (t) => {
  if (skip) return t.skip(skip);
  const { page, context } = await newPage(browser, DESKTOP, { acceptDownloads: true });
  await signIn(page, admin.login, password);
  const me = (await apiIn(page, 'GET', '/api/v1/me')).body;
  const found = (await apiIn(page, 'GET', '/api/v1/directory/search?q=' + encodeURIComponent(nurse.name))).body.items;
  const nurseId = found.find((p) => p.name === nurse.name).id;
  // A group with three messages, one with the characters CSV must quote.
  const stamp = Date.now();
  const conv = (await apiIn(page, 'POST', '/api/v1/im/conversations', { kind: 'group', name: '导出测试 ' + stamp, member_ids: [nurseId] })).body;
  assert.ok(conv && conv.id, JSON.stringify(conv));
  const texts = [`3床血压 150/90，已通知"值班医生" ${stamp}`, `复测 135/85, 继续观察 ${stamp}`, `交班：3床夜间每2小时测一次 ${stamp}`];
  for (const [i, text] of texts.entries()) {
    const r = await apiIn(page, 'POST', `/api/v1/im/conversations/${conv.id}/messages`, { client_msg_id: `e2e-export-${stamp}-${i}`, text });
    assert.equal(r.status, 201, JSON.stringify(r.body));
  }
  // The admin opens it in chat and copies its link from the address bar.
  await page.goto('/#/chat/' + conv.id);
  await page.locator('.msg-scroll').getByText(texts[2]).waitFor();
  const link = page.url();

  await openAdmin(page, false);
  await page.locator('.adm-tab[data-tab=settings]').click();
  await page.getByTestId('exp-kind').selectOption('conversation');
  await page.getByTestId('exp-conv').fill(link);
  await page.getByTestId('exp-format').selectOption('csv');
  // The dates and the format sit on one line of ordinary height.
  for (const id of ['exp-from', 'exp-to', 'exp-format']) {
    const box = await page.getByTestId(id).boundingBox();
    assert.ok(box.height < 60, `${id} is ${box.height}px tall`);
  }
  const csvDownload = page.waitForEvent('download');
  await page.getByTestId('exp-submit').click();
  const csvFile = await csvDownload;
  await page.locator('[data-testid=exp-status] .adm-ok', { hasText: '导出完成' }).waitFor();
  assert.match(csvFile.suggestedFilename(), /\.csv$/);
  const rows = parseCSV((await readFile(await csvFile.path(), 'utf8')).replace(/^\uFEFF/, ''));
  const head = rows[0];
  const col = (name) => head.indexOf(name);
  const body = rows.slice(1).filter((r) => r.length > 1);
  assert.deepEqual(body.map((r) => r[col('text')]), texts, 'the download holds the conversation\'s messages, in order');
  for (const r of body) {
    assert.equal(r[col('conversation_id')], conv.id);
    assert.equal(r[col('sender_id')], me.id);
  }
  await shot(page, 'admin-export-desktop');

  // The same conversation as JSON Lines.
  await page.getByTestId('exp-format').selectOption('jsonl');
  const jsonDownload = page.waitForEvent('download');
  await page.getByTestId('exp-submit').click();
  const jsonFile = await jsonDownload;
  const records = (await readFile(await jsonFile.path(), 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l));
  assert.deepEqual(records.map((r) => r.text), texts);

  // A link that names no conversation is refused and downloads nothing.
  let downloaded = false;
  page.on('download', () => { downloaded = true; });
  await page.getByTestId('exp-conv').fill(link.replace(conv.id, 'not-a-conversation'));
  await page.getByTestId('exp-submit').click();
  await page.locator('[data-testid=exp-status] [role=alert]').waitFor();
  assert.match(await page.getByTestId('exp-status').textContent(), /conversation_id/);
  assert.equal(downloaded, false);

  // Each export is in the audit log.
  const audit = (await apiIn(page, 'GET', `/api/v1/orgs/${me.org_id}/audit?action=im.export.conversation&limit=50`)).body.items || [];
  assert.ok(audit.filter((e) => e.object_id === conv.id && e.result === 'ok').length >= 2, JSON.stringify(audit.slice(0, 3)));
  assert.deepEqual(page.errors, []);
  await context.close();
});

test('(c) on a phone every admin tab is reachable by tapping; the desktop keeps one row', async (t) => {
  if (skip) return t.skip(skip);
  {
    const { page, context } = await newPage(browser, PHONE, { hasTouch: true, isMobile: true });
    await signIn(page, admin.login, password);
    await openAdmin(page, true);
    const bar = page.locator('.adm-tabs');
    const fits = await bar.evaluate((el) => el.scrollWidth <= el.clientWidth);
    assert.ok(fits, 'the tab bar does not scroll sideways');
    await shot(page, 'admin-tabs-phone');
    for (const tab of TABS) {
      const link = page.locator(`.adm-tab[data-tab=${tab}]`);
      const box = await link.boundingBox();
      assert.ok(box && box.x >= 0 && box.x + box.width <= PHONE.width && box.height >= 36, `${tab} is in view and big enough to tap: ${JSON.stringify(box)}`);
      await link.tap();
      await page.waitForURL(new RegExp(`#/admin/${tab}$`));
      await page.locator(`.adm-pane[data-pane=${tab}]`).waitFor();
      assert.equal(await link.getAttribute('aria-current'), 'page');
    }
    // The picker on a phone (the app (a) installed): tapping the empty
    // search lists the org chart to browse; a tap on a ward chooses it.
    await page.locator('.adm-tab[data-tab=apps]').tap();
    const row = page.locator('.adm-install[data-app=daily-report]');
    await row.getByTestId('settings').tap();
    const form = page.getByTestId('settings-form');
    await form.getByTestId('dept-search').tap();
    const options = form.locator('[data-testid=dept-options] [role=option]');
    await options.first().waitFor();
    assert.ok(await options.count() > 10, 'the whole org chart to browse');
    await shot(page, 'admin-dept-picker-phone');
    const installsURL = `/api/v1/orgs/${(await apiIn(page, 'GET', '/api/v1/me')).body.org_id}/marketplace/installs`;
    const saved = () => apiIn(page, 'GET', installsURL).then((r) => r.body.items.find((i) => i.app_id === 'daily-report').current.settings.department);
    const was = await saved();
    const other = form.locator(`[data-testid=dept-options] [role=option]:not([data-dept="${was}"])`).nth(3);
    const otherId = await other.getAttribute('data-dept');
    await other.scrollIntoViewIfNeeded();
    await other.tap();
    assert.equal(await form.getByTestId('dept-chosen').locator('[data-dept]').getAttribute('data-dept'), otherId);
    // Cancel keeps what was saved.
    await form.locator('button', { hasText: '取消' }).tap();
    await form.waitFor({ state: 'detached' });
    assert.equal(await saved(), was);
    assert.deepEqual(page.errors, []);
    await context.close();
  }
  {
    const { page, context } = await newPage(browser, DESKTOP);
    await signIn(page, admin.login, password);
    await openAdmin(page, false);
    const tops = await page.locator('.adm-tab').evaluateAll((els) => els.map((el) => el.getBoundingClientRect().top));
    assert.equal(new Set(tops).size, 1, 'one row of tabs on a desktop');
    assert.equal(await page.locator('.adm-tabs').evaluate((el) => getComputedStyle(el).display), 'flex');
    assert.deepEqual(page.errors, []);
    await context.close();
  }
});
