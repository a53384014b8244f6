// The rostering API (roster/httpapi) and the shift-swap approval in one
// place, plus civil-date helpers: a roster is written in dates
// ("2026-12-01"), never in times, so the helpers count whole days in UTC and
// no device time zone or daylight-saving change can move a shift to another
// day.
import { get, post, put, qs } from './api.js';
import { session } from './session.js';
import { uuid } from './util.js';

const enc = encodeURIComponent;
const myOrg = () => (session.user && session.user.org_id) || '';
const orgPath = (org) => '/api/v1/orgs/' + enc(org || myOrg());

export const rosterApi = {
  myOrg,
  shifts: async (org) => (await get(orgPath(org) + '/shifts')).items || [],
  patterns: async () => (await get('/api/v1/roster-patterns')).items || [],
  adoptPattern: async (key, org) => (await post(orgPath(org) + '/shift-patterns/' + enc(key))).items || [],
  rules: (dept, org) => get(orgPath(org) + '/departments/' + enc(dept) + '/roster-rules'),
  /** Rosters of a department overlapping [from, to], latest version each, without assignments. */
  list: async (dept, from, to, org) => (await get(orgPath(org) + '/departments/' + enc(dept) + '/rosters' + qs({ from, to }))).items || [],
  /** {roster, violations} */
  get: (id) => get('/api/v1/rosters/' + enc(id)),
  create: (dept, from, to, org) => post(orgPath(org) + '/departments/' + enc(dept) + '/rosters', { from, to }),
  save: (id, version, assignments) => put('/api/v1/rosters/' + enc(id), { version, assignments }),
  publish: (id, version) => post('/api/v1/rosters/' + enc(id) + '/publish', { version }),
  /** Everyone on the ward (its subtree too, as the server's rules count them). */
  async members(dept, org) {
    const out = [];
    let cursor = '';
    for (let i = 0; i < 20; i++) {
      const r = await get(orgPath(org) + '/departments/' + enc(dept) + '/members' + qs({ subtree: 'true', limit: 200, cursor }));
      out.push(...(r.items || []));
      cursor = r.next_cursor;
      if (!cursor) break;
    }
    return out;
  },
  /** Ask a colleague to swap: the built-in 调班 approval (colleague first, then the head nurse). */
  requestSwap: (form) => post('/api/v1/approvals/requests', { action_id: uuid(), template_code: 'shift_swap', form }),
  /** My swap requests still waiting. */
  mySwaps: async () => (await get('/api/v1/approvals/me/submitted' + qs({ template: 'shift_swap', status: 'pending', limit: 50 }))).items || [],
  /** Swap requests waiting for my decision (a colleague asked me). */
  swapsForMe: async () => (await get('/api/v1/approvals/me/pending' + qs({ template: 'shift_swap', limit: 50 }))).items || [],
};

// Civil dates as "YYYY-MM-DD".
const pad = (n) => String(n).padStart(2, '0');
const toDate = (s) => { const [y, m, d] = s.split('-').map(Number); return new Date(Date.UTC(y, m - 1, d)); };
const fromDate = (d) => d.getUTCFullYear() + '-' + pad(d.getUTCMonth() + 1) + '-' + pad(d.getUTCDate());

export const dates = {
  valid: (s) => /^\d{4}-\d\d-\d\d$/.test(s || '') && fromDate(toDate(s)) === s,
  /** Today on this device (hospital devices keep the hospital's time). */
  today() { const n = new Date(); return n.getFullYear() + '-' + pad(n.getMonth() + 1) + '-' + pad(n.getDate()); },
  add(s, days) { const d = toDate(s); d.setUTCDate(d.getUTCDate() + days); return fromDate(d); },
  /** 0 Sunday … 6 Saturday. */
  weekday: (s) => toDate(s).getUTCDay(),
  weekend(s) { const w = toDate(s).getUTCDay(); return w === 0 || w === 6; },
  /** Monday of the week. */
  weekStart(s) { const w = toDate(s).getUTCDay(); return dates.add(s, -((w + 6) % 7)); },
  monthStart: (s) => s.slice(0, 8) + '01',
  monthEnd(s) { const d = toDate(s.slice(0, 8) + '01'); d.setUTCMonth(d.getUTCMonth() + 1); d.setUTCDate(0); return fromDate(d); },
  addMonths(s, n) { const d = toDate(s.slice(0, 8) + '01'); d.setUTCMonth(d.getUTCMonth() + n); return fromDate(d); },
  /** Every date from a to b inclusive. */
  range(a, b) { const out = []; for (let s = a; s <= b && out.length < 400; s = dates.add(s, 1)) out.push(s); return out; },
  /** A Date at noon UTC of the civil date, for Intl formatting with timeZone UTC. */
  js: (s) => new Date(toDate(s).getTime() + 12 * 3600e3),
};

/** "08:00" from minutes after midnight. */
export const hhmm = (m) => pad(Math.floor(m / 60)) + ':' + pad(m % 60);
