// The IT 报修 (helpdesk) app, from the signed catalog web/e2e/make-catalog
// builds out of plugins/apps/helpdesk: the hospital's admin installs it
// through the consent screen and names the IT engineer the app assigns
// tickets to (its required `engineers` setting); a nurse opens it in the app
// center and files a ticket from its form (a blank description is refused
// and files nothing); the engineer, opening the same app, finds the ticket
// on his desk, takes it and resolves it; the nurse sees the new status on
// her page and rates the fix, which closes the ticket and takes it off the
// engineer's desk; in chat she finds the app's bot, 「IT 报修」, with a direct
// message for every status change. Desktop and 390 px screenshots. She also
// files one with /it in a chat: the app answers her alone, and the ticket is
// on her page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, newPage, demo, hasRoute, signIn, shot, DESKTOP, PHONE, apiIn } from '../lib.mjs';
import { openHelpdesk, runSlash } from '../slash.mjs';

let browser;
let skip = '';
let password = '';
let admin; let nurse; // demo logins
let engineer; // {id, name, login, password}: an engineer of the IT centre
let org = '';
const publisherKey = process.env.ROUNDS_E2E_PUBLISHER_KEY || '';
const description = '心内一病区护士站打印机卡纸，打不出医嘱单 ' + Date.now();
let ticket = 0; // the number the nurse's ticket got

/** The page inside the frame is no wider than the frame. */
async function fitsFrame(page) {
  const f = page.frames().find((x) => x !== page.mainFrame());
  return f.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
}

before(async () => {
  if (!(await hasRoute('POST', '/api/v1/sessions'))) { skip = 'the server does not serve sign-in yet'; return; }
  if (!(await hasRoute('GET', '/api/v1/me/apps'))) { skip = 'the server does not serve the app center yet'; return; }
  if (!publisherKey) { skip = 'no signed catalog: run through web/e2e/run (ROUNDS_E2E_PUBLISHER_KEY)'; return; }
  const d = demo();
  password = d.password;
  admin = d.logins.find((l) => /org_admin/.test(l.role) && l.login.startsWith('jcyy.'));
  nurse = d.logins.find((l) => /护士 /.test(l.role + ' ') && /\(staff\)/.test(l.role) && l.login.startsWith('jcyy.'));
  if (!admin || !nurse) { skip = 'the server printed no org admin or nurse account'; return; }
  browser = await launch();

  // The IT centre's engineer: the admin finds him in the org chart and, as
  // IT does for a newcomer, sets his password (only the printed demo
  // accounts have one).
  const { page, context } = await newPage(browser, DESKTOP);
  await signIn(page, admin.login, password);
  org = (await apiIn(page, 'GET', '/api/v1/me')).body.org_id;
  const flat = [];
  const walk = (d, path) => { flat.push({ ...d, path: path + d.name }); for (const c of d.children || []) walk(c, path + d.name + '/'); };
  for (const d of (await apiIn(page, 'GET', `/api/v1/orgs/${org}/departments`)).body.items) walk(d, '');
  const it = flat.find((d) => /\/信息中心$/.test(d.path));
  if (!it) { skip = 'the demo hospital has no 信息中心'; await context.close(); return; }
  const members = (await apiIn(page, 'GET', `/api/v1/orgs/${org}/departments/${it.id}/members?limit=200`)).body.items;
  const eng = members.find((m) => m.position === '工程师' && !d.logins.some((l) => l.role.startsWith(m.name + ' ')));
  if (!eng) { skip = 'the 信息中心 has no 工程师'; await context.close(); return; }
  const card = (await apiIn(page, 'GET', `/api/v1/orgs/${org}/staff/${eng.id}`)).body;
  engineer = { id: eng.id, name: eng.name, login: card.login, password: 'it-desk-e2e-' + Date.now() };
  const r = await apiIn(page, 'PUT', `/api/v1/users/${eng.id}/password`, { password: engineer.password });
  assert.equal(r.status, 204, JSON.stringify(r.body));
  await context.close();
});
after(async () => { await browser?.close(); });

