// Files and images in a chat: one person attaches a PNG and a text file with
// the attach button; the other sees the thumbnail, opens the full image and
// downloads the file with the same bytes; an HTML file is refused with the
// server's reason shown next to a retry, and nothing reaches the other side.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, open, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync, crc32 } from 'node:zlib';
import { launch, newPage, demo, hasRoute, signIn, shot, DESKTOP } from '../lib.mjs';

let browser;
let A; let B; // {context, page, user}
let convId = '';
let skip = '';

const W = 64; const H = 48;

/** A real W×H RGB PNG (a gradient), so the server can decode it and make a thumbnail. */
function png() {
  const chunk = (type, data) => {
    const len = Buffer.alloc(4); len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4); crc.writeUInt32BE(crc32(td));
    return Buffer.concat([len, td, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(W, 0); ihdr.writeUInt32BE(H, 4);
  ihdr[8] = 8; ihdr[9] = 2; // 8-bit RGB
  const raw = Buffer.alloc(H * (1 + W * 3));
  for (let y = 0; y < H; y++) {
    const row = y * (1 + W * 3);
    for (let x = 0; x < W; x++) {
      raw[row + 1 + x * 3] = (x * 4) & 255;
      raw[row + 2 + x * 3] = (y * 5) & 255;
      raw[row + 3 + x * 3] = 160;
    }
  }
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

async function me(page) {
  return page.evaluate(async () => (await fetch('/api/v1/me')).json());
}

/** Choose files with the attach button, from the keyboard, as a person would. */
async function attach(page, files) {
  const btn = page.getByTestId('attach');
  assert.ok(await btn.getAttribute('aria-label'), 'the attach button has a label');
  const [chooser] = await Promise.all([page.waitForEvent('filechooser'), btn.focus().then(() => btn.press('Enter'))]);
  await chooser.setFiles(files);
}

/** The delivered (not pending) message in the open conversation that holds sel. */
function delivered(page, sel) {
  return page.locator('.msg-list .msg:not(.pending)').filter({ has: page.locator(sel) });
}

before(async () => {
  if (!(await hasRoute('POST', '/api/v1/sessions'))) { skip = 'the server does not serve sign-in yet'; return; }
  if (!(await hasRoute('POST', '/api/v1/im/conversations/x/files'))) { skip = 'the server does not serve chat uploads yet'; return; }
  const { password, logins } = demo();
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
  B = await newPage(browser, DESKTOP, { acceptDownloads: true });
  await signIn(A.page, pair[0].login, password);
  await signIn(B.page, pair[1].login, password);
  A.user = await me(A.page);
  B.user = await me(B.page);
  await A.page.goto('/#/directory/person/' + B.user.id);
  await A.page.getByTestId('start-chat').click();
  await A.page.waitForURL(/#\/chat\/[^/]+$/);
  convId = decodeURIComponent(A.page.url().split('#/chat/')[1]);
});
after(async () => { await browser?.close(); });

test('an image and a file sent with the attach button; the other sees the thumbnail, opens the image and downloads the file', async (t) => {
  if (skip) return t.skip(skip);
  assert.ok(convId);
  const image = png();
  const stamp = Date.now();
  const imageName = `ward5-wound-${stamp}.png`;
  const textName = `handover-${stamp}.txt`;
  const textBody = `5 病区交班记录 ${stamp}\nBed 12: observe overnight.\n`;

  await attach(A.page, { name: imageName, mimeType: 'image/png', buffer: image });
  const mineImg = delivered(A.page, '[data-testid=image-thumb]').last().getByTestId('image-thumb');
  await mineImg.waitFor();
  assert.equal(await mineImg.getAttribute('alt'), imageName);
  await attach(A.page, { name: textName, mimeType: 'text/plain', buffer: Buffer.from(textBody) });
  await delivered(A.page, '[data-testid=file-link]').getByTestId('file-link').filter({ hasText: textName }).waitFor();
  // The sender's list previews the last thing sent.
  await A.page.locator(`.conv-item[data-conv="${convId}"]`, { hasText: '[文件]' }).waitFor();

  // B opens the conversation and sees both.
  await B.page.goto('/#/chat/' + encodeURIComponent(convId));
  const link = B.page.getByTestId('image-link').filter({ has: B.page.locator(`img[alt="${imageName}"]`) });
  await link.waitFor();
  assert.match(await link.getAttribute('aria-label'), new RegExp(imageName.replace(/[.]/g, '\\.')));
  const thumb = link.getByTestId('image-thumb');
  assert.match(await thumb.getAttribute('src'), /^\/api\/v1\/im\/files\/[^/?]+\?thumb=1$/);
  // The thumbnail really loaded (an image the browser decoded, not a broken icon).
  await B.page.waitForFunction((el) => el.complete && el.naturalWidth > 0, await thumb.elementHandle());

  // Click (here: Enter on the focused link) opens the full image in a dialog; Esc closes it.
  await link.focus();
  await link.press('Enter');
  const dlg = B.page.locator('dialog.dialog');
  const full = dlg.getByTestId('image-full');
  await full.waitFor();
  await B.page.waitForFunction((el) => el.complete && el.naturalWidth > 0, await full.elementHandle());
  assert.deepEqual(await full.evaluate((el) => [el.naturalWidth, el.naturalHeight]), [W, H]);
  await shot(B.page, 'chat-image-viewer');
  await B.page.keyboard.press('Escape');
  await dlg.waitFor({ state: 'detached' });

  // The file link downloads the same bytes under the sender's name.
  const fileLink = B.page.getByTestId('file-link').filter({ hasText: textName });
  await fileLink.waitFor();
  assert.match(await fileLink.getAttribute('aria-label'), new RegExp(textName.replace(/[.]/g, '\\.')));
  const [download] = await Promise.all([B.page.waitForEvent('download'), fileLink.click()]);
  assert.equal(download.suggestedFilename(), textName);
  assert.equal(await readFile(await download.path(), 'utf8'), textBody);
  await shot(B.page, 'chat-files-desktop');

  assert.deepEqual(A.page.errors.map(String), []);
  assert.deepEqual(B.page.errors.map(String), []);
});

test('an HTML file is refused: the server\'s reason is shown with a retry, and nothing is sent', async (t) => {
  if (skip) return t.skip(skip);
  await A.page.goto('/#/chat/' + encodeURIComponent(convId));
  const name = `page-${Date.now()}.html`;
  const before = await B.page.locator('.msg-list .msg').count();
  await attach(A.page, { name, mimeType: 'text/html', buffer: Buffer.from('<!DOCTYPE html><html><body><script>alert(1)</script></body></html>') });

  const pending = A.page.locator('.msg.pending').filter({ hasText: name });
  const err = pending.getByTestId('upload-error');
  await err.waitFor();
  // The server's own words, naming the refused type.
  assert.match(await err.textContent(), /files of type text\/html are not accepted/);
  assert.equal(await err.getAttribute('role'), 'alert');
  await shot(A.page, 'chat-upload-refused');

  // Retry asks the server again (and is refused again); discard removes it.
  const [res] = await Promise.all([
    A.page.waitForResponse((r) => r.url().endsWith('/im/conversations/' + encodeURIComponent(convId) + '/files') && r.request().method() === 'POST'),
    pending.getByTestId('retry').click(),
  ]);
  assert.equal(res.status(), 400);
  assert.equal((await res.json()).code, 'invalid');
  await err.waitFor();
  await pending.getByTestId('discard').click();
  await pending.waitFor({ state: 'detached' });

  // Nothing reached the other person.
  await B.page.waitForTimeout(500);
  assert.equal(await B.page.locator('.msg-list .msg').count(), before);
  assert.equal(await B.page.getByText(name).count(), 0);
  assert.deepEqual(A.page.errors.map(String), []);
});

test('a file over the server\'s limit is refused with the limit shown and a retry', async (t) => {
  if (skip) return t.skip(skip);
  await A.page.goto('/#/chat/' + encodeURIComponent(convId));
  // Just over the server's default 100 MiB per file: a sparse file on disk,
  // so the test costs the upload, not the memory.
  const dir = await mkdtemp(join(tmpdir(), 'rounds-e2e-big-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, `scan-${Date.now()}.bin`);
  const fh = await open(path, 'w');
  await fh.truncate(100 * 1024 * 1024 + 1024);
  await fh.close();
  const name = path.split('/').pop();
  await attach(A.page, path);

  const pending = A.page.locator('.msg.pending').filter({ hasText: name });
  const err = pending.getByTestId('upload-error');
  await err.waitFor({ timeout: 60000 });
  const text = await err.textContent();
  assert.match(text, /the file is larger than the limit/);
  assert.match(text, /\(100 MB\)/);
  assert.ok(await pending.getByTestId('retry').isVisible());
  await shot(A.page, 'chat-upload-too-large');
  await pending.getByTestId('discard').click();
  await pending.waitFor({ state: 'detached' });
  assert.deepEqual(A.page.errors.map(String), []);
});
