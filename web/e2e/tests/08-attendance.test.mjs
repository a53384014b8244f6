// Attendance: the org admin draws a geofence; a staff member whose browser
// says they are inside it clocks in and sees the time and place; 2 km away
// the server's refusal is shown; the month summary and days are there and
// the month can be changed. Desktop and phone screenshots.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, newPage, demo, hasRoute, signIn, shot, DESKTOP, PHONE, apiIn } from '../lib.mjs';

const HOSPITAL = { latitude: 31.2304, longitude: 121.4737 };
// About 2.2 km north.
const AWAY = { latitude: HOSPITAL.latitude + 0.02, longitude: HOSPITAL.longitude };

let browser;
let skip = '';
let staff;
let password = '';

before(async () => {
  if (!(await hasRoute('POST', '/api/v1/sessions'))) { skip = 'the server does not serve sign-in yet'; return; }
  if (!(await hasRoute('POST', '/api/v1/attendance/clock'))) { skip = 'the server does not serve attendance yet'; return; }
  const d = demo();
  password = d.password;
  const admin = d.logins.find((l) => /org_admin/.test(l.role));
  staff = d.logins.find((l) => /staff|职员|员工/.test(l.role) && !/admin/.test(l.role)) || d.logins[1];
  if (!admin || !staff) { skip = 'the server printed no org admin or staff account'; return; }
  browser = await launch();
  const A = await newPage(browser, DESKTOP);
  await signIn(A.page, admin.login, password);
  const me = (await apiIn(A.page, 'GET', '/api/v1/me')).body;
  const org = me.org_id || (me.user && me.user.org_id);
  const rules = {
    geofences: [{ name: '院本部', lat: HOSPITAL.latitude, lon: HOSPITAL.longitude, radius_m: 300 }],
    wifi: [], networks: [], late_grace_minutes: 5, early_grace_minutes: 5, window_minutes: 240,
    office: { weekdays: [1, 2, 3, 4, 5], start_minute: 480, end_minute: 1050 },
  };
  const r = await apiIn(A.page, 'PUT', `/api/v1/orgs/${org}/attendance/rules`, rules);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  await A.context.close();
});
after(async () => { await browser?.close(); });

test('clock in at the hospital, refused 2 km away, the month below', async (t) => {
  if (skip) return t.skip(skip);
  const S = await newPage(browser, DESKTOP, { geolocation: HOSPITAL, permissions: ['geolocation'] });
  const { page, context } = S;
  await signIn(page, staff.login, password);
  await page.locator('.rail-tab[data-tab=attendance]').click();
  await page.waitForURL(/#\/attendance/);
  await page.locator('[data-testid=att-summary] [data-stat=duties]').waitFor();
  assert.match(await page.locator('.att-summary').textContent(), /应出勤.*正常.*迟到.*早退.*缺勤.*缺卡.*请假.*工时.*加班/s);

  // Keyboard: the button is reachable and Enter clocks in.
  await page.getByTestId('clock-in').focus();
  await page.keyboard.press('Enter');
  await page.locator('.att-result .att-ok').waitFor();
  const ok = await page.locator('.att-result').textContent();
  assert.match(ok, /上班打卡成功/);
  assert.match(ok, /\d\d:\d\d/);
  assert.match(ok, /院本部/);
  await shot(page, 'attendance-desktop');

  await context.setGeolocation(AWAY);
  await page.getByTestId('clock-out').click();
  await page.locator('.att-result .form-error').waitFor();
  assert.match(await page.locator('.att-result .form-error').textContent(), /不在医院范围内/);

  // Month navigation: previous, then back.
  const title = await page.locator('.att-month-title').textContent();
  await page.getByTestId('month-prev').click();
  await page.waitForFunction((t0) => document.querySelector('.att-month-title').textContent !== t0, title);
  assert.match(page.url(), /#\/attendance\/\d{4}-\d\d$/);
  await page.locator('[data-stat=duties]').waitFor();
  await page.getByTestId('month-next').click();
  await page.waitForFunction((t0) => document.querySelector('.att-month-title').textContent === t0, title);
  assert.deepEqual(page.errors.map(String), []);
  await context.close();
});

test('the attendance screen on a phone', async (t) => {
  if (skip) return t.skip(skip);
  const { page, context } = await newPage(browser, PHONE, { geolocation: HOSPITAL, permissions: ['geolocation'] });
  await signIn(page, staff.login, password);
  await page.goto('/#/attendance');
  await page.locator('[data-stat=overtime_minutes]').waitFor();
  await page.getByTestId('clock-out').click();
  await page.locator('.att-result .att-ok').waitFor();
  assert.match(await page.locator('.att-result').textContent(), /下班打卡成功/);
  // Nothing wider than the screen.
  const wide = await page.evaluate(() => document.querySelector('.attendance').scrollWidth);
  assert.ok(wide <= 390, `the screen is ${wide}px wide`);
  await shot(page, 'attendance-phone');
  assert.deepEqual(page.errors.map(String), []);
  await context.close();
});
