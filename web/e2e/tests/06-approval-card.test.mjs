// The approvals assistant's card in chat: a nurse asks for leave, her head
// nurse finds a card from 审批助手 in her chats and approves from the card.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, newPage, demo, hasRoute, signIn, shot, DESKTOP } from '../lib.mjs';

let browser;
let skip = '';
let nurse, head, password;

before(async () => {
  if (!(await hasRoute('GET', '/api/v1/approvals/templates'))) { skip = 'the server does not serve the approvals API yet'; return; }
  if (!(await hasRoute('GET', '/api/v1/approvals/requests/00000000-0000-7000-8000-000000000000/card'))) { skip = 'the server does not serve approval cards yet'; return; }
  const d = demo();
  password = d.password;
  head = d.logins.find((l) => /护士长/.test(l.role));
  nurse = d.logins.find((l) => /· 护士 ·/.test(l.role) && l.login.split('.')[0] === head?.login.split('.')[0]);
  if (!head || !nurse) { skip = 'the demo printed no head nurse and nurse of one hospital'; return; }
  browser = await launch();
});
after(async () => { await browser?.close(); });

test('the head nurse approves a leave request from the card in chat', async (t) => {
  if (skip) return t.skip(skip);
  const N = await newPage(browser, DESKTOP);
  await signIn(N.page, nurse.login, password);
  const out = await N.page.evaluate(async () => {
    const csrf = decodeURIComponent((document.cookie.match(/(?:^|; )rounds_csrf=([^;]*)/) || [])[1] || '');
    const res = await fetch('/api/v1/approvals/requests', { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf },
      body: JSON.stringify({ action_id: crypto.randomUUID(), template_code: 'leave', form: { leave_type: 'sick', period: { start: '2026-12-28', end: '2026-12-28' }, reason: '发热' } }) });
    return { status: res.status, body: await res.json() };
  });
  assert.equal(out.status, 201, JSON.stringify(out.body));

  const H = await newPage(browser, DESKTOP);
  await signIn(H.page, head.login, password);
  await H.page.goto('/#/chat');
  const conv = H.page.locator('.conv-item', { hasText: '有一条审批待你处理' }).first();
  await conv.waitFor({ timeout: 30000 });
  await conv.click();
  const card = H.page.locator('.msg-card').last();
  await card.locator('button.primary').waitFor({ timeout: 30000 });
  assert.match(await card.textContent(), /审批中/);
  await shot(H.page, 'approval-card-desktop');
  await card.locator('button.primary').click();
  await H.page.waitForFunction((el) => /已通过/.test(el.textContent), await card.elementHandle(), { timeout: 30000 });
  assert.equal(await card.locator('button.primary').count(), 0, 'no approve button once decided');
  assert.deepEqual(H.page.errors.map(String), []);
});
