// A group of three: history loads as you scroll up, "2 unread" counts down
// live as the others read, @mentions, reactions and typing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, newPage, demo, hasRoute, signIn, shot, DESKTOP } from '../lib.mjs';

let browser;
let skip = '';
let A; let B; let C;
let conv;

async function call(page, method, path, body) {
  return page.evaluate(async ([m, p, b]) => {
    const csrf = (document.cookie.match(/(?:^|; )rounds_csrf=([^;]*)/) || [])[1] || '';
    const r = await fetch(p, { method: m, headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': decodeURIComponent(csrf) }, body: b ? JSON.stringify(b) : undefined });
    return { status: r.status, body: await r.json().catch(() => null) };
  }, [method, path, body]);
}

before(async () => {
  if (!(await hasRoute('POST', '/api/v1/sessions'))) { skip = 'the server does not serve sign-in yet'; return; }
  if (!(await hasRoute('GET', '/api/v1/im/conversations'))) { skip = 'the server does not serve the chat API yet'; return; }
  const { password, logins } = demo();
  const org = (l) => l.login.split('.')[0];
  const same = logins.filter((l) => org(l) === org(logins[0] || { login: '' }));
  if (same.length < 3) { skip = 'the demo printed fewer than three accounts of one hospital'; return; }
  browser = await launch();
  [A, B, C] = await Promise.all([0, 1, 2].map(() => newPage(browser, DESKTOP)));
  for (const [i, x] of [A, B, C].entries()) {
    await signIn(x.page, same[i].login, password);
    x.me = (await call(x.page, 'GET', '/api/v1/me')).body;
  }
  const r = await call(A.page, 'POST', '/api/v1/im/conversations', { kind: 'group', name: '5 病区交班群', member_ids: [B.me.id, C.me.id] });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  conv = r.body;
  for (let i = 1; i <= 40; i++) {
    const s = await call(A.page, 'POST', `/api/v1/im/conversations/${conv.id}/messages`, { client_msg_id: `seed-${conv.id}-${i}`, text: `历史消息 #${i}` });
    assert.equal(s.status, 201);
  }
});
after(async () => { await browser?.close(); });

test('older history loads as you scroll up, each message once', async (t) => {
  if (skip) return t.skip(skip);
  await B.page.goto('/#/chat/' + conv.id);
  await B.page.locator('.msg-list .text', { hasText: /^历史消息 #40$/ }).waitFor();
  const first = await B.page.locator('.msg-list .msg').count();
  assert.ok(first < 40, `the first page is a page (${first})`);
  for (let i = 0; i < 5 && (await B.page.locator('.msg-list .msg').count()) < 40; i++) {
    await B.page.locator('.msg-scroll').evaluate((e) => { e.scrollTop = 0; });
    await B.page.waitForTimeout(400);
  }
  await B.page.locator('.msg-list .text', { hasText: /^历史消息 #1$/ }).waitFor();
  assert.equal(await B.page.locator('.msg-list .msg').count(), 40);
  await B.page.locator('.history-status', { hasText: '以上是全部消息' }).waitFor();
  const texts = await B.page.locator('.msg-list .text').allTextContents();
  assert.deepEqual(texts, Array.from({ length: 40 }, (_, i) => `历史消息 #${i + 1}`));
});

test('"2 unread" counts down live as each member reads, and the list says who', async (t) => {
  if (skip) return t.skip(skip);
  await B.page.goto('/#/directory');
  await C.page.goto('/#/directory');
  await A.page.goto('/#/chat/' + conv.id);
  await A.page.locator('.conv-sub', { hasText: '3 人' }).waitFor();
  const box = A.page.getByTestId('composer');
  // @mention through the picker.
  await box.fill('@');
  await A.page.locator('.mention-box li').nth(1).waitFor();
  await A.page.locator('.mention-box li').nth(1).click();
  await box.pressSequentially('请今晚核对 5 床医嘱');
  await box.press('Enter');
  const mine = A.page.locator('.msg.mine').last();
  await mine.locator('.mention').waitFor();
  const receipt = mine.getByTestId('receipt');
  await receipt.filter({ hasText: '2 人未读' }).waitFor();
  await B.page.goto('/#/chat/' + conv.id);
  await receipt.filter({ hasText: '1 人未读' }).waitFor();
  await receipt.click();
  const dlg = A.page.locator('dialog.dialog');
  await dlg.waitFor();
  assert.match(await dlg.textContent(), /未读\s*1/);
  // The dialog follows live as the last member reads.
  await C.page.goto('/#/chat/' + conv.id);
  await dlg.locator('.receipt-col', { hasText: '已读' }).filter({ hasText: /已读\s*2/ }).waitFor();
  await A.page.keyboard.press('Escape');
  await receipt.filter({ hasText: '全部已读' }).waitFor();
});

test('typing and reactions reach the others live', async (t) => {
  if (skip) return t.skip(skip);
  await B.page.getByTestId('composer').pressSequentially('我来核');
  await A.page.locator('.typing', { hasText: '正在输入' }).waitFor();
  const last = C.page.locator('.msg').last();
  await last.hover();
  await last.locator('.msg-more').click();
  await C.page.getByRole('menuitem', { name: /表态 👍/ }).click();
  await A.page.locator('.msg.mine').last().locator('.reaction', { hasText: '👍 1' }).waitFor();
  await shot(A.page, 'group-desktop');
});

test('searching the list finds chat history', async (t) => {
  if (skip) return t.skip(skip);
  const probe = await call(A.page, 'GET', '/api/v1/im/search?q=' + encodeURIComponent('历史消息'));
  if (probe.status !== 200) return t.skip(`the server's message search answers ${probe.status}`);
  await A.page.goto('/#/chat');
  await A.page.locator('.list-pane .search').fill('历史消息');
  await A.page.locator('.message-hits [data-message]').first().waitFor();
  assert.match(await A.page.locator('.message-hits').textContent(), /历史消息 #\d+/);
  await A.page.locator('.message-hits [data-message]').first().click();
  await A.page.waitForURL(new RegExp('#/chat/' + conv.id));
});

test('a desktop notification for a message while looking elsewhere', async (t) => {
  if (skip) return t.skip(skip);
  await C.context.grantPermissions(['notifications']);
  await C.page.goto('/#/directory');
  // Record what the client asks the browser to show.
  await C.page.evaluate(() => {
    window.__notes = [];
    window.Notification = class { static permission = 'granted'; constructor(title, opts) { window.__notes.push({ title, body: opts.body }); } close() {} };
  });
  const text = '请 C 来一下护士站 ' + Date.now();
  const r = await call(A.page, 'POST', `/api/v1/im/conversations/${conv.id}/messages`, { client_msg_id: 'note-' + Date.now(), text });
  assert.equal(r.status, 201);
  await C.page.waitForFunction((x) => window.__notes.some((n) => n.body.includes(x)), text);
  const note = (await C.page.evaluate(() => window.__notes)).find((n) => n.body.includes(text));
  assert.equal(note.title, '5 病区交班群');
  assert.match(note.body, new RegExp(A.me.display_name + ': '));
  // The rail shows the unread count meanwhile.
  await C.page.locator('[data-badge="chat"]:not([hidden])').waitFor();
});
