// The admin console and the app center, against the real server and a real
// signed catalog (web/e2e/make-catalog builds the 日报 app from
// plugins/apps/dailyreport, signs it with a fresh publisher key and lists
// it): the hospital's admin imports a small CSV and sees the dry run's
// changes before applying them, gives a person a role, trusts the
// publisher's key, installs the app through the consent screen (one scope
// narrowed to the nurse's ward) and enables it; then a nurse opens it in the
// app center and submits her report from inside the sandboxed frame (the
// page calls its app's routes with the page token the server put in it, no
// cookies), sees it listed, and her head nurse sees it on the ward's page.
// Desktop and phone screenshots.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, newPage, demo, hasRoute, signIn, shot, DESKTOP, PHONE, apiIn } from '../lib.mjs';

let browser;
let skip = '';
let admin;
let nurse;
let head;
let password = '';
const publisherKey = process.env.ROUNDS_E2E_PUBLISHER_KEY || '';

before(async () => {
  if (!(await hasRoute('POST', '/api/v1/sessions'))) { skip = 'the server does not serve sign-in yet'; return; }
  if (!(await hasRoute('GET', '/api/v1/me/apps'))) { skip = 'the server does not serve the app center yet'; return; }
  if (!publisherKey) { skip = 'no signed catalog: run through web/e2e/run (ROUNDS_E2E_PUBLISHER_KEY)'; return; }
  const d = demo();
  password = d.password;
  admin = d.logins.find((l) => /org_admin/.test(l.role) && l.login.startsWith('jcyy.'));
  nurse = d.logins.find((l) => /护士 /.test(l.role + ' ') && /\(staff\)/.test(l.role) && l.login.startsWith('jcyy.'));
  if (!admin || !nurse) { skip = 'the server printed no org admin or nurse account'; return; }
  // The nurse's ward and its head nurse (the demo prints both).
  nurse.dept = nurse.role.split(' · ')[1];
  head = d.logins.find((l) => l.login.startsWith('jcyy.') && /护士长/.test(l.role) && l.role.split(' · ')[1] === nurse.dept);
  if (!head) { skip = 'the server printed no head nurse of the nurse\'s ward'; return; }
  browser = await launch();
});
after(async () => { await browser?.close(); });

