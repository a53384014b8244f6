// Rostering: the head nurse opens next month's draft for her ward, sets
// shifts with the keyboard, sees the server's rule check flag a fourth night
// in a row on the cell and in the list, sees it go when she fixes it, and
// publishes. A nurse of that ward then sees the published roster by month and
// by week, her own shifts, and asks a colleague to swap one (the 调班
// approval), which shows as pending. Desktop and phone screenshots.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, newPage, demo, hasRoute, signIn, shot, DESKTOP, PHONE, apiIn } from '../lib.mjs';

let browser;
let skip = '';
let password = '';
let admin; let head; let nurse; // demo logins of the head nurse and a nurse of the same ward
let ward = '';
let nurseId = '';
let colleague = null; // {id, name}: another member of the ward
let d1 = ''; // the first day of the draft (next month)

const nameOf = (l) => l.role.split(' · ')[0];
const wardOf = (l) => (l.role.split(' · ')[1] || '').split('/').pop();
const addDays = (s, n) => { const d = new Date(s + 'T00:00:00Z'); d.setUTCDate(d.getUTCDate() + n); return d.toISOString().slice(0, 10); };
const cell = (page, user, date) => page.locator(`[data-testid=editor-grid] td[data-user="${user}"][data-date="${date}"]`);

before(async () => {
  if (!(await hasRoute('POST', '/api/v1/sessions'))) { skip = 'the server does not serve sign-in yet'; return; }
  if (!(await hasRoute('GET', '/api/v1/roster-patterns'))) { skip = 'the server does not serve rostering yet'; return; }
  const d = demo();
  password = d.password;
  admin = d.logins.find((l) => /org_admin/.test(l.role));
  head = d.logins.find((l) => /护士长/.test(l.role));
  nurse = head && d.logins.find((l) => l !== head && l.role.split(' · ').includes('护士') && wardOf(l) === wardOf(head));
  if (!admin || !head || !nurse) { skip = 'the demo printed no org admin, head nurse and nurse of one ward'; return; }
  browser = await launch();

  // The organisation adopts the three-shift pattern and days off (an admin's job, not this screen's).
  const A = await newPage(browser, DESKTOP);
  await signIn(A.page, admin.login, password);
  const org = (await apiIn(A.page, 'GET', '/api/v1/me')).body.org_id;
  for (const key of ['three_shift', 'day_off']) {
    const r = await apiIn(A.page, 'POST', `/api/v1/orgs/${org}/shift-patterns/${key}`, {});
    assert.equal(r.status, 200, JSON.stringify(r.body));
  }
  await A.context.close();

  // The head nurse sets her ward's rules: at most 3 nights in a row and 24 h
  // rest after nights (hard), 44 h a week (soft); staffing minimums are
  // left out so one nurse's shifts can be published.
  const H = await newPage(browser, DESKTOP);
  await signIn(H.page, head.login, password);
  const me = (await apiIn(H.page, 'GET', '/api/v1/me')).body;
  const card = (await apiIn(H.page, 'GET', `/api/v1/orgs/${org}/staff/${me.id}`)).body;
  ward = card.primary_department_id;
  const rules = {
    max_consecutive_nights: { value: 3, severity: 'hard' },
    min_rest_after_night_hours: { value: 24, severity: 'hard' },
    max_hours_per_week: { value: 44, severity: 'soft' },
    approved_leave: 'hard',
  };
  const r = await apiIn(H.page, 'PUT', `/api/v1/orgs/${org}/departments/${ward}/roster-rules`, rules);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const members = (await apiIn(H.page, 'GET', `/api/v1/orgs/${org}/departments/${ward}/members?subtree=true&limit=200`)).body.items;
  nurseId = (members.find((m) => m.name === nameOf(nurse)) || {}).id;
  colleague = members.find((m) => m.id !== nurseId && m.id !== me.id);
  if (!nurseId || !colleague) skip = 'the ward has no nurse and colleague to roster';
  await H.context.close();
});
after(async () => { await browser?.close(); });

