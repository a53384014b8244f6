// Talking to the Rounds API: JSON in and out, the CSRF token on every unsafe
// method, and errors as ApiError carrying the server's stable code.
import { t, has } from './i18n.js';

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details || {};
  }
  /** The message to show: a translation of the code when we have one, else the server's words. */
  get display() {
    const field = this.details && this.details.field;
    if (field && has('err.field.' + field)) return t('err.field.' + field);
    if (this.code && has('err.' + this.code)) {
      // invalid carries the server's precise wording of what was wrong.
      if (this.code === 'invalid' && this.message) return this.message;
      return t('err.' + this.code);
    }
    return this.message || t('err.internal');
  }
}

function cookie(name) {
  for (const part of document.cookie.split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return decodeURIComponent(v.join('='));
  }
  return '';
}

let onUnauthenticated = () => {};
/** Called when any request answers 401 (session ended elsewhere). */
export function setUnauthenticatedHandler(fn) { onUnauthenticated = fn; }

export async function api(method, path, body, opts = {}) {
  const headers = { Accept: 'application/json' };
  if (method !== 'GET' && method !== 'HEAD') {
    const csrf = cookie('rounds_csrf');
    if (csrf) headers['X-CSRF-Token'] = csrf;
  }
  let payload;
  if (body instanceof Blob || body instanceof FormData) {
    payload = body;
  } else if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, { method, headers, body: payload, credentials: 'same-origin', signal: opts.signal });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, 'network', t('err.network'));
  }
  if (res.status === 204) return null;
  let data = null;
  const text = await res.text();
  if (text) {
    try { data = JSON.parse(text); } catch { data = null; }
  }
  if (!res.ok) {
    const err = new ApiError(res.status, data && data.code, (data && data.message) || res.statusText, data && data.details);
    if (res.status === 401 && !opts.quiet401) onUnauthenticated(err);
    throw err;
  }
  return data;
}

export const get = (p, o) => api('GET', p, undefined, o);
export const post = (p, b, o) => api('POST', p, b === undefined ? {} : b, o);
export const put = (p, b, o) => api('PUT', p, b, o);
export const patch = (p, b, o) => api('PATCH', p, b, o);
export const del = (p, o) => api('DELETE', p, undefined, o);

/** A query string from an object, skipping empty values. */
export function qs(params) {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') u.set(k, v);
  const s = u.toString();
  return s ? '?' + s : '';
}
