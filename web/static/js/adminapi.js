// The admin console's and the app center's routes in one place: the
// marketplace (marketplace/httpapi), roles (core/authz), the audit log
// (core/audit), chat retention (im) and the org chart's CSV import.
import { api, get, post, put, del, qs, ApiError } from './api.js';
import { t } from './i18n.js';
import { session } from './session.js';

const enc = encodeURIComponent;
const myOrg = () => (session.user && session.user.org_id) || '';
const orgPath = (p) => '/api/v1/orgs/' + enc(myOrg()) + p;
const mp = (p) => orgPath('/marketplace' + p);

/**
 * What the admin console's tabs need, as object:action pairs of the server's
 * catalogue. A tab shows to whoever the server would let through: org admins,
 * or a custom role granting that part.
 */
export const ADMIN_TABS = {
  org: 'orgchart.staff:write',
  roles: 'authz.role:write',
  apps: 'marketplace.app:install',
  audit: 'audit.log:read',
  settings: 'im.retention:admin',
};

// My roles and what they allow (GET /api/v1/me/capabilities), asked once per
// signed-in person. The server still decides on every request.
let caps = { user: null, promise: null };
export function capabilities() {
  const u = session.user;
  if (!u) return Promise.resolve({ roles: [], allowed: [], can: () => false });
  if (caps.user !== u || !caps.promise) {
    caps = { user: u, promise: get('/api/v1/me/capabilities').then((c) => {
      const allowed = new Set(c.allowed || []);
      return { roles: c.roles || [], allowed: [...allowed], can: (pair) => allowed.has(pair) };
    }).catch(() => { caps.promise = null; return { roles: [], allowed: [], can: () => false }; }) };
  }
  return caps.promise;
}

/** Which admin console tabs may I use? */
export async function adminTabs() {
  const c = await capabilities();
  return Object.keys(ADMIN_TABS).filter((tab) => c.can(ADMIN_TABS[tab]));
}

/** Does the admin console have anything for me? */
export async function amAdmin() {
  return (await adminTabs()).length > 0;
}

export const apps = {
  mine: async () => (await get('/api/v1/me/apps')).items || [],
  open: (installId) => get('/api/v1/me/apps/' + enc(installId)),
};

export const market = {
  catalog: async (category) => (await get(mp('/catalog') + qs({ category }))).items || [],
  app: (id) => get(mp('/catalog/' + enc(id))),
  screenshotURL: (appId, n) => mp('/catalog/' + enc(appId) + '/screenshots/' + n),
  keys: async () => (await get(mp('/keys'))).items || [],
  addKey: (name, publicKey) => post(mp('/keys'), { name, public_key: publicKey }),
  removeKey: (id) => del(mp('/keys/' + enc(id))),
  installs: async () => (await get(mp('/installs'))).items || [],
  install: (req) => post(mp('/installs'), req),
  get: (id) => get(mp('/installs/' + enc(id))),
  enable: (id) => post(mp('/installs/' + enc(id) + '/enable')),
  disable: (id) => post(mp('/installs/' + enc(id) + '/disable')),
  rollback: (id) => post(mp('/installs/' + enc(id) + '/rollback')),
  upgrade: (id, req) => post(mp('/installs/' + enc(id) + '/upgrade'), req),
  settings: (id, settings) => put(mp('/installs/' + enc(id) + '/settings'), { settings }),
  visibility: (id, v) => put(mp('/installs/' + enc(id) + '/visibility'), v),
  uninstall: (id, keepData) => del(mp('/installs/' + enc(id)) + qs({ keep_data: keepData ? 'true' : 'false' })),
};

export const roles = {
  list: async () => (await get(orgPath('/roles'))).items || [],
  of: async (userId) => (await get(orgPath('/users/' + enc(userId) + '/roles'))).roles || [],
  grant: (userId, role) => put(orgPath('/users/' + enc(userId) + '/roles/' + enc(role))),
  revoke: (userId, role) => del(orgPath('/users/' + enc(userId) + '/roles/' + enc(role))),
  create: (def) => post(orgPath('/roles'), def),
  remove: (name) => del(orgPath('/roles/' + enc(name))),
};

export const auditLog = {
  list: (filter) => get(orgPath('/audit') + qs(filter)),
  verify: () => get('/api/v1/audit/verify'),
  exportURL: (filter) => orgPath('/audit/export') + qs(filter),
};

export const retention = {
  get: () => get('/api/v1/im/retention'),
  set: (messageDays, fileDays) => put('/api/v1/im/retention', { message_days: messageDays, file_days: fileDays }),
  holds: async (released) => (await get('/api/v1/im/holds' + qs({ released: released ? '1' : undefined }))).items || [],
  placeHold: (req) => post('/api/v1/im/holds', req),
  releaseHold: (id) => post('/api/v1/im/holds/' + enc(id) + '/release'),
  /** Export as a file: resolves to a Blob with its file name. */
  exportMessages: (req) => download('POST', '/api/v1/im/exports', req),
};

function csrfToken() {
  for (const part of document.cookie.split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === 'rounds_csrf') return decodeURIComponent(v.join('='));
  }
  return '';
}

/** A request whose answer is a file (an export): { blob, name }, or an ApiError. */
async function download(method, path, body) {
  let res;
  try {
    res = await fetch(path, { method, credentials: 'same-origin', body: JSON.stringify(body),
      headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'X-CSRF-Token': csrfToken() } });
  } catch {
    throw new ApiError(0, 'network', t('err.network'));
  }
  if (!res.ok) {
    let data = null;
    try { data = await res.json(); } catch { /* not the error envelope */ }
    throw new ApiError(res.status, data && data.code, (data && data.message) || res.statusText, data && data.details);
  }
  const m = /filename="([^"]+)"/.exec(res.headers.get('Content-Disposition') || '');
  return { blob: await res.blob(), name: m ? m[1] : 'rounds-chat-export' };
}

/** Import a CSV file: dryRun first shows what would change, then apply. */
export function importCSV(file, { dryRun, full }) {
  const body = new FormData();
  body.append('file', file);
  return api('POST', orgPath('/import/csv') + qs({ dry_run: dryRun ? 'true' : 'false', mode: full ? 'full' : 'partial' }), body);
}