test('admin: installs IT 报修 from the catalog, consenting to its scopes, with the IT engineer', async (t) => {
  if (skip) return t.skip(skip);
  const { page, context } = await newPage(browser, DESKTOP);
  await signIn(page, admin.login, password);
  await page.locator('.rail-tab[data-tab=admin]').click();
  await page.locator('.adm-tab[data-tab=apps]').click();
  // Trust the publisher unless an earlier test of this run already has.
  const keys = (await apiIn(page, 'GET', `/api/v1/orgs/${org}/marketplace/keys`)).body.items || [];
  if (!keys.some((k) => k.public_key === publisherKey)) {
    await page.getByTestId('key-name').fill('江城医疗软件');
    await page.getByTestId('key-value').fill(publisherKey);
    await page.getByTestId('key-add').click();
    await page.locator('.adm-keys li').first().waitFor();
  }

  const card = page.locator('.adm-app[data-app=helpdesk]');
  await card.waitFor();
  const text = await card.textContent();
  assert.match(text, /IT 报修/);
  assert.match(text, /江城医疗软件 · 信息化/);
  assert.match(text, /信息中心工程师/);
  assert.match(text, /以机器人发消息.*im:send.*以机器人私信本院员工.*im:direct.*提供页面和接口.*http:routes/s);
  const img = card.locator('img.adm-shot');
  await img.waitFor();
  await page.waitForFunction((el) => el.complete && el.naturalWidth > 0, await img.elementHandle());
  await card.scrollIntoViewIfNeeded();
  await shot(page, 'helpdesk-catalog-desktop');

  await page.getByTestId('install-helpdesk-0.2.0').click();
  const consent = page.getByTestId('consent');
  await consent.waitFor();
  assert.match(await consent.textContent(), /以机器人发消息.*以机器人私信本院员工.*提供页面和接口/s);
  // Direct messages to staff are asked for by name, and granted unless the
  // admin unticks them.
  assert.ok(await consent.locator('[data-scope="im:direct"]').isChecked());
  await consent.locator('[data-scope="im:direct"]').scrollIntoViewIfNeeded();
  await shot(page, 'helpdesk-consent-scopes-desktop');
  // The engineers setting is required: the form will not go without it.
  await page.getByTestId('consent-install').click();
  assert.equal(await consent.locator('#cs-set-engineers').evaluate((el) => el.validity.valueMissing), true);
  await consent.locator('#cs-set-engineers').fill(engineer.id);
  assert.ok(await consent.locator('#cs-enable').isChecked(), 'installed apps start enabled unless the admin says not to');
  await shot(page, 'helpdesk-consent-desktop');
  await page.getByTestId('consent-install').click();
  await consent.waitFor({ state: 'detached', timeout: 60000 });
  const row = page.locator('.adm-install[data-app=helpdesk]');
  await row.waitFor();
  await page.waitForFunction(() => /已启用/.test(document.querySelector('.adm-install[data-app=helpdesk] [data-testid=install-state]')?.textContent || ''), null, { timeout: 60000 });
  const inst = (await apiIn(page, 'GET', `/api/v1/orgs/${org}/marketplace/installs`)).body.items.find((i) => i.app_id === 'helpdesk');
  assert.deepEqual(inst.current.grants, [{ scope: 'im:send' }, { scope: 'im:direct' }, { scope: 'http:routes' }]);
  assert.equal(inst.current.settings.engineers, engineer.id);
  await row.scrollIntoViewIfNeeded();
  await shot(page, 'helpdesk-installed-desktop');
  assert.deepEqual(page.errors, []);
  await context.close();
});

