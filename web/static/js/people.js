// Names and cards of people, by user id, fetched from the directory once and
// kept for the session. Views render an id at once and update when the name
// arrives.
import { get, post } from './api.js';
import { Emitter } from './emitter.js';

class People extends Emitter {
  constructor() {
    super();
    this.cache = new Map();
    this.waiting = new Set();
    this.timer = null;
  }
  remember(id, info) {
    const prev = this.cache.get(id) || {};
    this.cache.set(id, { ...prev, ...info, id });
  }
  /** The cached person (maybe only {id}); schedules a fetch when unknown. */
  get(id) {
    const p = this.cache.get(id);
    if (p && p.name) return p;
    if (id && !this.waiting.has(id)) {
      this.waiting.add(id);
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.flush(), 20);
    }
    return p || { id, name: '' };
  }
  name(id, fallback = '…') { return this.get(id).name || fallback; }

  async flush() {
    const ids = [...this.waiting];
    this.waiting.clear();
    // One request per 200 ids names everyone the directory lets me see: my
    // hospital and what group partners share (POST /api/v1/directory/people).
    const missing = new Set(ids);
    for (let i = 0; i < ids.length; i += BATCH) {
      try {
        const r = await post('/api/v1/directory/people', { ids: ids.slice(i, i + BATCH) });
        for (const p of r.items || []) {
          this.remember(p.id, fromName(p));
          missing.delete(p.id);
        }
      } catch { /* each id falls back below */ }
    }
    await Promise.all([...missing].map(async (id) => {
      // Not in any directory I see: a bot (审批助手, an app) or someone no
      // longer visible; its account may still say who it is.
      try {
        const u = await get('/api/v1/users/' + encodeURIComponent(id));
        this.remember(id, { id, name: u.display_name || u.login, bot: u.kind === 'bot', missing: true });
      } catch {
        this.remember(id, { name: this.cache.get(id)?.name || id.slice(-6), missing: true });
      }
    }));
    this.emit('change', ids);
  }
}

const BATCH = 200; // orgchart.MaxPeopleBatch

/** A person as the batch lookup names them (orgchart.PersonName). */
export function fromName(p) {
  return {
    id: p.id, name: p.name, position: p.position, title: p.title, status: p.status, org_id: p.org_id,
    org_name: p.org_name, primary_department_id: p.primary_department_id, primary_department: p.primary_department,
  };
}

export function fromStaff(s) {
  return {
    id: s.id, name: s.name, position: s.position, title: s.title, phone: s.phone, email: s.email,
    employee_no: s.employee_no, status: s.status, department_ids: s.department_ids,
    primary_department_id: s.primary_department_id, org_id: s.org_id,
  };
}

export const people = new People();
