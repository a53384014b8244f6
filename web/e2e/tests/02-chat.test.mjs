// Two people in two browser contexts: live messages, read receipts that
// change as the other reads, markup shown as text, a dropped network that
// costs nothing, and a failed send retried without doubling.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, newPage, demo, hasRoute, signIn, shot, DESKTOP, PHONE } from '../lib.mjs';

let browser;
let A; let B; // {context, page, user}
let convId = '';
let skip = '';

async function me(page) {
  return page.evaluate(async () => (await fetch('/api/v1/me')).json());
}

/** Messages in the open conversation whose text is exactly text. */
function bubbles(page, text) {
  return page.locator('.msg-list .msg:not(.pending) .text', { hasText: text }).filter({ hasText: new RegExp('^' + text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') + '$') });
}

async function send(page, text) {
  const box = page.getByTestId('composer');
  await box.fill(text);
  await box.press('Enter');
}

before(async () => {
  if (!(await hasRoute('POST', '/api/v1/sessions'))) { skip = 'the server does not serve sign-in yet'; return; }
  if (!(await hasRoute('GET', '/api/v1/im/conversations'))) { skip = 'the server does not serve the chat API yet'; return; }
  const { password, logins } = demo();
  // Two people of the same hospital (logins are "<org code>.<employee no>").
  const byOrg = new Map();
  for (const l of logins) {
    const org = l.login.split('.')[0];
    if (!byOrg.has(org)) byOrg.set(org, []);
    byOrg.get(org).push(l);
  }
  const pair = [...byOrg.values()].find((xs) => xs.length >= 2);
  if (!pair) { skip = 'the demo printed no two accounts of one hospital'; return; }
  browser = await launch();
  A = await newPage(browser, DESKTOP);
  B = await newPage(browser, DESKTOP);
  await signIn(A.page, pair[0].login, password);
  await signIn(B.page, pair[1].login, password);
  A.user = await me(A.page);
  B.user = await me(B.page);
});
after(async () => { await browser?.close(); });

test('a chat started from a person card; messages arrive live; the receipt changes when the other reads', async (t) => {
  if (skip) return t.skip(skip);
  await A.page.goto('/#/directory/person/' + B.user.id);
  await A.page.getByTestId('start-chat').click();
  await A.page.waitForURL(/#\/chat\/[^/]+$/);
  convId = decodeURIComponent(A.page.url().split('#/chat/')[1]);
  assert.ok(convId);

  // B is on the chat list, looking elsewhere.
  await B.page.goto('/#/chat');
  const text = '你好，今晚 5 病区交班 ' + Date.now();
  await send(A.page, text);
  await bubbles(A.page, text).waitFor();
  const receipt = A.page.locator('.msg.mine', { hasText: text }).getByTestId('receipt');
  await receipt.waitFor();
  assert.doesNotMatch(await receipt.textContent(), /全部已读/);

  // B sees it live, with an unread count, without reloading.
  const item = B.page.locator(`.conv-item[data-conv="${convId}"]`);
  await item.getByTestId('unread').waitFor();
  assert.equal(await item.getByTestId('unread').textContent(), '1');
  await item.click();
  await bubbles(B.page, text).waitFor();
  await item.getByTestId('unread').waitFor({ state: 'detached' });

  // A's receipt turns to read, live.
  await A.page.locator('.msg.mine', { hasText: text }).getByTestId('receipt').filter({ hasText: '全部已读' }).waitFor();
  await receipt.click();
  const dlg = A.page.locator('dialog.dialog');
  await dlg.waitFor();
  assert.match(await dlg.textContent(), /已读\s*1/);
  await A.page.keyboard.press('Escape');
  await dlg.waitFor({ state: 'detached' });

  // And back the other way.
  const reply = '收到 ' + Date.now();
  await send(B.page, reply);
  await bubbles(A.page, reply).waitFor();
  await shot(A.page, 'chat-desktop');
  assert.deepEqual(A.page.errors.map(String), []);
  assert.deepEqual(B.page.errors.map(String), []);
});

test('markup in a message is shown as text, never run', async (t) => {
  if (skip || !convId) return t.skip(skip || 'no conversation');
  let alerted = false;
  B.page.on('dialog', () => { alerted = true; });
  const evil = '<img src=x onerror=alert(1)> <script>alert(2)</script> <b>粗体</b>';
  await send(A.page, evil);
  await bubbles(B.page, evil).waitFor();
  assert.equal(await B.page.locator('.msg-list img[src=x], .msg-list script, .msg-list b').count(), 0);
  await B.page.waitForTimeout(300);
  assert.equal(alerted, false);
  // The conversation list preview is text too.
  assert.equal(await B.page.locator('.conv-list img[src=x]').count(), 0);
});

test('a dropped network loses nothing and doubles nothing', async (t) => {
  if (skip || !convId) return t.skip(skip || 'no conversation');
  await B.context.setOffline(true);
  await B.page.locator('.net-banner').waitFor();
  const stamp = Date.now();
  const missed = [1, 2, 3].map((i) => `离线期间的消息 ${i} · ${stamp}`);
  for (const m of missed) {
    await send(A.page, m);
    await bubbles(A.page, m).waitFor();
  }
  await B.context.setOffline(false);
  await B.page.locator('.net-banner').waitFor({ state: 'hidden' });
  for (const m of missed) await bubbles(B.page, m).waitFor();
  await B.page.waitForTimeout(500);
  for (const m of missed) assert.equal(await bubbles(B.page, m).count(), 1, `${m} shown once`);
  // In order.
  const order = await B.page.locator('.msg-list .text').allTextContents();
  const idx = missed.map((m) => order.indexOf(m));
  assert.deepEqual([...idx].sort((x, y) => x - y), idx);
});

test('a failed send is shown and retried without sending twice', async (t) => {
  if (skip || !convId) return t.skip(skip || 'no conversation');
  await A.context.setOffline(true);
  await A.page.locator('.net-banner').waitFor();
  const text = '断网时发送 ' + Date.now();
  await send(A.page, text);
  const failed = A.page.locator('.msg.pending.failed', { hasText: text });
  await failed.waitFor();
  await A.context.setOffline(false);
  await A.page.locator('.net-banner').waitFor({ state: 'hidden' });
  await failed.getByTestId('retry').click();
  await bubbles(A.page, text).waitFor();
  await bubbles(B.page, text).waitFor();
  await A.page.waitForTimeout(500);
  assert.equal(await bubbles(A.page, text).count(), 1);
  assert.equal(await bubbles(B.page, text).count(), 1);
  assert.equal(await A.page.locator('.msg.pending').count(), 0);
});

test('an urgent message (DING) is acknowledged and the sender sees who did, live', async (t) => {
  if (skip || !convId) return t.skip(skip || 'no conversation');
  if (!(await hasRoute('GET', '/api/v1/im/messages/00000000-0000-7000-8000-000000000000/ding'))) return t.skip('the server does not serve DING yet');
  await B.page.goto('/#/directory'); // B is elsewhere in the app
  await A.page.locator('.urgent-toggle').click();
  assert.equal(await A.page.locator('.urgent-toggle').getAttribute('aria-pressed'), 'true');
  const text = '5 床室颤，请立即到场 ' + Date.now();
  await send(A.page, text);
  const mine = A.page.locator('.msg.mine.urgent', { hasText: text });
  await mine.getByTestId('ack-status').waitFor();
  assert.match(await mine.getByTestId('ack-status').textContent(), /1 人未确认/);
  // B gets a banner wherever they are, and acknowledges from it.
  const banner = B.page.locator('.ding-banner', { hasText: text });
  await banner.waitFor();
  await shot(B.page, 'ding-banner-desktop');
  await banner.getByTestId('ding-ack').click();
  await banner.waitFor({ state: 'detached' });
  await mine.getByTestId('ack-status').filter({ hasText: '全部已确认' }).waitFor();
  await mine.getByTestId('ack-status').click();
  const dlg = A.page.locator('dialog.dialog');
  await dlg.waitFor();
  assert.match(await dlg.textContent(), /已确认\s*1/);
  await A.page.keyboard.press('Escape');
  // In the conversation B sees it as acknowledged.
  await B.page.goto('/#/chat/' + convId);
  await B.page.locator('.msg.urgent', { hasText: text }).locator('.acked').waitFor();
});

test('reply, edit and recall', async (t) => {
  if (skip || !convId) return t.skip(skip || 'no conversation');
  const original = '原始消息 ' + Date.now();
  await send(A.page, original);
  const mine = A.page.locator('.msg.mine', { hasText: original });
  await mine.waitFor();
  // Edit with ↑ in the empty composer.
  await A.page.getByTestId('composer').press('ArrowUp');
  const edited = original + '（已更正）';
  await A.page.getByTestId('composer').fill(edited);
  await A.page.getByTestId('composer').press('Enter');
  await bubbles(B.page, edited).waitFor();
  // Reply from B.
  const other = B.page.locator('.msg', { hasText: edited });
  await other.hover();
  await other.locator('.msg-more').click();
  await B.page.getByRole('menuitem', { name: '回复' }).click();
  const answer = '好的 ' + Date.now();
  await send(B.page, answer);
  const quoted = A.page.locator('.msg', { hasText: answer }).locator('.quote');
  await quoted.waitFor();
  assert.match(await quoted.textContent(), /已更正/);
  // Recall by A: B sees the notice instead.
  const m = A.page.locator('.msg.mine', { hasText: edited });
  await m.hover();
  await m.locator('.msg-more').click();
  await A.page.getByRole('menuitem', { name: '撤回' }).click();
  await B.page.locator('.msg.is-recalled').first().waitFor();
  assert.equal(await bubbles(B.page, edited).count(), 0);
});

test('the chat at phone width: list first, then the conversation with a back button', async (t) => {
  if (skip || !convId) return t.skip(skip || 'no conversation');
  const ctx = await browser.newContext({ baseURL: process.env.ROUNDS_E2E_BASE_URL, viewport: PHONE, storageState: await A.context.storageState() });
  const page = await ctx.newPage();
  await page.goto('/#/chat');
  await page.locator('.conv-item').first().waitFor();
  assert.equal(await page.locator('.msg-pane').isVisible(), false);
  await shot(page, 'chat-list-phone');
  await page.locator(`.conv-item[data-conv="${convId}"]`).click();
  await page.locator('.msg-list .msg').first().waitFor();
  assert.equal(await page.locator('.list-pane').isVisible(), false);
  await shot(page, 'chat-phone');
  await page.locator('.msg-head .back').click();
  await page.locator('.conv-item').first().waitFor();
  await ctx.close();
});