test('a nurse files a ticket from the form; the engineer takes and resolves it; she sees it and rates it', async (t) => {
  if (skip) return t.skip(skip);
  const N = await newPage(browser, DESKTOP);
  await signIn(N.page, nurse.login, password);
  let inside = await openHelpdesk(N.page);
  // A nurse files tickets; the IT desk is not hers.
  assert.equal(await inside.getByTestId('desk').isVisible(), false);
  assert.match(await inside.locator('h1').textContent(), /IT 报修/);

  // A description of blanks is refused by the app and files nothing.
  const before = await inside.locator('[data-testid=my-tickets] li[data-ticket]').count();
  await inside.getByLabel('问题描述').fill('   ');
  await inside.getByRole('button', { name: '提交报修' }).click();
  await inside.locator('#msg.error').waitFor();
  assert.equal(await inside.locator('#msg').textContent(), '报修失败：请先写下问题描述');
  assert.equal(await inside.locator('[data-testid=my-tickets] li[data-ticket]').count(), before);

  // The form: a category (its SLA shown) and what is wrong, where.
  await inside.getByLabel('分类').selectOption('打印机');
  assert.match(await inside.locator('#sla').textContent(), /响应时限 30 分钟，解决时限 8 小时/);
  await inside.getByLabel('问题描述').fill(description);
  await inside.getByRole('button', { name: '提交报修' }).click();
  await inside.locator('#msg').filter({ hasText: /已受理报修 #\d+/ }).waitFor();
  ticket = Number(/#(\d+)/.exec(await inside.locator('#msg').textContent())[1]);
  const mine = inside.locator(`[data-testid=my-tickets] li[data-ticket="${ticket}"]`);
  await mine.waitFor();
  assert.match(await mine.textContent(), new RegExp(`#${ticket}打印机已分派`));
  assert.match(await mine.textContent(), new RegExp(description));
  assert.match(await mine.textContent(), /应于 .* 前解决/);
  assert.equal(await inside.getByLabel('问题描述').inputValue(), '', 'the form is cleared for the next ticket');
  await shot(N.page, 'helpdesk-filed-desktop');
  assert.deepEqual(N.page.errors, []);

  // The engineer opens the same app: his desk lists the ticket, assigned
  // (round robin over one engineer: to him).
  const E = await newPage(browser, DESKTOP);
  await signIn(E.page, engineer.login, engineer.password);
  const desk = await openHelpdesk(E.page);
  await desk.getByTestId('desk').waitFor();
  const item = desk.locator(`[data-testid=open-tickets] li[data-ticket="${ticket}"]`);
  await item.waitFor();
  assert.match(await item.textContent(), new RegExp(description));
  assert.equal(await item.getByTestId('status').textContent(), '已分派');
  assert.match(await item.textContent(), /应于 .* 前响应/);
  await shot(E.page, 'helpdesk-desk-desktop');
  await item.getByRole('button', { name: '接单处理' }).click();
  await item.getByTestId('status').filter({ hasText: '处理中' }).waitFor();
  assert.equal(await desk.locator('#msg').textContent(), `报修 #${ticket} 已改为「处理中」`);
  assert.doesNotMatch(await item.textContent(), /前响应/, 'taking the ticket is its response');
  await item.getByRole('button', { name: '已解决' }).click();
  await item.getByTestId('status').filter({ hasText: '已解决' }).waitFor();
  assert.match(await item.textContent(), /等待报修人评价/);
  await shot(E.page, 'helpdesk-desk-resolved-desktop');
  assert.deepEqual(E.page.errors, []);

  // The nurse comes back to the app: resolved, and asked to rate it.
  await N.page.reload();
  inside = await openHelpdesk(N.page);
  const resolved = inside.locator(`[data-testid=my-tickets] li[data-ticket="${ticket}"]`);
  await resolved.getByTestId('status').filter({ hasText: '已解决' }).waitFor();
  assert.match(await resolved.textContent(), /已于 .* 解决/);
  const rate = resolved.getByTestId('rate');
  await rate.locator('label', { hasText: '5 分' }).click();
  await rate.getByLabel('评价内容').fill('来得很快，谢谢');
  await shot(N.page, 'helpdesk-rate-desktop');
  await rate.getByRole('button', { name: '提交评价' }).click();
  await resolved.getByTestId('status').filter({ hasText: '已关闭' }).waitFor();
  assert.equal(await inside.locator('#msg').textContent(), `已评价报修 #${ticket}：5 分，谢谢！`);
  assert.match(await resolved.textContent(), /我的评价 ★★★★★ 5 分：来得很快，谢谢/);
  assert.equal(await resolved.getByTestId('rate').count(), 0, 'a ticket is rated once');
  await shot(N.page, 'helpdesk-rated-desktop');
  assert.deepEqual(N.page.errors, []);
  await N.context.close();

  // A closed ticket leaves the engineer's desk.
  await E.page.reload();
  const desk2 = await openHelpdesk(E.page);
  await desk2.getByTestId('desk').waitFor();
  await desk2.locator('[data-testid=open-tickets] li').first().waitFor();
  assert.equal(await desk2.locator(`[data-testid=open-tickets] li[data-ticket="${ticket}"]`).count(), 0);
  await E.context.close();
});

test('the page on a phone (390 px): the nurse\'s tickets and the engineer\'s desk fit the screen', async (t) => {
  if (skip) return t.skip(skip);
  if (!ticket) return t.skip('no ticket was filed');
  for (const [who, login, pass, name] of [['nurse', nurse.login, password, 'helpdesk-mine-phone'], ['engineer', engineer.login, engineer.password, 'helpdesk-desk-phone']]) {
    const { page, context } = await newPage(browser, PHONE);
    await signIn(page, login, pass);
    const inside = await openHelpdesk(page, PHONE);
    if (who === 'nurse') await inside.locator(`[data-testid=my-tickets] li[data-ticket="${ticket}"]`).waitFor();
    else await inside.getByTestId('desk').waitFor();
    const [scroll, client] = await fitsFrame(page);
    assert.ok(scroll <= client, `the ${who}'s page is ${scroll}px wide in a ${client}px frame`);
    await shot(page, name);
    assert.deepEqual(page.errors, []);
    await context.close();
  }
});

// The IT centre's group: its owner, the engineer, adds the app's bot from the
// group's members, like a member (the admin, a plain member of it, is not
// offered the bots); the admin names the group in the app's settings, and a
// ticket filed then is posted there by 「IT 报修」. The owner takes the bot
// out again. (The admin files this ticket, so the nurse's chat stays as the
// test below expects it.)
test('the IT group\'s owner adds IT 报修\'s bot; new tickets reach the group', async (t) => {
  if (skip) return t.skip(skip);
  const A = await newPage(browser, DESKTOP);
  await signIn(A.page, admin.login, password);
  const adminId = (await apiIn(A.page, 'GET', '/api/v1/me')).body.id;
  const E = await newPage(browser, DESKTOP);
  await signIn(E.page, engineer.login, engineer.password);
  const g = await apiIn(E.page, 'POST', '/api/v1/im/conversations', { kind: 'group', name: '信息中心报修群', member_ids: [adminId] });
  assert.equal(g.status, 201, JSON.stringify(g.body));
  const inst = (await apiIn(A.page, 'GET', `/api/v1/orgs/${org}/marketplace/installs`)).body.items.find((i) => i.app_id === 'helpdesk');
  const set = await apiIn(A.page, 'PUT', `/api/v1/orgs/${org}/marketplace/installs/${inst.id}/settings`, { settings: { ...inst.current.settings, it_conversation: g.body.id } });
  assert.equal(set.status, 200, JSON.stringify(set.body));

  // The owner opens the group's members and adds the bot.
  await E.page.goto('/#/chat/' + g.body.id);
  await E.page.getByTestId('group-members').click();
  const dlg = E.page.getByTestId('members-dialog');
  await dlg.waitFor();
  const add = dlg.getByTestId('bot-add-helpdesk');
  await add.waitFor();
  assert.match(await dlg.locator('[data-testid=bot-list] li[data-app=helpdesk]').textContent(), /IT 报修/);
  await shot(E.page, 'helpdesk-group-bots-desktop');
  await add.click();
  const botRow = dlg.locator('[data-testid=member-list] li[data-role=bot]');
  await botRow.filter({ hasText: 'IT 报修' }).waitFor();
  assert.match(await botRow.textContent(), /机器人/);
  await dlg.getByTestId('bot-remove-helpdesk').waitFor();
  await shot(E.page, 'helpdesk-group-bot-added-desktop');
  await E.page.keyboard.press('Escape');

  // A plain member sees the bot among the members, and no bots to add.
  await A.page.goto('/#/chat/' + g.body.id);
  await A.page.getByTestId('group-members').click();
  const adlg = A.page.getByTestId('members-dialog');
  await adlg.locator('[data-testid=member-list] li[data-role=bot]').waitFor();
  assert.equal(await adlg.getByTestId('bot-list').count(), 0);
  await A.page.keyboard.press('Escape');

  // A ticket filed now reaches the group (the app restarts with its new
  // settings: the first tries may find it starting).
  const text = '5 楼会议室无线网络断开 ' + Date.now();
  let filed;
  for (let i = 0; i < 60; i++) {
    filed = await apiIn(A.page, 'POST', '/plugins/helpdesk/tickets', { category: '网络', description: text });
    if (filed.status !== 503 && filed.status !== 502) break;
    await A.page.waitForTimeout(500);
  }
  assert.equal(filed.status, 201, JSON.stringify(filed.body));
  const posted = E.page.locator('.msg-list .msg', { hasText: `新报修 #${filed.body.id} [网络] ${text}` });
  await posted.waitFor();
  assert.match(await posted.textContent(), /IT 报修/);
  // The app names people by id; the client shows their names.
  await posted.filter({ hasText: '已分派给 @' + engineer.name }).waitFor();
  assert.doesNotMatch(await posted.textContent(), /@[0-9a-f]{8}-/);
  await shot(E.page, 'helpdesk-group-ticket-desktop');

  // The owner takes the bot out again.
  await E.page.getByTestId('group-members').click();
  await dlg.getByTestId('bot-remove-helpdesk').click();
  await dlg.getByTestId('bot-add-helpdesk').waitFor();
  assert.equal(await dlg.locator('[data-testid=member-list] li[data-role=bot]').count(), 0);
  assert.deepEqual(E.page.errors, []);
  assert.deepEqual(A.page.errors, []);
  await E.context.close();
  await A.context.close();
});

// Every status change went to the nurse as a direct message from the app's
// bot, named after the app: she finds 「IT 报修」 in her chat list with the
// last change, and in the conversation each change in order (the engineer
// took it, resolved it, her rating closed it). Her messages to a bot carry
// no "unread" receipt: a bot reads nothing.
test('the nurse is told of the status change in chat', async (t) => {
  if (skip) return t.skip(skip);
  if (!ticket) return t.skip('no ticket was filed');
  // The phone first: on the desktop she answers, which changes the list.
  for (const vp of [PHONE, DESKTOP]) {
    const { page, context } = await newPage(browser, vp);
    await signIn(page, nurse.login, password);
    await page.goto('/#/chat');
    const conv = page.locator('.conv-item', { hasText: `报修 #${ticket} 状态: 已关闭` });
    await conv.waitFor({ timeout: 15000 });
    // The bot is named after the app, not its id ("helpdesk").
    await conv.locator('.conv-name', { hasText: /^IT 报修$/ }).waitFor();
    assert.match(await conv.locator('.conv-preview').textContent(), new RegExp(`报修 #${ticket} 状态: 已关闭，感谢您的评价 \\(5 分\\)`));
    await shot(page, vp === PHONE ? 'helpdesk-chat-list-phone' : 'helpdesk-chat-list-desktop');
    await conv.click();
    await page.locator('#conv-title', { hasText: /^IT 报修$/ }).waitFor();
    // A bot is neither online nor offline: the header says what it is.
    await page.locator('.conv-sub', { hasText: /^机器人$/ }).waitFor();
    const texts = page.locator('.msg-list .msg .text');
    await texts.filter({ hasText: `报修 #${ticket} 状态: 已关闭` }).waitFor();
    const mine = (await texts.allTextContents()).filter((x) => x.startsWith(`报修 #${ticket} 状态: `));
    assert.deepEqual(mine.map((x) => x.split('状态: ')[1].slice(0, 3)), ['已分派', '处理中', '已解决', '已关闭']);
    assert.match(mine[0], /工程师将于 \d\d:\d\d 前响应 — 【打印机】心内一病区护士站打印机卡纸/);
    assert.match(mine[2], /已解决，请评价 \(1–5 分\)/);
    if (vp === DESKTOP) {
      // She answers the bot: no "unread" under her message.
      await page.getByTestId('composer').fill('收到，谢谢');
      await page.getByTestId('composer').press('Enter');
      const sent = page.locator('.msg-list .msg', { hasText: '收到，谢谢' });
      await sent.waitFor();
      await page.waitForTimeout(500);
      assert.equal(await sent.getByTestId('receipt').count(), 0);
    }
    await shot(page, vp === PHONE ? 'helpdesk-chat-phone' : 'helpdesk-chat-desktop');
    assert.deepEqual(page.errors, []);
    await context.close();
  }
});

// The app declares the /it command: typed in a chat (here her direct chat
// with the engineer) it runs in the app instead of being sent; the reply,
// with the ticket's number, is shown to her alone (tests/14 covers the
// command list, refusals and plain "/" messages).
test('a ticket filed with /it in chat', async (t) => {
  if (skip) return t.skip(skip);
  const { page, context } = await newPage(browser, DESKTOP);
  try {
    await signIn(page, nurse.login, password);
    await page.goto('/#/directory/person/' + engineer.id);
    await page.getByTestId('start-chat').click();
    await page.waitForURL(/#\/chat\/[^/]+$/);
    const text = '心内一病区 3 床床旁电脑连不上 HIS ' + Date.now();
    const answer = await runSlash(page, '/it 网络 ' + text);
    assert.equal(answer.status, 'ok', answer.text);
    assert.match(answer.text, /仅你可见/);
    const m = /已受理报修 #(\d+) \[网络\]/.exec(answer.text);
    assert.ok(m, answer.text);
    assert.equal(await page.locator('.msg-list .msg:not(.cmd-notice) .text', { hasText: text }).count(), 0, 'the command was sent as a message');
    await shot(page, 'helpdesk-slash-desktop');
    const inside = await openHelpdesk(page);
    const row = inside.locator(`[data-testid=my-tickets] li[data-ticket="${m[1]}"]`);
    await row.waitFor({ timeout: 5000 });
    assert.match(await row.textContent(), new RegExp(`网络.*${text}`));
    assert.deepEqual(page.errors, []);
  } finally {
    await context.close();
  }
});
