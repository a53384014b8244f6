// The directory API (orgchart/httpapi) in one place.
import { get, qs } from './api.js';
import { session } from './session.js';

const enc = encodeURIComponent;
const myOrg = () => (session.user && session.user.org_id) || '';

/** Flatten the nested tree ({items: [TreeNode{...Department, path, member_count, children}]}). */
function flatten(nodes, out = []) {
  for (const n of nodes || []) {
    const { children, ...d } = n;
    out.push(d);
    flatten(children, out);
  }
  return out;
}

export const org = {
  myOrg,
  async departments(orgId = myOrg()) {
    const r = await get('/api/v1/orgs/' + enc(orgId) + '/departments');
    return flatten(r.items || []);
  },
  async staffOf(deptId, orgId = myOrg()) {
    const out = [];
    let cursor = '';
    for (let i = 0; i < 20; i++) {
      const r = await get('/api/v1/orgs/' + enc(orgId) + '/departments/' + enc(deptId) + '/members' + qs({ limit: 200, cursor }));
      out.push(...(r.items || []));
      cursor = r.next_cursor;
      if (!cursor) break;
    }
    return out;
  },
  async search(q) { return (await get('/api/v1/directory/search' + qs({ q, limit: 50 }))).items || []; },
  person(id, orgId = myOrg()) { return get('/api/v1/orgs/' + enc(orgId) + '/staff/' + enc(id)); },
};
