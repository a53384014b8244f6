// The admin console's and the app center's routes in one place: the
// marketplace (marketplace/httpapi), roles (core/authz), the audit log
// (core/audit), chat retention (im) and the org chart's CSV import.
import { api, get, post, put, del, qs } from './api.js';
import { session } from './session.js';

const enc = encodeURIComponent;
const myOrg = () => (session.user && session.user.org_id) || '';
const orgPath = (p) => '/api/v1/orgs/' + enc(myOrg()) + p;
const mp = (p) => orgPath('/marketplace' + p);

export const ADMIN_ROLES = ['org_admin', 'system_admin'];

/** Does the signed-in person hold an admin role in their organisation? */
export async function amAdmin() {
  const u = session.user;
  if (!u) return false;
  try {
    const r = await get(orgPath('/users/' + enc(u.id) + '/roles'));
    return (r.roles || []).some((x) => ADMIN_ROLES.includes(x));
  } catch {
    return false;
  }
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
};

export const auditLog = {
  list: (filter) => get(orgPath('/audit') + qs(filter)),
  verify: () => get('/api/v1/audit/verify'),
  exportURL: (filter) => orgPath('/audit/export') + qs(filter),
};

export const retention = {
  get: () => get('/api/v1/im/retention'),
  set: (messageDays, fileDays) => put('/api/v1/im/retention', { message_days: messageDays, file_days: fileDays }),
};

/** Import a CSV file: dryRun first shows what would change, then apply. */
export function importCSV(file, { dryRun, full }) {
  const body = new FormData();
  body.append('file', file);
  return api('POST', orgPath('/import/csv') + qs({ dry_run: dryRun ? 'true' : 'false', mode: full ? 'full' : 'partial' }), body);
}
