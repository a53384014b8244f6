// The live connection. It keeps the position of the last event it applied
// (in memory and sessionStorage, so a reload resumes too), reconnects with
// back-off and asks the server for everything after that position, so a
// dropped network costs no message. Events at or below the position are
// dropped: a replay overlapping what we already have doubles nothing.
import { Emitter } from './emitter.js';

const POS_KEY = 'rounds.ws.pos';

export class Socket extends Emitter {
  constructor(path) {
    super();
    this.path = path;
    this.ws = null;
    this.state = 'closed';
    this.attempt = 0;
    this.timer = null;
    this.stopped = true;
    this.pos = Number(sessionStorage.getItem(POS_KEY) || 0) || 0;
    this.requests = new Map(); // req_id → {resolve, reject, timer}
    this.reqSeq = 0;
    this.onOnline = () => this.reconnectNow();
    // When the OS says the network is gone, drop the socket at once rather
    // than wait for a close handshake that cannot complete.
    this.onOffline = () => this.drop();
  }

  start() {
    this.stopped = false;
    window.addEventListener('online', this.onOnline);
    window.addEventListener('offline', this.onOffline);
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    window.removeEventListener('online', this.onOnline);
    window.removeEventListener('offline', this.onOffline);
    if (this.ws) this.ws.close(1000);
    this.ws = null;
    this.setState('closed');
  }

  setState(s) {
    if (this.state === s) return;
    this.state = s;
    this.emit('state', s);
  }

  /**
   * A connection can die without a close (a laptop lid, a Wi-Fi hand-over):
   * ping every 20 s and drop the socket when no pong comes within 10 s, so
   * the reconnect and replay start promptly.
   */
  startHeartbeat(ws) {
    clearInterval(this.beat);
    this.beat = setInterval(() => {
      if (this.ws !== ws) { clearInterval(this.beat); return; }
      let answered = false;
      const off = this.on('pong', () => { answered = true; off(); });
      try { ws.send(JSON.stringify({ type: 'ping', req_id: 'hb' })); } catch { /* handled below */ }
      setTimeout(() => { off(); if (!answered && this.ws === ws) this.drop(); }, 10000);
    }, 20000);
  }

  drop() {
    const ws = this.ws;
    if (!ws) return;
    this.ws = null;
    try { ws.close(); } catch { /* already closing */ }
    for (const p of this.requests.values()) { clearTimeout(p.timer); p.reject({ code: 'network', message: 'closed' }); }
    this.requests.clear();
    if (this.stopped) return;
    this.setState('closed');
    this.scheduleReconnect();
  }

  url() {
    const u = new URL(this.path, location.href);
    u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
    if (this.pos > 0) u.searchParams.set('since', String(this.pos));
    return u.toString();
  }

  connect() {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.setState('connecting');
    let ws;
    try {
      ws = new WebSocket(this.url());
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      if (this.ws !== ws) return;
      this.attempt = 0;
      this.everOpen = true;
      this.setState('open');
      this.startHeartbeat(ws);
      this.emit('open');
    };
    ws.onmessage = (e) => {
      if (this.ws !== ws) return;
      let frame;
      try { frame = JSON.parse(e.data); } catch { return; }
      this.handle(frame);
    };
    ws.onclose = (e) => {
      if (this.ws !== ws) return;
      this.ws = null;
      for (const p of this.requests.values()) { clearTimeout(p.timer); p.reject({ code: 'network', message: 'closed' }); }
      this.requests.clear();
      if (this.stopped) return;
      this.setState('closed');
      // 4003: this person may no longer use chat (they left the
      // organisation); the API calls will say so and send them to sign-in.
      if (e.code === 4003) { this.emit('unauthenticated'); return; }
      this.scheduleReconnect();
    };
    ws.onerror = () => { /* onclose follows */ };
  }

  handle(frame) {
    switch (frame.type) {
      case 'event': {
        // {type:"event", pos, event, conversation_id, data, at} (im/ws/PROTOCOL.md)
        const pos = Number(frame.pos) || 0;
        if (pos && pos <= this.pos) return; // already applied
        if (pos) this.setPos(pos);
        this.emit('event', { pos, type: frame.event, conversation_id: frame.conversation_id, data: frame.data || {}, at: frame.at });
        return;
      }
      case 'ready':
        // Replay is done; from here on events are live. pos is the head.
        if (Number(frame.pos) > this.pos) this.setPos(Number(frame.pos));
        this.emit('ready', frame);
        return;
      case 'resync':
        // The server cannot replay from our position (the log was pruned
        // past it): forget it and reload what is shown.
        this.setPos(0);
        this.emit('resync', frame);
        return;
      case 'reply': {
        const p = this.requests.get(frame.req_id);
        if (!p) return;
        this.requests.delete(frame.req_id);
        clearTimeout(p.timer);
        if (frame.ok) p.resolve(frame.data);
        else p.reject(frame.error || { code: 'internal', message: 'error' });
        return;
      }
      default:
        // typing, presence, error, pong
        this.emit(frame.type, frame);
    }
  }

  /** A request over the socket ({type, ...fields}); resolves with the reply's data. */
  request(type, fields = {}, timeoutMs = 10000) {
    return new Promise((resolve, reject) => {
      if (!this.ws || this.state !== 'open') { reject({ code: 'network', message: 'offline' }); return; }
      const reqId = String(++this.reqSeq);
      const timer = setTimeout(() => { this.requests.delete(reqId); reject({ code: 'network', message: 'timeout' }); }, timeoutMs);
      this.requests.set(reqId, { resolve, reject, timer });
      try {
        this.ws.send(JSON.stringify({ type, req_id: reqId, ...fields }));
      } catch (e) {
        clearTimeout(timer);
        this.requests.delete(reqId);
        reject({ code: 'network', message: String(e) });
      }
    });
  }

  setPos(p) {
    this.pos = p;
    try { sessionStorage.setItem(POS_KEY, String(p)); } catch { /* ignore */ }
  }

  scheduleReconnect() {
    if (this.stopped) return;
    clearTimeout(this.timer);
    const base = Math.min(15000, 500 * 2 ** this.attempt);
    this.attempt++;
    const delay = base / 2 + Math.random() * base / 2;
    this.timer = setTimeout(() => this.connect(), delay);
  }

  reconnectNow() {
    if (this.stopped || this.state === 'open' || this.state === 'connecting') return;
    this.attempt = 0;
    this.connect();
  }

  /** Fire-and-forget request (typing): dropped when not connected. */
  send(type, fields) {
    this.request(type, fields).catch(() => {});
  }
}
