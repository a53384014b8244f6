// Approvals: a leave request started from its template (with the form's
// errors shown inline), approved by the manager it went to, and the timeline.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, newPage, demo, hasRoute, signIn, shot, DESKTOP, PHONE } from '../lib.mjs';

let browser;
let skip = '';
let S; // submitter {context, page}
let requestId = '';

before(async () => {
  if (!(await hasRoute('POST', '/api/v1/sessions'))) { skip = 'the server does not serve sign-in yet'; return; }
  if (!(await hasRoute('GET', '/api/v1/approvals/templates'))) { skip = 'the server does not serve the approvals API yet'; return; }
  const { password, logins } = demo();
  // Someone who is not a department head or admin, so the leave goes to a manager.
  const staff = logins.find((l) => /staff|职员|员工/.test(l.role)) || logins[1] || logins[0];
  if (!staff) { skip = 'the server printed no demo accounts'; return; }
  browser = await launch();
  S = await newPage(browser, DESKTOP);
  S.password = password;
  await signIn(S.page, staff.login, password);
});
after(async () => { await browser?.close(); });

test('a leave request: errors inline, then submitted', async (t) => {
  if (skip) return t.skip(skip);
  const { page } = S;
  await page.goto('/#/approvals/new');
  await page.locator('.tpl-card[data-template=leave]').click();
  await page.locator('form.ap-form').waitFor();
  await shot(page, 'approval-form-desktop');
  let posted = 0;
  page.on('request', (r) => { if (r.method() === 'POST' && r.url().endsWith('/api/v1/approvals/requests')) posted++; });
  await page.locator('form.ap-form button[type=submit]').click();
  const err = (key) => page.locator(`.field[data-field=${key}] .field-error`);
  await err('leave_type').waitFor();
  assert.match(await err('leave_type').textContent(), /请填写/);
  assert.match(await err('period').textContent(), /请填写/);
  assert.equal(await page.locator('.field[data-field=leave_type] select').getAttribute('aria-invalid'), 'true');
  assert.equal(posted, 0, 'nothing is sent while the form is incomplete');

  await page.locator('.field[data-field=leave_type] select').selectOption('annual');
  const dates = page.locator('.field[data-field=period] input[type=date]');
  await dates.nth(0).fill('2026-12-21');
  await dates.nth(1).fill('2026-12-18');
  await page.locator('form.ap-form button[type=submit]').click();
  assert.match(await err('period').textContent(), /结束日期/);
  await dates.nth(1).fill('2026-12-23');
  await page.locator('.field[data-field=reason] textarea').fill('家中有事 <script>alert(1)</script>');
  await page.locator('form.ap-form button[type=submit]').click();
  await page.waitForURL(/#\/approvals\/r\//);
  requestId = decodeURIComponent(page.url().split('#/approvals/r/')[1]);
  await page.locator('.ap-request .status.st-pending').waitFor();
  assert.match(await page.locator('.ap-request').textContent(), /家中有事 <script>alert\(1\)<\/script>/);
  assert.equal(await page.locator('.ap-request script').count(), 0);
  assert.equal(posted, 1);
  await shot(page, 'approval-request-desktop');
  assert.deepEqual(page.errors.map(String), []);
});

test('the manager approves it with a comment; the submitter sees it approved', async (t) => {
  if (skip || !requestId) return t.skip(skip || 'no request');
  const view = await S.page.evaluate(async (id) => (await fetch('/api/v1/approvals/requests/' + id)).json(), requestId);
  const task = (view.tasks || []).find((x) => x.state === 'pending');
  if (!task) return t.skip('the request went to nobody (no manager in the demo for this person)');
  const me = await S.page.evaluate(async () => (await fetch('/api/v1/me')).json());
  const card = await S.page.evaluate(async ([org, id]) => (await fetch(`/api/v1/orgs/${org}/staff/${id}`)).json(), [me.org_id, task.assignee_id]);
  if (!card.login) return t.skip('cannot find the approver\'s login');
  const M = await newPage(browser, DESKTOP);
  try {
    await signIn(M.page, card.login, S.password);
  } catch {
    return t.skip(`the approver ${card.login} cannot sign in with the demo password`);
  }
  await M.page.goto('/#/approvals/list/pending');
  await M.page.locator(`.ap-list [data-request="${requestId}"]`).click();
  await M.page.getByTestId('approve').waitFor();
  await M.page.locator('#ap-comment').fill('同意，注意交接');
  await M.page.getByTestId('approve').click();
  // Either the decision lands in the timeline or the server's reason is shown.
  await M.page.locator('.timeline .tl-approve, .ap-decide .form-error:not(:empty)').first().waitFor();
  const refused = await M.page.locator('.ap-decide .form-error').textContent().catch(() => '');
  assert.equal(refused, '', 'the server refused the approval: ' + refused);
  assert.match(await M.page.locator('.timeline').textContent(), /同意，注意交接/);
  await shot(M.page, 'approval-decided-desktop');
  await S.page.goto('/#/approvals/list/submitted');
  await S.page.locator(`.ap-list [data-request="${requestId}"]`).waitFor();
  await S.page.goto('/#/approvals/r/' + requestId);
  await S.page.locator('.ap-request .status').filter({ hasText: /已通过|审批中/ }).waitFor();
  await M.context.close();
});

test('approvals at phone width', async (t) => {
  if (skip) return t.skip(skip);
  const ctx = await browser.newContext({ baseURL: process.env.ROUNDS_E2E_BASE_URL, viewport: PHONE, storageState: await S.context.storageState() });
  const p = await ctx.newPage();
  await p.goto('/#/approvals/new/leave');
  await p.locator('form.ap-form').waitFor();
  assert.equal(await p.evaluate(() => document.documentElement.scrollWidth > window.innerWidth), false);
  await shot(p, 'approval-form-phone');
  await ctx.close();
});
