// The chat API in one place: every route the chat screens use, so the
// client follows the server's shapes from a single file.
import { get, post, patch, qs, api, ApiError } from './api.js';
import { session } from './session.js';

const enc = encodeURIComponent;
const C = '/api/v1/im/conversations/';
const M = '/api/v1/im/messages/';

/**
 * Operations go over the WebSocket when it is open (one round trip on a
 * connection that is already there) and over HTTP otherwise; both reach the
 * same service, and sends carry a client_msg_id so trying both never doubles.
 */
async function viaSocket(type, fields, httpFallback) {
  const sock = session.socket;
  if (sock && sock.state === 'open') {
    try {
      return await sock.request(type, fields);
    } catch (e) {
      if (e && e.code && e.code !== 'network') throw new ApiError(0, e.code, e.message, e.details);
      // The socket dropped mid-request: fall through to HTTP.
    }
  }
  return httpFallback();
}

const items = (r) => (Array.isArray(r) ? r : (r && (r.items || r.conversations || r.messages || r.members)) || []);

export const im = {
  async conversations() { return items(await get('/api/v1/im/conversations')); },
  conversation(id) { return get(C + enc(id)); },
  async history(id, { before, after, limit = 30 } = {}) {
    return items(await get(C + enc(id) + '/messages' + qs({ before, after, limit })));
  },
  async members(id) {
    const out = [];
    let cursor = '';
    for (let i = 0; i < 50; i++) {
      const r = await get(C + enc(id) + '/members' + qs({ cursor, limit: 200 }));
      out.push(...items(r));
      cursor = r && r.next_cursor;
      if (!cursor) break;
    }
    return out;
  },
  /** The hospital's installed apps' bots a group's owner and admins may add: [{user_id, app_id, name, member}]. */
  async groupBots(id) { return items(await get(C + enc(id) + '/bots')); },
  /** Add people, or installed apps' bots, to a group (owner and admins). */
  addMembers(id, userIds) { return post(C + enc(id) + '/members', { user_ids: userIds }); },
  /** Take someone, or a bot, out of a group (owner and admins). */
  removeMember(id, userId) { return api('DELETE', C + enc(id) + '/members/' + enc(userId)); },
  send(id, body) {
    return viaSocket('send', { conversation_id: id, ...body }, () => post(C + enc(id) + '/messages', body));
  },
  edit(msgId, text) {
    return viaSocket('edit', { message_id: msgId, text }, () => patch(M + enc(msgId), { text }));
  },
  recall(msgId) {
    return viaSocket('recall', { message_id: msgId }, () => post(M + enc(msgId) + '/recall', {}));
  },
  react(msgId, emoji, add) {
    const body = add ? { emoji } : { emoji, remove: true };
    return viaSocket('react', { message_id: msgId, ...body }, () => post(M + enc(msgId) + '/reactions', body));
  },
  read(convId, seq) {
    return viaSocket('read', { conversation_id: convId, seq }, () => post(C + enc(convId) + '/read', { seq }));
  },
  typing(convId) { if (session.socket) session.socket.send('typing', { conversation_id: convId }); },
  receipt(msgId) { return get(M + enc(msgId) + '/receipt'); },
  /** Acknowledge an urgent message addressed to me (DING). */
  ack(msgId) { return viaSocket('ack_ding', { message_id: msgId }, () => post(M + enc(msgId) + '/ding/ack', {})); },
  /** Who has acknowledged an urgent message: {recipients: [{user_id, acked_at}], …}. */
  ding(msgId) { return get(M + enc(msgId) + '/ding'); },
  /** Messages matching q in my conversations: {total, messages}. */
  search(q) { return get('/api/v1/im/search' + qs({ q, limit: 20 })); },
  direct(userId) { return post('/api/v1/im/conversations', { kind: 'direct', user_id: userId }); },
  /**
   * Upload a file to a conversation (multipart, one part named "file"); the
   * answer is the file record: {id, name, content_type (sniffed by the
   * server from the bytes), size, has_thumb, …}. A message then carries it
   * by file_id.
   */
  upload(convId, file) {
    const fd = new FormData();
    fd.append('file', file, file.name);
    return api('POST', C + enc(convId) + '/files', fd);
  },
  /** The bytes of a file (members of its conversation only); thumb: the image's small JPEG. */
  fileURL(fileId, { thumb = false } = {}) { return '/api/v1/im/files/' + enc(fileId) + (thumb ? '?thumb=1' : ''); },
  /** The route the upload uses, to ask the server whether it serves it. */
  uploadRoute: ['POST', '/api/v1/im/conversations/{id}/files'],
};
