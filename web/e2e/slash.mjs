// Helpers shared by the browser tests of slash commands (14) and of the IT
// 报修 app (12): calling the API from a signed-in page, installing the
// helpdesk from the signed catalog as 12 does, opening its page in the app
// center, and running a command from the chat composer.
import assert from 'node:assert/strict';
import { DESKTOP, PHONE, apiIn } from './lib.mjs';

/**
 * As the signed-in admin: trusts the publisher (unless already trusted) and
 * installs IT 报修 through the consent screen with engineerIds as its
 * required `engineers` setting; waits until it runs. onStep(name) is called
 * where a screenshot tells the story ('catalog', 'consent', 'installed').
 */
export async function installHelpdesk(page, org, publisherKey, engineerIds, onStep = async () => {}) {
  await page.locator('.rail-tab[data-tab=admin]').click();
  await page.locator('.adm-tab[data-tab=apps]').click();
  const keys = (await apiIn(page, 'GET', `/api/v1/orgs/${org}/marketplace/keys`)).body.items || [];
  if (!keys.some((k) => k.public_key === publisherKey)) {
    await page.getByTestId('key-name').fill('江城医疗软件');
    await page.getByTestId('key-value').fill(publisherKey);
    await page.getByTestId('key-add').click();
    await page.locator('.adm-keys li').first().waitFor();
  }
  const card = page.locator('.adm-app[data-app=helpdesk]');
  await card.waitFor();
  assert.match(await card.textContent(), /IT 报修/);
  await card.scrollIntoViewIfNeeded();
  await onStep('catalog');
  await page.getByTestId('install-helpdesk-0.2.0').click();
  const consent = page.getByTestId('consent');
  await consent.waitFor();
  await consent.locator('#cs-set-engineers').fill(engineerIds);
  await onStep('consent');
  await page.getByTestId('consent-install').click();
  try {
    await consent.waitFor({ state: 'detached', timeout: 60000 });
  } catch (e) {
    // Say what the form says (a refusal, or still installing), and show it.
    const said = (await consent.locator('[role=alert]').allTextContents().catch(() => [])).join(' ').trim();
    await page.screenshot({ path: (process.env.ROUNDS_E2E_ARTIFACTS || '.') + '/helpdesk-install-stuck.png' }).catch(() => {});
    throw new Error(`the consent form stayed open, saying ${JSON.stringify(said)}\n${e.message}`);
  }
  const row = page.locator('.adm-install[data-app=helpdesk]');
  await row.waitFor();
  await page.waitForFunction(() => /已启用/.test(document.querySelector('.adm-install[data-app=helpdesk] [data-testid=install-state]')?.textContent || ''), null, { timeout: 60000 });
  await row.scrollIntoViewIfNeeded();
  await onStep('installed');
}

/** Opens IT 报修 in the app center (a rail tab on a desktop, under "more" on a phone); returns the frame. */
export async function openHelpdesk(page, vp = DESKTOP) {
  if (vp === PHONE) {
    await page.getByTestId('more-tab').click();
    await page.getByTestId('more-menu').locator('[data-tab=apps]').click();
  } else {
    await page.locator('.rail-tab[data-tab=apps]').click();
  }
  await page.locator('.app-tile[data-app=helpdesk]').click({ timeout: 30000 });
  const frame = page.getByTestId('app-frame');
  await frame.waitFor();
  assert.equal(await frame.getAttribute('sandbox'), 'allow-scripts allow-forms');
  assert.match(await frame.getAttribute('src'), /^\/plugins\/helpdesk\/ui\/mine\?lang=zh-CN$/);
  const inside = page.frameLocator('[data-testid=app-frame]');
  await inside.locator('[data-testid=my-tickets] li').first().waitFor();
  return inside;
}

/**
 * Types text into the open conversation's composer and sends it with Enter;
 * for a command, waits for the app's answer and returns its notice (only the
 * sender sees it): {el, status ('ok' or 'error'), text}.
 */
export async function runSlash(page, text) {
  const box = page.getByTestId('composer');
  await box.fill(text);
  // The hint says the app will run it, once the list of commands is in.
  await page.getByTestId('cmd-hint').filter({ hasText: /执行/ }).waitFor();
  const before = await page.locator('.msg-list [data-testid=cmd-notice]').count();
  await box.press('Enter');
  const el = page.locator('.msg-list [data-testid=cmd-notice]').nth(before);
  await el.waitFor();
  await page.waitForFunction((i) => {
    const n = document.querySelectorAll('.msg-list [data-testid=cmd-notice]')[i];
    return n && n.dataset.status !== 'running';
  }, before, { timeout: 30000 });
  assert.equal(await box.inputValue(), '', 'the composer is cleared');
  return { el, status: await el.getAttribute('data-status'), text: await el.textContent() };
}
