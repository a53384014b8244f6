// App pages stay signed in past their page token's hour, with no code in the
// app: the real 日报 app (built and signed by web/e2e/make-catalog) is
// installed, a nurse opens its page in the app center's sandboxed frame, and
// the page's clock is moved on 32 minutes. The helper script the server
// serves with every page renews the token through the app's @page-token
// route, and the page's own, unchanged code — which read the token once,
// when it loaded — submits her report with the fresh token.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, newPage, demo, hasRoute, signIn, shot, baseURL, DESKTOP } from '../lib.mjs';

let browser;
let skip = '';
let nurse;
let password = '';
const publisherKey = process.env.ROUNDS_E2E_PUBLISHER_KEY || '';

/** A call to the API as the bearer of token (no browser involved). */
async function api(token, method, path, body) {
  const res = await fetch(baseURL + path, {
    method, headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: 'Bearer ' + token } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(60000),
  });
  return { status: res.status, body: await res.json().catch(() => null) };
}

/** Installs and enables the 日报 app for the nurse's ward, unless it is (as after 10-apps-admin). */
async function ensureApp(admin) {
  const session = (await api('', 'POST', '/api/v1/sessions', { login: admin.login, password })).body;
  const token = session.token;
  const org = session.user.org_id;
  const mp = `/api/v1/orgs/${org}/marketplace`;
  const installed = ((await api(token, 'GET', mp + '/installs')).body.items || []).find((i) => i.app_id === 'daily-report');
  if (installed) {
    if (!installed.enabled) assert.equal((await api(token, 'POST', `${mp}/installs/${installed.id}/enable`)).status, 200);
    return;
  }
  const keys = (await api(token, 'GET', mp + '/keys')).body.items || [];
  if (!keys.some((k) => k.public_key === publisherKey)) {
    const added = await api(token, 'POST', mp + '/keys', { name: '江城医疗软件', public_key: publisherKey });
    assert.equal(added.status, 201, JSON.stringify(added.body));
  }
  let ward = { children: (await api(token, 'GET', `/api/v1/orgs/${org}/departments`)).body.items };
  for (const name of nurse.dept.split('/')) ward = (ward.children || []).find((d) => d.name === name);
  assert.ok(ward, 'the demo has the nurse\'s ward ' + nurse.dept);
  const res = await api(token, 'POST', mp + '/installs', {
    app_id: 'daily-report', version: '0.2.0', enable: true, visibility: { everyone: true }, settings: { department: ward.id },
    grants: [{ scope: 'orgchart:read', subtree: ward.id }, { scope: 'im:send' }, { scope: 'http:routes' }],
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
}

before(async () => {
  if (!(await hasRoute('POST', '/api/v1/sessions'))) { skip = 'the server does not serve sign-in yet'; return; }
  if (!publisherKey) { skip = 'no signed catalog: run through web/e2e/run (ROUNDS_E2E_PUBLISHER_KEY)'; return; }
  const d = demo();
  password = d.password;
  const admin = d.logins.find((l) => /org_admin/.test(l.role) && l.login.startsWith('jcyy.'));
  nurse = d.logins.find((l) => /护士 /.test(l.role + ' ') && /\(staff\)/.test(l.role) && l.login.startsWith('jcyy.'));
  if (!admin || !nurse) { skip = 'the server printed no org admin or nurse account'; return; }
  nurse.dept = nurse.role.split(' · ')[1];
  await ensureApp(admin);
  browser = await launch();
});
after(async () => { await browser?.close(); });

test('an app page renews its token on its own and the page\'s calls use the fresh one', async (t) => {
  if (skip) return t.skip(skip);
  const { page, context } = await newPage(browser, DESKTOP);
  // The page's clock (and the client's) under the test's control; it runs
  // on as usual until moved on.
  await context.clock.install();
  const appCalls = [];
  page.on('request', async (req) => {
    if (/\/plugins\/daily-report\/(reports|@page-token)/.test(req.url())) {
      appCalls.push({ method: req.method(), path: new URL(req.url()).pathname, auth: (await req.allHeaders()).authorization || '' });
    }
  });
  await signIn(page, nurse.login, password);
  await page.locator('.rail-tab[data-tab=apps]').click();
  await page.locator('.app-tile[data-app=daily-report]').click();
  await page.getByTestId('app-frame').waitFor();
  const inside = page.frameLocator('[data-testid=app-frame]');
  await inside.locator('textarea[name=text]').waitFor();
  await inside.locator('[data-testid=my-reports] li').first().waitFor();
  const frame = page.frames().find((f) => /\/plugins\/daily-report\/ui\/write\?lang=zh-CN$/.test(f.url()));
  assert.ok(frame, 'the app frame');
  const metaToken = () => frame.evaluate(() => document.querySelector('meta[name="rounds-page-token"]').content);
  const first = await metaToken();
  assert.match(first, /^rpt1\./);
  // The page loaded its list with the token it was served with.
  assert.ok(appCalls.some((c) => c.path.endsWith('/reports/mine') && c.auth === 'Bearer ' + first), JSON.stringify(appCalls));

  // 32 minutes on, past half the token's hour: the helper renews it.
  const renewed = page.waitForResponse((r) => r.url().endsWith('/plugins/daily-report/@page-token'));
  await context.clock.fastForward('32:00');
  const res = await renewed;
  assert.equal(res.status(), 200);
  const fresh = (await res.json()).token;
  assert.match(fresh, /^rpt1\./);
  assert.notEqual(fresh, first);
  await frame.waitForFunction((tok) => document.querySelector('meta[name="rounds-page-token"]').content === tok, fresh);
  assert.ok(appCalls.some((c) => c.method === 'POST' && c.path.endsWith('/@page-token') && c.auth === 'Bearer ' + first));

  // The page's own code still holds the first token; its call goes out with
  // the fresh one and works.
  const text = '夜班交班：7床体温已降 ' + Date.now();
  await inside.getByLabel('今天的工作').fill(text);
  const submitted = page.waitForResponse((r) => r.url().endsWith('/plugins/daily-report/reports') && r.request().method() === 'POST');
  await inside.getByRole('button', { name: '提交' }).click();
  assert.equal((await submitted).status(), 201);
  await inside.locator('#msg').filter({ hasText: /已提交|提交失败/ }).waitFor();
  assert.equal(await inside.locator('#msg').textContent(), '已提交');
  await inside.locator('[data-testid=my-reports] li', { hasText: text }).waitFor();
  const post = appCalls.find((c) => c.method === 'POST' && c.path.endsWith('/reports'));
  assert.equal(post.auth, 'Bearer ' + fresh, 'the page\'s call carries the renewed token');
  // A page that uses XMLHttpRequest with the token it loaded is served the same way.
  const xhrSent = page.waitForRequest((r) => r.url().endsWith('/reports/mine?via=xhr'));
  const xhr = await frame.evaluate((old) => new Promise((resolve) => {
    const x = new XMLHttpRequest();
    x.open('GET', '../reports/mine?via=xhr');
    x.setRequestHeader('Authorization', 'Bearer ' + old);
    x.onloadend = () => resolve(x.status);
    x.send();
  }), first);
  assert.equal(xhr, 200);
  assert.equal((await (await xhrSent).allHeaders()).authorization, 'Bearer ' + fresh, 'an XMLHttpRequest carries the renewed token');
  await shot(page, 'apps-page-token-renewed-desktop');
  assert.deepEqual(page.errors, []);
  await context.close();
});
