// The signed-in person and their live connection, shared by every view.
import { Emitter } from './emitter.js';

class Session extends Emitter {
  constructor() {
    super();
    this.user = null;
    this.socket = null;
    // "METHOD /path" of every API route the server serves (from its OpenAPI
    // document), so features whose server side is not there stay hidden
    // rather than fail. null: unknown, show everything.
    this.routes = null;
  }
  /** Does the server serve this route? (true when unknown) */
  serves(method, path) { return !this.routes || this.routes.has(method + ' ' + path); }
  async loadRoutes() {
    try {
      const res = await fetch('/api/v1/openapi.json', { credentials: 'same-origin' });
      if (!res.ok) return;
      const doc = await res.json();
      const set = new Set();
      for (const [path, ops] of Object.entries(doc.paths || {})) for (const m of Object.keys(ops)) set.add(m.toUpperCase() + ' ' + path);
      this.routes = set;
    } catch { /* unknown: show everything */ }
  }
  close() {
    if (this.socket) this.socket.stop();
    this.socket = null;
  }
}

export const session = new Session();