test('the head nurse drafts next month, sees a rule break appear and go, and publishes', async (t) => {
  if (skip) return t.skip(skip);
  const { page, context } = await newPage(browser, DESKTOP);
  await signIn(page, head.login, password);
  await page.locator('.rail-tab[data-tab=roster]').click();
  await page.waitForURL(/#\/roster/);
  await page.locator('[data-testid=roster-range]').waitFor();
  // Her ward is picked for her.
  assert.equal(await page.getByTestId('ward-picker').inputValue(), ward);
  await page.getByTestId('roster-next').click();
  await page.waitForURL(/#\/roster\/[^/]+\/month\/\d{4}-\d\d-01$/);
  d1 = page.url().slice(-10);
  await page.getByTestId('new-draft').click();
  await page.waitForURL(/#\/roster\/[^/]+\/edit\//);
  await page.getByTestId('editor-grid').waitFor();
  assert.match(await page.getByTestId('violation-count').textContent(), /全部符合/);

  // Keyboard: the number key of 大夜 on four days in a row (each key moves on a day).
  const night = (await page.getByTestId('pal-大').locator('kbd').textContent()).trim();
  const day = (await page.getByTestId('pal-白').locator('kbd').textContent()).trim();
  await cell(page, nurseId, d1).click();
  for (let i = 0; i < 4; i++) await page.keyboard.press(night);
  // The server's check comes back: the fourth night breaks the 3-in-a-row rule.
  const broken = page.locator(`[data-testid=violations] li[data-rule=max_consecutive_nights][data-user="${nurseId}"]`);
  await broken.waitFor();
  assert.match(await broken.textContent(), /连续夜班超过 3 个/);
  assert.match(await cell(page, nurseId, addDays(d1, 3)).getAttribute('class'), /rs-bad/);
  assert.ok(await page.getByTestId('publish').isDisabled(), 'publishing is blocked while a hard rule is broken');
  await shot(page, 'roster-editor-desktop');

  // Fix it: back one day, Delete clears the fourth night; the violation goes.
  await page.keyboard.press('ArrowLeft');
  await page.keyboard.press('Delete');
  await broken.waitFor({ state: 'detached' });
  assert.doesNotMatch(await cell(page, nurseId, addDays(d1, 3)).getAttribute('class'), /rs-bad/);
  // A day shift for her later on, and an evening for a colleague, to swap.
  await cell(page, nurseId, addDays(d1, 6)).click();
  await page.keyboard.press(day);
  await cell(page, colleague.id, addDays(d1, 1)).click();
  await page.getByTestId('pal-小').click();
  await page.getByTestId('save-status').filter({ hasText: /已保存/ }).waitFor();
  await page.waitForFunction(() => !document.querySelector('[data-testid=publish]').disabled);
  assert.match(await page.getByTestId('violation-count').textContent(), /全部符合/);

  // The same draft in the editor on her phone: the grid scrolls inside its box.
  const P = await newPage(browser, PHONE);
  await signIn(P.page, head.login, password);
  await P.page.goto(page.url());
  await cell(P.page, nurseId, d1).waitFor();
  assert.equal(await cell(P.page, nurseId, d1).locator('.rs-chip').getAttribute('data-code'), '大');
  const wide = await P.page.evaluate(() => document.querySelector('.roster').scrollWidth);
  assert.ok(wide <= 390, `the editor is ${wide}px wide`);
  await shot(P.page, 'roster-editor-phone');
  assert.deepEqual(P.page.errors.map(String), []);
  await P.context.close();

  await page.getByTestId('publish').click();
  await page.getByTestId('publish-confirm').click();
  await page.getByTestId('published').waitFor();
  await page.waitForURL(/#\/roster\/[^/]+\/month\//);
  // The published month shows her edits.
  const row = page.locator(`[data-testid=roster-grid] tr[data-user="${nurseId}"]`);
  await row.waitFor();
  assert.equal(await row.locator(`td[data-date="${d1}"] .rs-chip`).getAttribute('data-code'), '大');
  assert.equal(await row.locator(`td[data-date="${addDays(d1, 3)}"] .rs-chip`).count(), 0);
  assert.deepEqual(page.errors.map(String), []);
  await context.close();
});

test('a nurse of the ward sees the roster by month and week and asks for a swap', async (t) => {
  if (skip) return t.skip(skip);
  if (!d1) return t.skip('the roster was not published');
  const { page, context } = await newPage(browser, DESKTOP);
  await signIn(page, nurse.login, password);
  await page.goto(`/#/roster/${ward}/month/${d1}`);
  const mine = page.locator('[data-testid=roster-grid] tr.rs-me');
  await mine.waitFor();
  assert.equal(await mine.getAttribute('data-user'), nurseId);
  assert.equal(await mine.locator(`td[data-date="${d1}"] .rs-chip`).getAttribute('data-code'), '大');
  assert.equal(await mine.locator(`td[data-date="${addDays(d1, 6)}"] .rs-chip`).getAttribute('data-code'), '白');
  assert.equal(await page.locator('[data-testid=roster-grid] thead th[data-date]').count() >= 28, true);
  assert.ok(await page.locator('[data-testid=roster-grid] thead th.rs-weekend').count() >= 8, 'weekends are shaded');
  await shot(page, 'roster-month-desktop');

  // Week view: seven days, the same shifts.
  await page.getByTestId('mode-week').click();
  await page.waitForURL(/\/week\//);
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=roster-grid] thead th[data-date]').length === 7);
  assert.equal(await page.locator(`[data-testid=roster-grid] tr.rs-me td[data-date="${d1}"] .rs-chip`).getAttribute('data-code'), '大');
  assert.equal(await page.getByTestId('mode-week').getAttribute('aria-pressed'), 'true');
  await shot(page, 'roster-week-desktop');

  // My shifts list; ask to swap the day shift for the colleague's evening.
  const dayShift = addDays(d1, 6);
  await page.goto(`/#/roster/${ward}/week/${dayShift}`);
  await page.getByTestId('swap-' + dayShift).click();
  await page.getByTestId('swap-with').selectOption(colleague.id);
  assert.match(await page.getByTestId('swap-their').textContent(), /小 小夜/);
  await page.locator('#swap-reason').fill('孩子生病');
  await page.getByTestId('swap-submit').click();
  await page.locator('.rs-notice .rs-ok').waitFor();
  assert.match(await page.locator('.rs-notice').textContent(), /调班申请已提交/);
  const pending = page.locator('[data-testid=my-swaps] .rs-swap');
  await pending.first().waitFor();
  assert.match(await pending.first().textContent(), new RegExp(colleague.name + '.*审批中'));
  await shot(page, 'roster-swap-desktop');
  assert.deepEqual(page.errors.map(String), []);
  await context.close();
});

test('the roster on a phone, today marked', async (t) => {
  if (skip) return t.skip(skip);
  if (!d1) return t.skip('the roster was not published');
  const { page, context } = await newPage(browser, PHONE);
  await signIn(page, nurse.login, password);
  await page.goto(`/#/roster/${ward}/week/${d1}`);
  await page.locator('[data-testid=roster-grid] tr.rs-me').waitFor();
  const wide = await page.evaluate(() => document.querySelector('.roster').scrollWidth);
  assert.ok(wide <= 390, `the screen is ${wide}px wide`);
  await shot(page, 'roster-week-phone');
  await page.getByTestId('mode-month').click();
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=roster-grid] thead th[data-date]').length >= 28);
  // The month scrolls inside its box; the page itself stays phone-wide.
  const wide2 = await page.evaluate(() => document.querySelector('.roster').scrollWidth);
  assert.ok(wide2 <= 390, `the month is ${wide2}px wide`);
  await shot(page, 'roster-month-phone');
  // Today: the head nurse publishes a short roster from today (through the
  // API; the editor was shown above) with a day shift for the nurse; back on
  // the current week, today's column is marked and her shift is in it.
  const today = new Date(Date.now() - new Date().getTimezoneOffset() * 60000).toISOString().slice(0, 10);
  const last = addDays(today, 6) < d1 ? addDays(today, 6) : addDays(d1, -1);
  const H = await newPage(browser, DESKTOP);
  await signIn(H.page, head.login, password);
  const org = (await apiIn(H.page, 'GET', '/api/v1/me')).body.org_id;
  const dayId = (await apiIn(H.page, 'GET', `/api/v1/orgs/${org}/shifts`)).body.items.find((s) => s.code === '白').id;
  let r = await apiIn(H.page, 'POST', `/api/v1/orgs/${org}/departments/${ward}/rosters`, { from: today, to: last });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  r = await apiIn(H.page, 'PUT', `/api/v1/rosters/${r.body.roster.id}`, { version: 1, assignments: [{ user_id: nurseId, date: today, shift_id: dayId }] });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  r = await apiIn(H.page, 'POST', `/api/v1/rosters/${r.body.roster.id}/publish`, { version: r.body.roster.version });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  await H.context.close();
  await page.getByTestId('mode-week').click();
  await page.getByTestId('roster-today').click();
  await page.locator('[data-testid=roster-grid] thead th.rs-today[aria-current=date]').waitFor();
  assert.equal(await page.locator(`[data-testid=roster-grid] tr.rs-me td.rs-today[data-date="${today}"] .rs-chip`).getAttribute('data-code'), '白');
  await shot(page, 'roster-today-phone');
  assert.deepEqual(page.errors.map(String), []);
  await context.close();
});

test('the hospital admin, head of no ward, may still draft any ward\'s roster: the button shows', async (t) => {
  if (skip) return t.skip(skip);
  const { page, context } = await newPage(browser, DESKTOP);
  await signIn(page, admin.login, password);
  const caps = (await apiIn(page, 'GET', '/api/v1/me/capabilities')).body;
  assert.ok(caps.roles.includes('org_admin') && caps.allowed.includes('roster.settings:write'), JSON.stringify(caps));
  // Two months ahead of the published one: nothing covers it yet.
  const later = addDays(d1 || new Date().toISOString().slice(0, 10), 62).slice(0, 8) + '01';
  await page.evaluate((h) => { location.hash = h; }, `#/roster/${ward}/month/${later}`);
  await page.locator('[data-testid=roster-range]').waitFor();
  await page.getByTestId('new-draft').waitFor();
  await shot(page, 'roster-admin-desktop');
  await context.close();

  // The nurse of that ward sees the same month without it.
  const N = await newPage(browser, DESKTOP);
  await signIn(N.page, nurse.login, password);
  await N.page.evaluate((h) => { location.hash = h; }, `#/roster/${ward}/month/${later}`);
  await N.page.locator('[data-testid=roster-range]').waitFor();
  assert.equal(await N.page.getByTestId('new-draft').count(), 0);
  await N.context.close();
});
