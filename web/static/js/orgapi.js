// The directory API in one place.
import { get, qs } from './api.js';

const enc = encodeURIComponent;
const items = (r) => (Array.isArray(r) ? r : (r && (r.items || r.departments || r.staff || r.results)) || []);

export const org = {
  async departments() { return items(await get('/api/v1/departments')); },
  async staffOf(deptId) { return items(await get('/api/v1/departments/' + enc(deptId) + '/staff' + qs({ limit: 200 }))); },
  async search(q) { return items(await get('/api/v1/directory/search' + qs({ q, limit: 50 }))); },
  person(id) { return get('/api/v1/staff/' + enc(id)); },
};