test('admin: CSV dry run then import, a role, and an app installed with consent', async (t) => {
  if (skip) return t.skip(skip);
  const { page, context } = await newPage(browser, DESKTOP);
  await signIn(page, admin.login, password);
  const me = (await apiIn(page, 'GET', '/api/v1/me')).body;
  const org = me.org_id;

  // The admin tab shows for an admin.
  const tab = page.locator('.rail-tab[data-tab=admin]');
  await tab.waitFor({ state: 'visible' });
  await tab.click();
  await page.waitForURL(/#\/admin/);

  // Org chart: a CSV with a new team; the dry run shows it and changes nothing.
  const root = (await apiIn(page, 'GET', `/api/v1/orgs/${org}/departments`)).body.items[0].name;
  const csv = `工号,姓名,部门,职务\n90101,林晓雯,${root}/信息中心/运维组,工程师\n90102,高建国,${root}/信息中心/运维组,工程师\n`;
  await page.getByTestId('import-file').setInputFiles({ name: '运维组.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
  await page.getByTestId('import-preview').click();
  const plan = page.getByTestId('import-plan');
  await plan.waitFor();
  const planText = await plan.textContent();
  assert.match(planText, /预览（尚未导入）/);
  assert.match(planText, /新增部门.*运维组/s);
  assert.match(planText, /林晓雯 \(90101\).*高建国 \(90102\)/s);
  const before = (await apiIn(page, 'GET', '/api/v1/directory/search?q=' + encodeURIComponent('林晓雯'))).body;
  assert.equal((before.items || []).length, 0, 'the dry run must not import anyone');
  await shot(page, 'admin-import-dryrun-desktop');
  await page.getByTestId('import-apply').click();
  await page.getByTestId('import-applied').waitFor();
  assert.match(await page.getByTestId('import-result').textContent(), /已导入/);
  const afterImport = (await apiIn(page, 'GET', '/api/v1/directory/search?q=' + encodeURIComponent('林晓雯'))).body;
  assert.equal(afterImport.items.length, 1, 'the applied import adds the person');
  const newcomer = afterImport.items[0].id;

  // Roles: give the newcomer the department-head role.
  await page.locator('.adm-tab[data-tab=roles]').click();
  await page.getByTestId('roles-table').waitFor();
  assert.match(await page.getByTestId('roles-table').textContent(), /医院管理员.*org_admin/s);
  await page.getByTestId('role-search').fill('林晓雯');
  await page.getByTestId('role-search').press('Enter');
  await page.locator(`[data-person="${newcomer}"]`).click();
  await page.getByTestId('grant-role').selectOption('dept_head');
  await page.getByTestId('grant-submit').click();
  await page.locator('[data-testid=held-roles] [data-role=dept_head]').waitFor();
  const held = (await apiIn(page, 'GET', `/api/v1/orgs/${org}/users/${newcomer}/roles`)).body;
  assert.ok(held.roles.includes('dept_head'), JSON.stringify(held));

  // Apps: trust the publisher, browse the catalog, consent and install.
  await page.locator('.adm-tab[data-tab=apps]').click();
  await page.getByTestId('key-name').fill('江城医疗软件');
  await page.getByTestId('key-value').fill(publisherKey);
  await page.getByTestId('key-add').click();
  await page.locator('.adm-keys li').waitFor();
  const card = page.locator('.adm-app[data-app=daily-report]');
  await card.waitFor();
  const cardText = await card.textContent();
  assert.match(cardText, /日报/);
  assert.match(cardText, /江城医疗软件/);
  assert.match(cardText, /v0\.2\.0/);
  assert.match(cardText, /orgchart:read.*im:send.*im:direct.*http:routes/s);
  // The screenshot is served by the server from the catalog and is a real image.
  const shotImg = card.locator('img.adm-shot');
  await shotImg.waitFor();
  await page.waitForFunction((el) => el.complete && el.naturalWidth > 0, await shotImg.elementHandle());
  await shot(page, 'admin-apps-catalog-desktop');

  await page.getByTestId('install-daily-report-0.2.0').click();
  const consent = page.getByTestId('consent');
  await consent.waitFor();
  assert.match(await consent.textContent(), /读取组织架构.*以机器人发消息.*以机器人私信本院员工.*提供页面和接口/s);
  // Narrow the org chart to the nurse's ward, whose staff write reports.
  const depts = (await apiIn(page, 'GET', `/api/v1/orgs/${org}/departments`)).body.items;
  let ward = { children: depts };
  for (const name of nurse.dept.split('/')) ward = (ward.children || []).find((d) => d.name === name);
  assert.ok(ward, 'the demo has the nurse\'s ward ' + nurse.dept);
  await consent.locator('[data-where="orgchart:read"]').selectOption('subtree');
  await consent.locator('[data-subtree="orgchart:read"]').selectOption(ward.id);
  // The app's department is picked from the org chart by name.
  await consent.getByTestId('dept-search').fill(ward.name);
  await consent.locator(`[data-testid=dept-options] [data-dept="${ward.id}"]`).click();
  await consent.locator('#cs-enable').uncheck();
  await shot(page, 'admin-consent-desktop');
  await page.getByTestId('consent-install').click();
  await consent.waitFor({ state: 'detached', timeout: 60000 });
  const row = page.locator('.adm-install[data-app=daily-report]');
  await row.waitFor();
  assert.match(await row.getByTestId('install-state').textContent(), /已停用/);
  await row.getByTestId('enable').click();
  await page.waitForFunction(() => /已启用/.test(document.querySelector('.adm-install[data-app=daily-report] [data-testid=install-state]')?.textContent || ''), null, { timeout: 60000 });
  const installs = (await apiIn(page, 'GET', `/api/v1/orgs/${org}/marketplace/installs`)).body.items;
  assert.equal(installs.length, 1);
  assert.equal(installs[0].enabled, true);
  assert.deepEqual(installs[0].current.grants, [{ scope: 'orgchart:read', subtree: ward.id }, { scope: 'im:send' }, { scope: 'im:direct' }, { scope: 'http:routes' }]);
  await shot(page, 'admin-apps-installed-desktop');

  // Audit: the install is there; verifying the whole chain is a system admin's.
  await page.locator('.adm-tab[data-tab=audit]').click();
  await page.getByTestId('audit-action').fill('marketplace.');
  await page.getByTestId('audit-filter').click();
  await page.locator('[data-testid=audit-list] tr[data-action="marketplace.install"]').waitFor();
  await page.getByTestId('audit-verify-btn').click();
  await page.waitForFunction(() => /系统管理员/.test(document.querySelector('[data-testid=audit-verify]').textContent));

  // Retention.
  await page.locator('.adm-tab[data-tab=settings]').click();
  await page.getByTestId('ret-messages').fill('365');
  await page.getByTestId('ret-files').fill('180');
  await page.getByTestId('ret-save').click();
  await page.locator('[data-testid=ret-status] .adm-ok').waitFor();
  const ret = (await apiIn(page, 'GET', '/api/v1/im/retention')).body;
  assert.equal(ret.message_days, 365);
  assert.equal(ret.file_days, 180);

  // A legal hold on the nurse: found in the directory, listed, then released.
  const caseNo = 'E2E-' + Date.now();
  await page.getByTestId('hold-q').fill(nurse.role.split(' · ')[0]);
  await page.getByTestId('hold-find').click();
  await page.locator('form.adm-hold-form .person-row').first().click();
  await page.getByTestId('hold-chosen').waitFor();
  await page.getByTestId('hold-case').fill(caseNo);
  await page.getByTestId('hold-reason').fill('医疗纠纷调查');
  await page.getByTestId('hold-submit').click();
  const holdRow = page.locator(`[data-testid=holds] .adm-hold[data-case="${caseNo}"]`);
  await holdRow.waitFor();
  const holds = (await apiIn(page, 'GET', '/api/v1/im/holds')).body.items;
  const hold = holds.find((x) => x.case_number === caseNo);
  assert.ok(hold && hold.user_id && !hold.released_at, JSON.stringify(holds));
  await shot(page, 'admin-holds-desktop');
  await holdRow.getByTestId('hold-release').click();
  await page.waitForFunction((c) => !document.querySelector(`[data-testid=holds] .adm-hold[data-case="${c}"]`), caseNo);
  const released = (await apiIn(page, 'GET', '/api/v1/im/holds?released=1')).body.items.find((x) => x.id === hold.id);
  assert.ok(released && released.released_at, JSON.stringify(released));

  // A custom role, created and deleted from the roles tab.
  await page.locator('.adm-tab[data-tab=roles]').click();
  await page.getByTestId('role-name').fill('e2e_auditor');
  await page.getByTestId('role-desc').fill('审计员');
  await page.getByTestId('rule-object').fill('audit.log');
  await page.getByTestId('rule-action').fill('read');
  await page.getByTestId('role-create').click();
  const roleRow = page.locator('[data-testid=roles-table] tr[data-role=e2e_auditor]');
  await roleRow.waitFor();
  await roleRow.getByTestId('role-delete').click();
  await page.waitForFunction(() => !document.querySelector('[data-testid=roles-table] tr[data-role=e2e_auditor]'));

  // The phone layout of the apps tab.
  await page.setViewportSize(PHONE);
  await page.locator('.adm-tab[data-tab=apps]').click();
  await page.locator('.adm-install[data-app=daily-report]').waitFor();
  await shot(page, 'admin-apps-phone');
  assert.deepEqual(page.errors, []);
  await context.close();
});

test('staff: the app center opens the installed app in a sandboxed frame', async (t) => {
  if (skip) return t.skip(skip);
  for (const [vp, name] of [[DESKTOP, 'desktop'], [PHONE, 'phone']]) {
    const { page, context } = await newPage(browser, vp);
    await signIn(page, nurse.login, password);
    // No admin console for a nurse. On a phone the bottom bar keeps four
    // tabs and puts the rest under "more", where the apps are.
    if (vp === PHONE) {
      assert.equal(await page.locator('.rail-tab[data-tab=apps]').isVisible(), false);
      await page.getByTestId('more-tab').click();
      const menu = page.getByTestId('more-menu');
      await menu.waitFor();
      assert.equal(await menu.locator('[data-tab=admin]').isVisible(), false);
      await shot(page, 'nav-more-phone');
      await menu.locator('[data-tab=apps]').click();
      assert.equal(await menu.isVisible(), false);
    } else {
      await page.locator('.rail-tab[data-tab=apps]').click();
    }
    assert.equal(await page.locator('.rail-tab[data-tab=admin]').isVisible(), false);
    const tile = page.locator('.app-tile[data-app=daily-report]');
    await tile.waitFor({ timeout: 30000 });
    await tile.click();
    const frame = page.getByTestId('app-frame');
    await frame.waitFor();
    assert.equal(await frame.getAttribute('sandbox'), 'allow-scripts allow-forms');
    assert.match(await frame.getAttribute('src'), /^\/plugins\/daily-report\/ui\/write\?lang=zh-CN$/);
    const inside = page.frameLocator('[data-testid=app-frame]');
    await inside.locator('textarea[name=text]').waitFor();
    assert.match(await inside.locator('button').textContent(), /提交/);
    // An opaque origin: the page cannot read the client's cookies or DOM.
    const origin = await page.frames().find((f) => f !== page.mainFrame()).evaluate(() => window.origin);
    assert.equal(origin, 'null');
    await shot(page, 'apps-center-' + name);
    assert.deepEqual(page.errors, []);
    await context.close();
  }
});

// openApps goes to the app center: a rail tab on a desktop, under "more" on
// a phone.
async function openApps(page, vp) {
  if (vp === PHONE) {
    await page.getByTestId('more-tab').click();
    await page.getByTestId('more-menu').locator('[data-tab=apps]').click();
  } else {
    await page.locator('.rail-tab[data-tab=apps]').click();
  }
}

test('staff: a nurse submits her report from inside the sandboxed frame; her head nurse sees it', async (t) => {
  if (skip) return t.skip(skip);
  const text = '今日查房完成，3床术后换药 ' + Date.now();
  {
    const { page, context } = await newPage(browser, DESKTOP);
    await signIn(page, nurse.login, password);
    await page.locator('.rail-tab[data-tab=apps]').click();
    await page.locator('.app-tile[data-app=daily-report]').click();
    await page.getByTestId('app-frame').waitFor();
    const inside = page.frameLocator('[data-testid=app-frame]');
    // The page lists my reports through its app's route before I write.
    await inside.locator('[data-testid=my-reports] li').first().waitFor();
    await inside.getByLabel('今天的工作').fill(text);
    await inside.getByRole('button', { name: '提交' }).click();
    await inside.locator('#msg').filter({ hasText: /已提交|提交失败/ }).waitFor();
    assert.equal(await inside.locator('#msg').textContent(), '已提交');
    await inside.locator('[data-testid=my-reports] li', { hasText: text }).waitFor();
    await shot(page, 'apps-daily-report-submitted-desktop');
    assert.deepEqual(page.errors, []);
    await context.close();
  }
  for (const [vp, name] of [[DESKTOP, 'desktop'], [PHONE, 'phone']]) {
    const { page, context } = await newPage(browser, vp);
    await signIn(page, head.login, password);
    await openApps(page, vp);
    await page.locator('.app-tile[data-app=daily-report]').click();
    // The app has two pages: the chips switch between them.
    await page.locator('.app-pages a', { hasText: '科室日报' }).click();
    await page.waitForURL(/#\/apps\/[^/]+\/team$/);
    const frame = page.getByTestId('app-frame');
    await page.waitForFunction(() => /\/ui\/team\?lang=zh-CN$/.test(document.querySelector('[data-testid=app-frame]')?.getAttribute('src') || ''));
    assert.equal(await frame.getAttribute('sandbox'), 'allow-scripts allow-forms');
    const inside = page.frameLocator('[data-testid=app-frame]');
    const row = inside.locator('[data-testid=team-reports] tr', { hasText: nurse.role.split(' · ')[0] });
    await row.waitFor();
    assert.match(await row.textContent(), new RegExp(text));
    assert.match(await inside.locator('caption').textContent(), /已交 [1-9]\d* \/ \d+ 人/);
    await shot(page, 'apps-daily-report-team-' + name);
    assert.deepEqual(page.errors, []);
    await context.close();
  }
});
