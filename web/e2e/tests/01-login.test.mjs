// Sign-in, the language switch, and the screenshots of the sign-in page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, newPage, demo, hasRoute, signIn, shot, DESKTOP, PHONE } from '../lib.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test('the sign-in page is Chinese by default and switches to English and back', async () => {
  const { context, page } = await newPage(browser);
  await page.goto('/');
  await page.locator('#login-title').waitFor();
  assert.equal(await page.locator('#login-title').textContent(), '登录');
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'zh-CN');
  await shot(page, 'login-desktop');
  await page.getByTestId('lang-switch').click();
  assert.equal(await page.locator('#login-title').textContent(), 'Sign in');
  assert.equal(await page.locator('label[for=password]').textContent(), 'Password');
  // The choice survives a reload.
  await page.reload();
  await page.locator('#login-title').waitFor();
  assert.equal(await page.locator('#login-title').textContent(), 'Sign in');
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'en');
  await page.getByTestId('lang-switch').click();
  assert.equal(await page.locator('#login-title').textContent(), '登录');
  await context.close();
});

test('the sign-in page fits a phone', async () => {
  const { context, page } = await newPage(browser, PHONE);
  await page.goto('/');
  await page.locator('#login-title').waitFor();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
  assert.equal(overflow, false, 'no horizontal scrolling at 390 px');
  await shot(page, 'login-phone');
  await context.close();
});

test('an empty form is refused in the page, without a request', async () => {
  const { context, page } = await newPage(browser);
  let posted = false;
  page.on('request', (r) => { if (r.url().endsWith('/api/v1/sessions')) posted = true; });
  await page.goto('/');
  await page.locator('form.login-form button[type=submit]').click();
  await page.locator('#login-error').waitFor();
  assert.equal(await page.locator('#login-error').textContent(), '请输入账号和密码');
  assert.equal(posted, false);
  await context.close();
});

test('a wrong password shows the error; the right one enters; sign-out returns to sign-in', async (t) => {
  if (!(await hasRoute('POST', '/api/v1/sessions'))) return t.skip('the server does not serve POST /api/v1/sessions yet');
  const { password, logins } = demo();
  if (!logins.length) return t.skip('the server printed no demo accounts (demo loader not wired yet)');
  const { context, page } = await newPage(browser, DESKTOP);
  await page.goto('/');
  await page.locator('#login').fill(logins[0].login);
  await page.locator('#password').fill(password + '-wrong');
  await page.locator('form.login-form button[type=submit]').click();
  const err = page.locator('#login-error');
  await err.waitFor();
  assert.match(await err.textContent(), /账号或密码不正确|请稍后/);
  assert.equal(await page.locator('nav.rail').count(), 0);

  await page.locator('#password').fill(password);
  await page.locator('form.login-form button[type=submit]').click();
  await page.locator('nav.rail').waitFor();
  assert.equal(await page.locator('.rail-tab[aria-current=page] .rail-label').textContent(), '消息');
  // A reload keeps the session (HttpOnly cookie).
  await page.reload();
  await page.locator('nav.rail').waitFor();
  await page.getByTestId('signout').click();
  await page.locator('#login-title').waitFor();
  await page.reload();
  await page.locator('#login-title').waitFor();
  assert.deepEqual(page.errors.map(String), []);
  await context.close();
});

test('the language switch in the shell changes every label', async (t) => {
  const { password, logins } = demo();
  if (!logins.length || !(await hasRoute('POST', '/api/v1/sessions'))) return t.skip('no demo accounts or sign-in route yet');
  const { context, page } = await newPage(browser);
  await signIn(page, logins[0].login, password);
  assert.equal(await page.locator('.rail-tab[data-tab=directory] .rail-label').textContent(), '通讯录');
  await page.locator('nav.rail').getByTestId('lang-switch').click();
  assert.equal(await page.locator('.rail-tab[data-tab=directory] .rail-label').textContent(), 'Directory');
  assert.equal(await page.locator('.rail-tab[data-tab=chat] .rail-label').textContent(), 'Chat');
  await page.locator('nav.rail').getByTestId('lang-switch').click();
  assert.equal(await page.locator('.rail-tab[data-tab=chat] .rail-label').textContent(), '消息');
  await context.close();
});
