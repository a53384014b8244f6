// Chat: the conversation list, the message view and the composer. The
// server is the record; this view keeps what it has shown keyed by message
// id and seq, so replays after a reconnect and the echo of our own sends
// never show a message twice.
import { h, mount, avatar } from '../h.js';
import { t, fmtTime } from '../i18n.js';
import { im } from '../imapi.js';
import { session } from '../session.js';
import { people } from '../people.js';
import { openDialog } from '../dialog.js';
import { uuid, debounce, phone } from '../util.js';
import { org } from '../orgapi.js';
import { icon } from '../icons.js';
import { get, post } from '../api.js';

/** The one-line summary of a card message, for previews. */
/**
 * The types the server shows inline (im.File.IsImage): only these may be sent
 * as an image message; any other upload, BMP included, goes as a file.
 */
const INLINE_IMAGES = new Set(['image/jpeg', 'image/png', 'image/gif', 'image/webp']);

/** 1536 → "1.5 KB": sizes the way people read them. */
function fmtSize(n) {
  if (!(n >= 0)) return '';
  if (n < 1024) return n + ' B';
  const units = ['KB', 'MB', 'GB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return (v >= 10 ? Math.round(v) : Math.round(v * 10) / 10) + ' ' + units[i];
}

/**
 * What went wrong with an upload, in the server's own words (it names the
 * refused type or the limit), with the limit spelled out when it sent one.
 */
function uploadError(e) {
  if (!e || !e.code || e.code === 'network' || !e.message) return (e && e.display) || String(e);
  // too_large carries the per-file limit or, for a used-up quota, the quota.
  const d = e.details || {};
  const n = d.limit !== undefined ? d.limit : d.quota;
  return e.code === 'too_large' && n !== undefined ? e.message + ' (' + fmtSize(Number(n)) + ')' : e.message;
}

function cardSummary(m) {
  try { return JSON.parse(m.text || '{}').summary || t('chat.card.approval'); } catch { return t('chat.card.approval'); }
}

// Slash commands: apps declare them ("/it 打印机卡纸"); a draft that starts
// with one runs it in its app instead of being sent, and the app's reply is
// shown to the sender alone.
const COMMANDS_ROUTE = ['GET', '/api/v1/plugins/commands'];
const RUN_ROUTE = '/api/v1/plugins/commands/run';
const COMMANDS_FRESH = 60000; // the list is asked for again after a minute
/** "/it 打印机卡纸" → {name: 'it', args: '打印机卡纸'}; null when the draft is no command. */
function parseCommand(text) {
  const m = /^\/([a-z][a-z0-9_-]*)(?:\s+([\s\S]*))?$/.exec(text);
  return m ? { name: m[1], args: (m[2] || '').trim() } : null;
}
const PERSON_ID = /@([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})/g;

/** The slash-command styles, beside this view (a stylesheet of its own, loaded once). */
function commandStyles() {
  if (document.querySelector('link[data-styles=commands]')) return;
  document.head.appendChild(h('link', { rel: 'stylesheet', href: '/commands.css', 'data-styles': 'commands' }));
}

const EMOJI = ['😀', '😄', '😊', '🙂', '😉', '😂', '🤔', '😮', '😢', '😷', '👍', '👌', '🙏', '👏', '💪', '✅', '❌', '❤️', '🌹', '☕', '🎉', '🔥', '⚠️', '🏥'];
const QUICK_REACTIONS = ['👍', '✅', '🙏', '❤️', '😄', '👌'];
const PAGE = 30;
const TYPING_SEND_EVERY = 3000;
const TYPING_SHOW_FOR = 6000;

/** Per-conversation state: messages by id, ordered seqs, pending sends, members' read positions. */
class ConvState {
  constructor(id) {
    this.id = id;
    this.msgs = new Map(); // id → message
    this.order = []; // message ids sorted by seq
    this.pending = new Map(); // client_msg_id → pending send
    this.members = null; // Map user id → member (read_seq, joined_seq)
    this.dings = new Map(); // message id → ding status (null while loading)
    this.notices = []; // slash-command replies shown to me alone, never stored on the server
    this.loadedAll = false;
    this.loading = false;
    this.loaded = false;
  }
  minSeq() { return this.order.length ? this.msgs.get(this.order[0]).seq : 0; }
  maxSeq() { return this.order.length ? this.msgs.get(this.order[this.order.length - 1]).seq : 0; }
  /** Insert or replace; returns 'new', 'updated' or 'same'. */
  put(m) {
    const prev = this.msgs.get(m.id);
    this.msgs.set(m.id, m);
    if (prev) return 'updated';
    // Binary insert by seq: history pages and live events arrive in any order.
    let lo = 0;
    let hi = this.order.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.msgs.get(this.order[mid]).seq < m.seq) lo = mid + 1;
      else hi = mid;
    }
    this.order.splice(lo, 0, m.id);
    return 'new';
  }
}

export class ChatView {
  constructor() {
    this.me = session.user.id;
    this.convs = new Map();
    this.states = new Map();
    this.openId = null;
    this.typing = new Map(); // user id → timeout, for the open conversation
    this.lastTypingSent = 0;
    this.replyTo = null;
    this.editing = null;
    this.urgent = false;
    this.mentions = new Map(); // name → user id, for the draft
    this.filter = '';
    this.msgEls = new Map(); // message id → element, for the open conversation
    this.online = new Map(); // user id → bool, from presence frames
    this.commands = null; // the slash commands I may use ([] when none)
    this.commandsAt = 0;
    this.unsubs = [];
    commandStyles();
    this.build();
    this.subscribe();
    this.loadConversations();
  }

  // ---------- layout ----------

  build() {
    this.searchInput = h('input', {
      type: 'search', class: 'search', placeholder: t('chat.search'), 'aria-label': t('chat.search'),
      oninput: () => { this.filter = this.searchInput.value.trim().toLowerCase(); this.renderList(); this.searchPeople(); },
      onkeydown: (e) => { if (e.key === 'Escape') { this.searchInput.value = ''; this.filter = ''; this.renderList(); this.searchPeople(); } },
    });
    // Colleagues matching the search (name, pinyin initials, employee no.),
    // so a chat with anyone is a few keystrokes away.
    this.peopleHits = h('div', { class: 'people-hits', hidden: true });
    this.messageHits = h('div', { class: 'people-hits message-hits', hidden: true });
    this.searchPeople = debounce(() => this.findPeople(), 250);
    this.listEl = h('ul', { class: 'conv-list', role: 'list', 'aria-label': t('chat.conversations') });
    this.listStatus = h('p', { class: 'muted center', role: 'status' });
    const canNotify = 'Notification' in window && window.isSecureContext;
    this.notifyBtn = h('button', {
      type: 'button', class: 'icon-btn', title: t('chat.notify.enable'), 'aria-label': t('chat.notify.enable'),
      hidden: !canNotify || Notification.permission !== 'default',
      onclick: async () => { await Notification.requestPermission(); this.notifyBtn.hidden = Notification.permission !== 'default'; },
    }, icon('bell'));
    this.listPane = h('aside', { class: 'list-pane', 'aria-label': t('chat.conversations') },
      h('header', { class: 'pane-head' }, h('h1', null, t('nav.chat')), this.notifyBtn),
      h('div', { class: 'pane-search' }, this.searchInput),
      this.listStatus,
      this.listEl,
      this.peopleHits,
      this.messageHits);

    this.titleEl = h('h2', { id: 'conv-title', class: 'conv-title' });
    this.subEl = h('span', { class: 'muted conv-sub' });
    this.historyStatus = h('div', { class: 'history-status muted', role: 'status' });
    this.msgList = h('ol', { class: 'msg-list', 'aria-label': t('chat.messages') });
    this.scrollEl = h('div', {
      class: 'msg-scroll', role: 'log', 'aria-live': 'polite', 'aria-relevant': 'additions', tabindex: '0',
      'aria-labelledby': 'conv-title', onscroll: () => this.onScroll(),
    }, this.historyStatus, this.msgList);
    this.newBelow = h('button', { type: 'button', class: 'new-below', hidden: true, onclick: () => this.scrollToBottom() }, t('chat.newbelow'));
    this.typingEl = h('div', { class: 'typing muted', 'aria-live': 'polite' });
    this.buildComposer();
    this.emptyEl = h('div', { class: 'empty-conv' }, h('div', { class: 'empty-mark' }, icon('chat', 56)), h('p', { class: 'muted' }, t('chat.pick')));
    this.membersBtn = h('button', {
      type: 'button', class: 'icon-btn', hidden: true, 'data-testid': 'group-members',
      title: t('chat.group.members'), 'aria-label': t('chat.group.members'), onclick: () => this.showMembers(),
    }, icon('contacts'));
    this.convEl = h('div', { class: 'conv', hidden: true },
      h('header', { class: 'msg-head' },
        h('a', { href: '#/chat', class: 'back icon-btn', 'aria-label': t('common.back') }, icon('back', 24)),
        h('div', { class: 'msg-head-text' }, this.titleEl, this.subEl),
        this.membersBtn),
      h('div', { class: 'msg-scroll-wrap' }, this.scrollEl, this.newBelow),
      this.typingEl,
      this.composer);
    this.msgPane = h('section', { class: 'msg-pane', 'aria-label': t('chat.messages') }, this.emptyEl, this.convEl);
    this.el = h('div', { class: 'split chat', 'data-pane': 'list' }, this.listPane, this.msgPane);

    // Receipts, names and reactions arrive after the first paint and make
    // messages taller: a reader who was at the newest message stays there.
    this.stuck = true;
    if ('ResizeObserver' in window) {
      new ResizeObserver(() => { if (this.stuck && this.scrollEl.isConnected) this.scrollEl.scrollTop = this.scrollEl.scrollHeight; }).observe(this.msgList);
    }
    document.addEventListener('visibilitychange', () => this.markReadSoon());
    window.addEventListener('focus', () => this.markReadSoon());
    this.markReadSoon = debounce(() => this.markRead(), 250);
  }

  buildComposer() {
    this.input = h('textarea', {
      class: 'composer-input', rows: '1', placeholder: t('chat.placeholder'), 'aria-label': t('chat.placeholder'),
      'data-testid': 'composer',
      onkeydown: (e) => this.onComposerKey(e),
      // A screenshot pasted into the composer is sent like a chosen file.
      onpaste: (e) => {
        const fs = e.clipboardData ? [...e.clipboardData.files] : [];
        if (fs.length && this.canUpload) { e.preventDefault(); this.sendFiles(fs); }
      },
      oninput: () => { this.autoGrow(); this.onDraftInput(); },
    });
    this.replyBar = h('div', { class: 'reply-bar', hidden: true });
    this.mentionBox = h('ul', { class: 'mention-box', role: 'listbox', hidden: true, 'aria-label': t('chat.mention') });
    this.cmdBox = h('ul', { class: 'mention-box cmd-box', role: 'listbox', hidden: true, 'aria-label': t('chat.cmd.list'), 'data-testid': 'cmd-box' });
    this.cmdHint = h('p', { class: 'cmd-hint', hidden: true, 'aria-live': 'polite', 'data-testid': 'cmd-hint' });
    this.emojiBox = h('div', { class: 'emoji-box', hidden: true, role: 'group', 'aria-label': t('chat.emoji') },
      EMOJI.map((e) => h('button', { type: 'button', class: 'emoji', 'aria-label': e, onclick: () => { this.insert(e); this.emojiBox.hidden = true; this.input.focus(); } }, e)));
    // Files and images need the server's upload route; without it the button would only fail.
    this.canUpload = session.serves(...im.uploadRoute);
    this.fileInput = h('input', { type: 'file', multiple: true, hidden: true, tabindex: '-1', 'aria-hidden': 'true', 'data-testid': 'file-input',
      onchange: () => { const fs = [...this.fileInput.files]; this.fileInput.value = ''; this.sendFiles(fs); } });
    this.urgentBtn = h('button', {
      type: 'button', class: 'tool urgent-toggle', 'aria-pressed': 'false', title: t('chat.urgent.toggle'),
      onclick: () => { this.urgent = !this.urgent; this.urgentBtn.setAttribute('aria-pressed', String(this.urgent)); },
    }, icon('urgent'), h('span', { class: 'tool-label' }, t('chat.urgent.toggle')));
    this.sendBtn = h('button', { type: 'submit', class: 'primary send' }, t('chat.send'));
    this.composer = h('form', {
      class: 'composer', 'aria-label': t('chat.composer'),
      onsubmit: (e) => { e.preventDefault(); this.submit(); },
      ondragover: (e) => e.preventDefault(),
      ondrop: (e) => { e.preventDefault(); if (this.canUpload) this.sendFiles([...e.dataTransfer.files]); },
    },
    this.replyBar,
    h('div', { class: 'toolbar' },
      h('button', { type: 'button', class: 'tool', 'aria-label': t('chat.emoji'), title: t('chat.emoji'), 'aria-expanded': 'false',
        onclick: (e) => { this.emojiBox.hidden = !this.emojiBox.hidden; e.currentTarget.setAttribute('aria-expanded', String(!this.emojiBox.hidden)); } }, icon('smile')),
      this.canUpload ? h('button', { type: 'button', class: 'tool', 'data-testid': 'attach', 'aria-label': t('chat.attach'), title: t('chat.attach'), onclick: () => this.fileInput.click() }, icon('attach')) : null,
      this.urgentBtn,
      this.fileInput),
    this.emojiBox,
    this.mentionBox,
    this.cmdBox,
    h('div', { class: 'composer-row' }, this.input, this.sendBtn),
    this.cmdHint,
    h('p', { class: 'hint muted' }, t('chat.hint')));
  }

  show(rest) {
    // Coming back from another tab: the browser forgot the scroll position
    // when the view left the page; put the reader back where they were.
    if (this.savedFromBottom !== undefined) {
      const c = this.openId && this.convs.get(this.openId);
      // …unless messages came meanwhile: then, like any chat app, show the newest.
      if (c && c.unread) this.scrollToBottom();
      else this.scrollEl.scrollTop = this.scrollEl.scrollHeight - this.savedFromBottom;
      this.savedFromBottom = undefined;
    }
    const id = rest[0];
    if (id) this.openConversation(id);
    else this.closeConversation();
  }

  // ---------- conversation list ----------

  async loadConversations() {
    this.listStatus.textContent = this.convs.size ? '' : t('common.loading');
    try {
      const list = await im.conversations();
      this.convs = new Map(list.map((c) => [c.id, c]));
      this.loadedList = true;
      this.renderList();
      this.ensurePeers();
      if (this.openId) this.renderHead();
    } catch (e) {
      this.listStatus.textContent = e.display || String(e);
    }
  }

  /** Direct conversations carry no name: learn the other person from the members. */
  async ensurePeers() {
    const need = [...this.convs.values()].filter((c) => c.kind === 'direct' && !this.directPeer(c)).slice(0, 50);
    for (const c of need) {
      const st = this.state(c.id);
      if (!st.members) await this.loadMembers(st);
    }
  }

  convName(c) {
    if (!c) return '';
    if (c.kind === 'direct') {
      const other = this.directPeer(c);
      if (other) return people.name(other, c.name || '…');
    }
    return c.name || t('chat.unnamed');
  }

  /** The other person of a direct chat, from the members we know or the conversation's fields. */
  directPeer(c) {
    if (c.peer_id) return c.peer_id;
    if (c.other_user_id) return c.other_user_id;
    if (Array.isArray(c.member_ids)) return c.member_ids.find((x) => x !== this.me);
    const st = this.states.get(c.id);
    if (st && st.members) for (const id of st.members.keys()) if (id !== this.me) return id;
    return '';
  }

  preview(c) {
    const m = c.last_message;
    if (!m) return '';
    if (m.recalled_at) return m.sender_id === this.me ? t('chat.recalled.you') : t('chat.recalled.other', { name: people.name(m.sender_id) });
    const body = m.kind === 'image' ? t('chat.kind.image') : m.kind === 'file' ? t('chat.kind.file') : m.kind === 'card' ? cardSummary(m)
      : people.get(m.sender_id).bot ? this.namedText(m.text || '') : m.text;
    const who = c.kind !== 'direct' && m.sender_id !== this.me ? people.name(m.sender_id) + ': ' : '';
    return (m.urgent ? '[' + t('chat.urgent') + '] ' : '') + who + body;
  }

  sortedConvs() {
    return [...this.convs.values()].sort((a, b) => {
      if (!!b.pinned !== !!a.pinned) return b.pinned ? 1 : -1;
      const at = Date.parse(a.last_message_at || a.updated_at || a.created_at || 0) || 0;
      const bt = Date.parse(b.last_message_at || b.updated_at || b.created_at || 0) || 0;
      return bt - at;
    });
  }

  renderList() {
    const items = this.sortedConvs().filter((c) => !this.filter || this.convName(c).toLowerCase().includes(this.filter)
      || (c.last_message && (c.last_message.text || '').toLowerCase().includes(this.filter)));
    if (this.loadedList) this.listStatus.textContent = this.convs.size ? '' : t('chat.none');
    mount(this.listEl, items.map((c) => {
      const name = this.convName(c);
      const unread = c.unread || 0;
      return h('li', null, h('a', {
        href: '#/chat/' + encodeURIComponent(c.id), class: 'conv-item', 'data-conv': c.id,
        'aria-current': c.id === this.openId ? 'true' : null,
        'aria-label': name + (unread ? ' · ' + t('chat.unread.aria', { n: unread }) : ''),
      },
      avatar(c.kind === 'direct' ? this.directPeer(c) || c.id : c.id, name, 40, c.kind !== 'direct'),
      h('span', { class: 'conv-main' },
        h('span', { class: 'conv-line' },
          h('span', { class: 'conv-name' }, name, c.kind === 'department' ? h('span', { class: 'tag' }, t('chat.dept')) : null),
          h('span', { class: 'conv-time muted' }, fmtTime(c.last_message_at || (c.last_message && c.last_message.created_at), false) || '')),
        h('span', { class: 'conv-line' },
          h('span', { class: 'conv-preview muted' }, this.preview(c)),
          unread ? h('span', { class: ['badge', c.muted && 'muted-badge'], 'data-testid': 'unread' }, unread > 99 ? '99+' : String(unread)) : null))));
    }));
    if (this.filter && !items.length) this.listEl.appendChild(h('li', { class: 'muted center' }, t('chat.nomatch')));
    let total = 0;
    for (const c of this.convs.values()) if (!c.muted) total += c.unread || 0;
    session.emit('unread', total);
  }

  async findPeople() {
    const q = this.searchInput.value.trim();
    this.findMessages(q);
    if (!q) { this.peopleHits.hidden = true; return; }
    let hits;
    try { hits = await org.search(q); } catch { this.peopleHits.hidden = true; return; }
    if (this.searchInput.value.trim() !== q) return;
    hits = hits.filter((x) => x.id !== this.me).slice(0, 8);
    this.peopleHits.hidden = !hits.length;
    mount(this.peopleHits, h('h2', { class: 'hits-title' }, t('chat.contacts')),
      h('ul', { class: 'people-list', role: 'list' }, hits.map((p) => h('li', null,
        h('button', {
          type: 'button', class: 'person-row', 'data-person': p.id,
          onclick: async (e) => {
            e.currentTarget.disabled = true;
            try {
              const c = await im.direct(p.id);
              const conv = c.conversation || c;
              this.searchInput.value = ''; this.filter = ''; this.peopleHits.hidden = true;
              location.hash = '#/chat/' + encodeURIComponent(conv.id);
            } catch (err) { this.toast(err.display); e.currentTarget.disabled = false; }
          },
        }, avatar(p.id, p.name, 32),
        h('span', { class: 'conv-main' },
          h('span', { class: 'conv-name' }, p.name),
          h('span', { class: 'muted small-text' }, [p.position, p.primary_department, p.org_id !== org.myOrg() ? p.org_name : ''].filter(Boolean).join(' · '))))))));
  }

  /** Chat history matching the search, from the server's message index. */
  async findMessages(q) {
    if (q.length < 2 || !session.serves('GET', '/api/v1/im/search')) { this.messageHits.hidden = true; return; }
    let r;
    try { r = await im.search(q); } catch { this.messageHits.hidden = true; return; }
    if (this.searchInput.value.trim() !== q) return;
    const msgs = (r && r.messages) || [];
    this.messageHits.hidden = !msgs.length;
    mount(this.messageHits, h('h2', { class: 'hits-title' }, t('chat.history.hits', { n: r.total || msgs.length })),
      h('ul', { class: 'people-list', role: 'list' }, msgs.map((m) => {
        const c = this.convs.get(m.conversation_id);
        return h('li', null, h('a', { class: 'person-row', href: '#/chat/' + encodeURIComponent(m.conversation_id), 'data-message': m.id },
          avatar(m.sender_id, people.name(m.sender_id), 32),
          h('span', { class: 'conv-main' },
            h('span', { class: 'conv-line' }, h('span', { class: 'conv-name' }, c ? this.convName(c) : people.name(m.sender_id)), h('span', { class: 'conv-time muted' }, fmtTime(m.created_at, false))),
            h('span', { class: 'conv-preview muted' }, (c && c.kind !== 'direct' ? people.name(m.sender_id) + ': ' : '') + (m.kind === 'card' ? cardSummary(m) : m.text)))));
      })));
  }

  // ---------- the open conversation ----------

  state(id) {
    if (!this.states.has(id)) this.states.set(id, new ConvState(id));
    return this.states.get(id);
  }

  async openConversation(id) {
    this.el.dataset.pane = 'conv';
    if (this.openId === id) { this.markReadSoon(); return; }
    this.openId = id;
    this.replyTo = null;
    this.editing = null;
    this.renderReplyBar();
    this.clearTyping();
    this.emptyEl.hidden = true;
    this.convEl.hidden = false;
    this.renderList();
    if (!this.convs.has(id)) {
      try { const c = await im.conversation(id); this.convs.set(id, c.conversation || c); this.renderList(); } catch (e) {
        this.historyStatus.textContent = e.display;
      }
    }
    this.renderHead();
    const st = this.state(id);
    mount(this.msgList);
    this.msgEls = new Map();
    if (!st.loaded) {
      await this.loadLatest(st);
    } else {
      this.renderAllMessages(st);
      this.scrollToBottom();
    }
    if (!st.members) this.loadMembers(st);
    if (!phone()) this.input.focus();
    this.markReadSoon();
  }

  closeConversation() {
    this.el.dataset.pane = 'list';
    this.openId = null;
    this.emptyEl.hidden = false;
    this.convEl.hidden = true;
    this.renderList();
  }

  hide() {
    this.savedFromBottom = this.scrollEl.scrollHeight - this.scrollEl.scrollTop;
  }

  renderHead() {
    const c = this.convs.get(this.openId);
    this.titleEl.textContent = this.convName(c) || '…';
    if (c && c.kind === 'direct') {
      const peer = this.directPeer(c);
      // A bot (审批助手, an app) is never online or offline: say what it is.
      const bot = peer && people.get(peer).bot;
      const on = peer && !bot && this.online.get(peer);
      this.subEl.textContent = bot ? t('chat.group.role.bot') : on === undefined ? '' : on ? '● ' + t('chat.online') : t('chat.offline');
      this.subEl.classList.toggle('online', !!on);
      if (peer && !bot && !this.online.has(peer) && session.socket && session.socket.state === 'open') {
        this.online.set(peer, undefined);
        session.socket.request('presence', { user_ids: [peer] }).then((r) => this.onPresence(r && r.online)).catch(() => this.online.delete(peer));
      }
    } else {
      this.subEl.textContent = c && c.member_count ? t('chat.members', { n: c.member_count }) : '';
      this.subEl.classList.remove('online');
    }
    this.membersBtn.hidden = !(c && c.kind === 'group');
    this.composer.hidden = false;
  }

  async loadMembers(st) {
    try {
      const list = await im.members(st.id);
      st.members = new Map(list.map((m) => [m.user_id, m]));
      if (this.membersDialog && this.membersDialog.st === st) this.membersDialog.render();
      // Names for receipts and @mentions, fetched in one go.
      for (const id of [...st.members.keys()].slice(0, 300)) people.get(id);
      if (this.openId === st.id) {
        this.renderHead();
        this.refreshReceipts(st);
        if (document.activeElement === this.input) this.updateMentionBox();
      }
      this.renderList();
    } catch { /* receipts stay hidden */ }
  }

  async loadLatest(st) {
    st.loading = true;
    this.historyStatus.textContent = t('common.loading');
    try {
      const page = await im.history(st.id, { limit: PAGE });
      // Live events that arrived meanwhile are newer than the page's copies.
      for (const m of page) if (!st.msgs.has(m.id)) st.put(m);
      st.loaded = true;
      st.loadedAll = page.length < PAGE;
      if (this.openId === st.id) {
        this.renderAllMessages(st);
        this.scrollToBottom();
      }
    } catch (e) {
      this.historyStatus.textContent = e.display;
      return;
    } finally {
      st.loading = false;
    }
    this.updateHistoryStatus(st);
  }

  async loadOlder() {
    const st = this.states.get(this.openId);
    if (!st || st.loading || st.loadedAll || !st.loaded) return;
    st.loading = true;
    this.historyStatus.textContent = t('common.loading');
    const before = st.minSeq();
    try {
      const page = await im.history(st.id, { before, limit: PAGE });
      st.loadedAll = page.length < PAGE;
      if (this.openId !== st.id) { for (const m of page) st.put(m); return; }
      // Keep the reader's place: measure from the bottom before and after.
      const fromBottom = this.scrollEl.scrollHeight - this.scrollEl.scrollTop;
      for (const m of page) if (st.put(m) === 'new') this.placeMessage(st, m);
      this.scrollEl.scrollTop = this.scrollEl.scrollHeight - fromBottom;
    } catch (e) {
      this.historyStatus.textContent = e.display;
      return;
    } finally {
      st.loading = false;
    }
    this.updateHistoryStatus(st);
  }

  updateHistoryStatus(st) {
    if (this.openId !== st.id) return;
    this.historyStatus.textContent = st.loadedAll ? (st.order.length ? t('chat.start') : t('chat.empty')) : '';
  }

  onScroll() {
    if (this.scrollEl.isConnected && this.scrollEl.clientHeight) this.stuck = this.nearBottom();
    if (this.scrollEl.scrollTop < 120) this.loadOlder();
    if (this.nearBottom()) { this.newBelow.hidden = true; this.markReadSoon(); }
  }

  /** Is the reader looking at the newest messages? Never while the chat is not on screen. */
  nearBottom() {
    if (!this.scrollEl.isConnected || this.convEl.hidden) return false;
    return this.scrollEl.scrollHeight - this.scrollEl.scrollTop - this.scrollEl.clientHeight < 80;
  }

  scrollToBottom() {
    this.stuck = true;
    this.scrollEl.scrollTop = this.scrollEl.scrollHeight;
    this.newBelow.hidden = true;
    this.markReadSoon();
  }

  renderAllMessages(st) {
    this.msgEls = new Map();
    // A command's reply sits after the messages there were when it was run.
    const els = [];
    let ni = 0;
    for (const id of st.order) {
      const m = st.msgs.get(id);
      while (ni < st.notices.length && st.notices[ni].afterSeq < m.seq) els.push(this.noticeEl(st, st.notices[ni++]));
      els.push(this.messageEl(st, m));
    }
    while (ni < st.notices.length) els.push(this.noticeEl(st, st.notices[ni++]));
    mount(this.msgList, els);
    for (const p of st.pending.values()) this.msgList.appendChild(this.pendingEl(st, p));
    this.updateHistoryStatus(st);
  }

  /** Put a new message element in seq order among those shown. */
  placeMessage(st, m) {
    const el = this.messageEl(st, m);
    const idx = st.order.indexOf(m.id);
    const nextId = st.order[idx + 1];
    const next = nextId && this.msgEls.get(nextId);
    if (next) this.msgList.insertBefore(el, next);
    else {
      const firstPending = this.msgList.querySelector('.msg.pending');
      if (firstPending) this.msgList.insertBefore(el, firstPending);
      else this.msgList.appendChild(el);
    }
  }

  rerender(st, m) {
    const old = this.msgEls.get(m.id);
    if (!old) return;
    const atBottom = this.nearBottom();
    const el = this.messageEl(st, m);
    old.replaceWith(el);
    // A reaction or edit on the last message must not push it out of view.
    if (atBottom) this.scrollEl.scrollTop = this.scrollEl.scrollHeight;
  }

  // ---------- one message ----------

  messageEl(st, m) {
    const mine = m.sender_id === this.me;
    const name = mine ? (session.user.display_name || session.user.login) : people.name(m.sender_id);
    const c = this.convs.get(st.id);
    let body;
    if (m.recalled_at) {
      body = h('div', { class: 'recalled muted' }, mine ? t('chat.recalled.you') : t('chat.recalled.other', { name }));
    } else {
      body = h('div', { class: 'bubble' },
        m.reply_quote || m.reply_to_id ? h('blockquote', { class: 'quote' }, m.reply_quote || t('chat.quote.gone')) : null,
        this.content(m));
    }
    const el = h('li', {
      class: ['msg', mine && 'mine', m.urgent && 'urgent', m.recalled_at && 'is-recalled'],
      id: 'msg-' + m.id, 'data-seq': m.seq, 'data-id': m.id,
    },
    mine ? null : avatar(m.sender_id, name, 36),
    h('div', { class: 'msg-body' },
      h('div', { class: 'msg-meta' },
        mine || (c && c.kind === 'direct') ? null : h('span', { class: 'msg-name' }, name),
        h('time', { class: 'muted', datetime: m.created_at }, fmtTime(m.created_at)),
        m.edited_at && !m.recalled_at ? h('span', { class: 'muted' }, t('chat.edited')) : null,
        m.urgent ? h('span', { class: 'ding' }, t('chat.urgent')) : null),
      h('div', { class: 'msg-row' },
        body,
        m.recalled_at ? null : h('button', {
          type: 'button', class: 'msg-more icon-btn', 'aria-label': t('chat.actions'), 'aria-haspopup': 'menu',
          onclick: (e) => this.openMenu(e.currentTarget, st, m),
        }, icon('more', 18))),
      m.recalled_at ? null : this.reactionsEl(m),
      h('div', { class: 'msg-foot' }, this.receiptEl(st, m), this.urgentEl(st, m))));
    this.msgEls.set(m.id, el);
    return el;
  }

  /**
   * A card from the approvals assistant: the message names the request; the
   * live card (status, step, the reader's own actions) comes from the server.
   */
  cardEl(m) {
    let ref = {};
    try { ref = JSON.parse(m.text || '{}'); } catch { ref = {}; }
    const box = h('div', { class: 'msg-card', role: 'group', 'aria-label': t('chat.card.approval') });
    const title = h('div', { class: 'msg-card-title' }, ref.summary || t('chat.card.approval'));
    const meta = h('div', { class: 'msg-card-meta muted' });
    const actions = h('div', { class: 'msg-card-actions' });
    mount(box, title, meta, actions);
    if (ref.type !== 'approval' || !ref.request_id) return box;
    const open = () => { location.hash = '#/approvals/r/' + encodeURIComponent(ref.request_id); };
    const load = async () => {
      let card;
      try { card = await get('/api/v1/approvals/requests/' + encodeURIComponent(ref.request_id) + '/card'); } catch { mount(meta, t('chat.card.unavailable')); return; }
      mount(meta, card.title || '', ' · ', t('ap.status.' + card.status), card.step ? ' · ' + card.step : '');
      const btns = [];
      for (const a of card.actions || []) {
        if (a.action === 'approve') {
          btns.push(h('button', { class: 'primary small', type: 'button', onclick: async (ev) => {
            ev.currentTarget.disabled = true;
            try {
              // One action id per card and button: a double tap acts once.
              await post('/api/v1/approvals/requests/' + encodeURIComponent(ref.request_id) + '/approve', { action_id: 'card:' + m.id + ':approve' });
            } catch (e) { mount(meta, e.message || String(e)); }
            load();
          } }, t('ap.approve')));
        } else if (a.action === 'reject') {
          btns.push(h('button', { class: 'small', type: 'button', onclick: open }, t('ap.reject')));
        }
      }
      btns.push(h('button', { class: 'small', type: 'button', onclick: open }, t('chat.card.open')));
      mount(actions, ...btns);
    };
    load();
    return box;
  }

  /**
   * An image message: the server's thumbnail, a link to the full image that
   * opens it in a viewer (a modifier-click still opens it in a tab). Images
   * without a thumbnail (WebP, or one too odd to decode) show the full image
   * scaled down instead.
   */
  imageEl(m) {
    const name = m.text || t('chat.kind.image');
    const full = im.fileURL(m.file_id);
    const img = h('img', { src: im.fileURL(m.file_id, { thumb: true }), alt: name, loading: 'lazy', class: 'msg-image', 'data-testid': 'image-thumb' });
    img.addEventListener('error', () => { if (img.getAttribute('src') !== full) img.src = full; }, { once: true });
    return h('a', {
      href: full, target: '_blank', rel: 'noopener', class: 'image-link', 'data-testid': 'image-link',
      'aria-label': t('chat.image.open', { name }),
      onclick: (e) => {
        if (e.button !== 0 || e.ctrlKey || e.metaKey || e.shiftKey || e.altKey) return;
        e.preventDefault();
        this.openImage(m);
      },
    }, img);
  }

  /** The full image in a dialog (Esc or the close button returns to the chat), with its download. */
  openImage(m) {
    const name = m.text || t('chat.kind.image');
    const full = im.fileURL(m.file_id);
    openDialog(name, h('figure', { class: 'image-viewer' },
      h('img', { src: full, alt: name, class: 'image-full', 'data-testid': 'image-full' }),
      h('figcaption', {},
        h('a', { href: full, download: name, class: 'file-link', 'data-testid': 'image-download' }, icon('file', 18), h('span', {}, t('chat.file.save'))))),
    { wide: true });
  }

  /** Text with mentions highlighted, built from text nodes only. */
  content(m) {
    if (m.kind === 'card') return this.cardEl(m);
    if (m.kind === 'image' && m.file_id) return this.imageEl(m);
    if (m.kind === 'file' && m.file_id) {
      return h('a', { href: im.fileURL(m.file_id), class: 'file-link', 'data-testid': 'file-link', download: m.text || true,
        'aria-label': t('chat.file.download', { name: m.text || t('chat.kind.file') }) }, icon('file', 18), h('span', {}, m.text || t('chat.kind.file')));
    }
    // Apps name people by id ("@<id>", the SDK has no mentions): show names.
    const text = people.get(m.sender_id).bot ? this.namedText(m.text || '') : m.text || '';
    const names = [];
    for (const id of m.mentions || []) {
      const n = id === this.me ? (session.user.display_name || session.user.login) : people.name(id, '');
      if (n) names.push(n);
    }
    if (m.mention_all) names.push(t('chat.mention.all'));
    const out = h('div', { class: 'text' });
    if (!names.length) { out.textContent = text; return out; }
    const esc = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const re = new RegExp('@(' + names.map(esc).join('|') + ')', 'g');
    let last = 0;
    for (const match of text.matchAll(re)) {
      out.append(text.slice(last, match.index));
      const isMe = match[1] === (session.user.display_name || session.user.login) || match[1] === t('chat.mention.all');
      out.append(h('span', { class: ['mention', isMe && 'mention-me'] }, match[0]));
      last = match.index + match[0].length;
    }
    out.append(text.slice(last));
    return out;
  }

  reactionsEl(m) {
    if (!m.reactions || !m.reactions.length) return null;
    return h('div', { class: 'reactions' }, m.reactions.filter((r) => r.user_ids && r.user_ids.length).map((r) => {
      const mine = r.user_ids.includes(this.me);
      const who = r.user_ids.map((id) => (id === this.me ? t('chat.you') : people.name(id))).join('、');
      return h('button', {
        type: 'button', class: ['reaction', mine && 'on'], 'aria-pressed': String(mine), title: who,
        'aria-label': t('chat.reaction.aria', { emoji: r.emoji, n: r.user_ids.length, who }),
        onclick: () => this.react(m, r.emoji, !mine),
      }, r.emoji, ' ', String(r.user_ids.length));
    }));
  }

  /** "3 人未读" under my own messages, from the members' read positions. */
  readers(st, m) {
    if (!st.members) return null;
    const read = [];
    const unread = [];
    for (const mem of st.members.values()) {
      if (mem.user_id === m.sender_id || mem.role === 'bot') continue; // a bot reads nothing
      if ((mem.joined_seq || 0) >= m.seq) continue;
      if ((mem.read_seq || 0) >= m.seq) read.push(mem.user_id); else unread.push(mem.user_id);
    }
    return { read, unread };
  }

  receiptEl(st, m) {
    const c = this.convs.get(st.id);
    if (m.sender_id !== this.me || m.recalled_at || (c && c.receipts_off)) return null;
    const r = this.readers(st, m);
    if (!r || r.read.length + r.unread.length === 0) return null; // nobody to read it (a chat with a bot)
    const label = r.unread.length === 0 ? t('chat.read.all') : c && c.kind === 'direct' ? t('chat.read.none1') : t('chat.unread.n', { n: r.unread.length });
    return h('button', {
      type: 'button', class: ['receipt', r.unread.length === 0 && 'all-read'], 'data-testid': 'receipt',
      'aria-label': label + ' · ' + t('chat.receipts.open'),
      onclick: () => this.showReceipts(st, m),
    }, label);
  }

  refreshReceipts(st) {
    if (this.openId !== st.id) return;
    for (const id of st.order) {
      const m = st.msgs.get(id);
      if (m.sender_id !== this.me) continue;
      const el = this.msgEls.get(id);
      if (!el) continue;
      const foot = el.querySelector('.msg-foot');
      const old = foot.querySelector('.receipt');
      const neu = this.receiptEl(st, m);
      if (old && neu) old.replaceWith(neu);
      else if (neu) foot.prepend(neu);
      else if (old) old.remove();
    }
    if (this.receiptDialog && this.receiptDialog.st === st) this.receiptDialog.render();
  }

  showReceipts(st, m) {
    const body = h('div', { class: 'receipt-cols' });
    const render = () => {
      const r = this.readers(st, m) || { read: [], unread: [] };
      const col = (title, ids) => h('section', { class: 'receipt-col' },
        h('h3', null, title, ' ', h('span', { class: 'count' }, String(ids.length))),
        h('ul', { class: 'people' }, ids.map((id) => h('li', null, avatar(id, people.name(id), 28), h('span', null, people.name(id))))));
      mount(body, col(t('chat.receipts.unread'), r.unread), col(t('chat.receipts.read'), r.read));
    };
    render();
    this.receiptDialog = { st, render };
    openDialog(t('chat.receipts.title'), body, { onClose: () => { this.receiptDialog = null; } });
  }

  /**
   * A group's members, its apps' bots marked as such. The owner and admins
   * also see the bots of the apps the hospital installed and add or remove
   * them like members; the list follows members.added/removed live.
   */
  showMembers() {
    const id = this.openId;
    const st = this.states.get(id);
    if (!st) return;
    const body = h('div', { class: 'receipt-cols group-members', 'data-testid': 'members-dialog' });
    const status = h('p', { class: 'muted', role: 'status' });
    const roleLabel = (r) => (r === 'owner' || r === 'admin' || r === 'bot' ? t('chat.group.role.' + r) : '');
    let renders = 0;
    const render = async () => {
      const n = ++renders;
      const list = st.members ? [...st.members.values()] : [];
      const mine = st.members && st.members.get(this.me);
      const manager = !!mine && (mine.role === 'owner' || mine.role === 'admin');
      let bots = null;
      if (manager) {
        try { bots = await im.groupBots(id); } catch (e) { status.textContent = e.display || String(e); }
      }
      const who = (uid, extra) => [avatar(uid, people.name(uid), 28), h('span', null, people.name(uid)), extra];
      const toggle = (uid, name, member) => async (e) => {
        e.currentTarget.disabled = true;
        status.textContent = '';
        try {
          if (member) await im.removeMember(id, uid); else await im.addMembers(id, [uid]);
          await this.loadMembers(st);
          status.textContent = t(member ? 'chat.group.bot.removed' : 'chat.group.bot.added', { name });
        } catch (err) {
          status.textContent = err.display || String(err);
        }
        render();
      };
      // A bot whose app was disabled or removed since is no longer offered,
      // but its managers can still take it out.
      const gone = (mem) => manager && bots && mem.role === 'bot' && !bots.some((b) => b.user_id === mem.user_id);
      const cols = [h('section', { class: 'receipt-col' },
        h('h3', null, t('chat.group.members'), ' ', h('span', { class: 'count' }, String(list.length))),
        h('ul', { class: 'people', 'data-testid': 'member-list' }, list.map((mem) => h('li', { 'data-user': mem.user_id, 'data-role': mem.role },
          who(mem.user_id, roleLabel(mem.role) ? h('span', { class: 'muted small-text' }, roleLabel(mem.role)) : null),
          gone(mem) ? h('button', {
            type: 'button', class: 'small', 'aria-label': t('chat.group.bot.remove', { name: people.name(mem.user_id) }),
            onclick: toggle(mem.user_id, people.name(mem.user_id), true),
          }, t('common.remove')) : null))))];
      if (bots) {
        cols.push(h('section', { class: 'receipt-col' },
          h('h3', null, t('chat.group.bots')),
          bots.length ? null : h('p', { class: 'muted small-text' }, t('chat.group.bots.none')),
          h('ul', { class: 'people', 'data-testid': 'bot-list' }, bots.map((b) => h('li', { 'data-app': b.app_id },
            avatar(b.user_id, b.name, 28), h('span', null, b.name),
            h('button', {
              type: 'button', class: ['small', !b.member && 'primary'], 'data-testid': (b.member ? 'bot-remove-' : 'bot-add-') + b.app_id,
              'aria-label': t(b.member ? 'chat.group.bot.remove' : 'chat.group.bot.add', { name: b.name }),
              onclick: toggle(b.user_id, b.name, b.member),
            }, t(b.member ? 'common.remove' : 'chat.group.bot.addshort')))))));
      }
      if (n === renders) mount(body, ...cols); // a newer render (members changed meanwhile) wins
    };
    render();
    this.membersDialog = { st, render };
    openDialog(t('chat.group.title', { name: this.convName(this.convs.get(id)) }), h('div', null, body, status), { onClose: () => { this.membersDialog = null; } });
  }

  /** The urgent-message (DING) line: the recipient's acknowledge button, the sender's tally. */
  urgentEl(st, m) {
    if (!m.urgent || m.recalled_at) return null;
    if (!st.dings.has(m.id)) { this.loadDing(st, m); return null; }
    const d = st.dings.get(m.id);
    if (!d) return null;
    const recips = d.recipients || [];
    if (m.sender_id === this.me) {
      const pending = recips.filter((r) => !r.acked_at).length;
      return h('button', {
        type: 'button', class: ['ack-status', !pending && 'all-acked'], 'data-testid': 'ack-status',
        onclick: () => this.showAcks(st, m),
      }, pending ? t('chat.ack.pending', { n: pending }) : t('chat.ack.all'));
    }
    const mine = recips.find((r) => r.user_id === this.me);
    if (!mine) return null;
    if (mine.acked_at) return h('span', { class: 'acked' }, '✓ ' + t('chat.ack.done'));
    return h('button', {
      type: 'button', class: 'primary small ack', 'data-testid': 'ack',
      onclick: (e) => this.acknowledge(e.currentTarget, m),
    }, t('chat.ack'));
  }

  async loadDing(st, m) {
    st.dings.set(m.id, null);
    try {
      st.dings.set(m.id, await im.ding(m.id));
    } catch {
      st.dings.set(m.id, { recipients: [] }); // not addressed to me
    }
    if (this.openId === st.id && st.msgs.has(m.id)) this.rerender(st, st.msgs.get(m.id));
  }

  async acknowledge(button, m) {
    if (button) button.disabled = true;
    try {
      const rec = await im.ack(m.id);
      const st = this.states.get(m.conversation_id);
      const d = st && st.dings.get(m.id);
      if (d) {
        const r = (d.recipients || []).find((x) => x.user_id === this.me);
        if (r) r.acked_at = (rec && rec.acked_at) || new Date().toISOString();
        if (this.openId === st.id && st.msgs.has(m.id)) this.rerender(st, st.msgs.get(m.id));
      }
      this.dismissDing(m.id);
    } catch (err) {
      if (button) button.disabled = false;
      this.toast(err.display);
    }
  }

  showAcks(st, m) {
    const body = h('div', { class: 'receipt-cols' });
    const render = () => {
      const d = st.dings.get(m.id) || { recipients: [] };
      const recips = d.recipients || [];
      const col = (title, list) => h('section', { class: 'receipt-col' },
        h('h3', null, title, ' ', h('span', { class: 'count' }, String(list.length))),
        h('ul', { class: 'people' }, list.map((r) => h('li', null, avatar(r.user_id, people.name(r.user_id), 28),
          h('span', null, people.name(r.user_id)), r.acked_at ? h('time', { class: 'muted small-text', datetime: r.acked_at }, fmtTime(r.acked_at)) : null))));
      mount(body, col(t('chat.ack.no'), recips.filter((r) => !r.acked_at)), col(t('chat.ack.yes'), recips.filter((r) => r.acked_at)));
    };
    render();
    this.ackDialog = { msgId: m.id, render };
    openDialog(t('chat.ack.title'), body, { onClose: () => { this.ackDialog = null; } });
  }

  /** ding.ack reaches the sender: tick the recipient off, live. */
  onDingAck(d) {
    for (const st of this.states.values()) {
      const ding = st.dings.get(d.message_id);
      if (!ding) continue;
      const r = (ding.recipients || []).find((x) => x.user_id === d.user_id);
      if (r) r.acked_at = d.acked_at;
      if (this.openId === st.id && st.msgs.has(d.message_id)) this.rerender(st, st.msgs.get(d.message_id));
      if (this.ackDialog && this.ackDialog.msgId === d.message_id) this.ackDialog.render();
    }
  }

  /**
   * A DING (or its reminder) for me: a banner that stays until I acknowledge
   * or open it, wherever I am in the app, and a desktop notification.
   */
  onDing(notice, reminder, escalated = false) {
    const m = notice.message;
    if (!m || !m.id) return;
    this.applyMessage(m);
    const st = this.states.get(m.conversation_id);
    if (st) st.dings.delete(m.id); // fetch the fresh status when shown
    this.dismissDing(m.id);
    const c = this.convs.get(m.conversation_id);
    const banner = h('div', { class: 'ding-banner', role: 'alert', 'data-ding': m.id },
      h('span', { class: 'ding' }, t('chat.urgent')),
      h('span', { class: 'ding-text' },
        h('strong', null, people.name(m.sender_id)), reminder ? ' · ' + t('chat.ding.reminder') : '', ': ', m.text || t('chat.kind.' + m.kind)),
      escalated
        ? h('span', { class: 'muted small-text' }, t('chat.ding.escalated', { n: (notice.unacked || []).length }))
        : h('button', { type: 'button', class: 'primary small', 'data-testid': 'ding-ack', onclick: (e) => this.acknowledge(e.currentTarget, m) }, t('chat.ack')),
      h('a', { class: 'button small', href: '#/chat/' + encodeURIComponent(m.conversation_id), onclick: () => { if (escalated) banner.remove(); } }, t('chat.ding.open')));
    let host = document.querySelector('.ding-host');
    if (!host) { host = h('div', { class: 'ding-host' }); document.body.appendChild(host); }
    host.appendChild(banner);
    if ('Notification' in window && Notification.permission === 'granted') {
      try {
        const n = new Notification('[' + t('chat.urgent') + '] ' + (c ? this.convName(c) : people.name(m.sender_id)), { body: m.text || '', tag: 'ding-' + m.id, requireInteraction: true });
        n.onclick = () => { window.focus(); location.hash = '#/chat/' + encodeURIComponent(m.conversation_id); n.close(); };
      } catch { /* ignore */ }
    }
  }

  dismissDing(msgId) {
    for (const el of document.querySelectorAll('.ding-banner')) if (el.dataset.ding === msgId) el.remove();
  }

  // ---------- message actions ----------

  openMenu(anchor, st, m) {
    this.closeMenu();
    const mine = m.sender_id === this.me;
    const item = (label, fn) => h('button', { type: 'button', role: 'menuitem', onclick: () => { this.closeMenu(); fn(); } }, label);
    const menu = h('div', { class: 'menu', role: 'menu', 'aria-label': t('chat.actions') },
      h('div', { class: 'menu-reactions', role: 'group', 'aria-label': t('chat.react') },
        QUICK_REACTIONS.map((e) => h('button', {
          type: 'button', role: 'menuitem', class: 'emoji', 'aria-label': t('chat.react') + ' ' + e,
          onclick: () => { this.closeMenu(); const r = (m.reactions || []).find((x) => x.emoji === e); this.react(m, e, !(r && r.user_ids.includes(this.me))); },
        }, e))),
      item(t('chat.reply'), () => { this.replyTo = m; this.renderReplyBar(); this.input.focus(); }),
      m.kind === 'text' || !m.kind ? item(t('chat.copy'), () => navigator.clipboard && navigator.clipboard.writeText(m.text || '')) : null,
      mine && (m.kind === 'text' || !m.kind) ? item(t('chat.edit'), () => this.startEdit(m)) : null,
      mine ? item(t('chat.recall'), () => this.recall(m)) : null);
    const rect = anchor.getBoundingClientRect();
    document.body.appendChild(menu);
    const mw = menu.offsetWidth;
    const mh = menu.offsetHeight;
    menu.style.left = Math.max(8, Math.min(window.innerWidth - mw - 8, rect.right - mw)) + 'px';
    menu.style.top = (rect.bottom + mh + 8 > window.innerHeight ? Math.max(8, rect.top - mh - 4) : rect.bottom + 4) + 'px';
    const first = menu.querySelector('button');
    if (first) first.focus();
    const onKey = (e) => {
      if (e.key === 'Escape') { this.closeMenu(); anchor.focus(); }
      if (e.key === 'ArrowDown' || e.key === 'ArrowUp' || e.key === 'ArrowRight' || e.key === 'ArrowLeft') {
        const btns = [...menu.querySelectorAll('button')];
        const i = btns.indexOf(document.activeElement);
        const d = e.key === 'ArrowDown' || e.key === 'ArrowRight' ? 1 : -1;
        btns[(i + d + btns.length) % btns.length].focus();
        e.preventDefault();
      }
    };
    const onDoc = (e) => { if (!menu.contains(e.target) && e.target !== anchor) this.closeMenu(); };
    menu.addEventListener('keydown', onKey);
    setTimeout(() => document.addEventListener('mousedown', onDoc), 0);
    this.menu = { el: menu, off: () => document.removeEventListener('mousedown', onDoc) };
  }

  closeMenu() {
    if (!this.menu) return;
    this.menu.off();
    this.menu.el.remove();
    this.menu = null;
  }

  async react(m, emoji, add) {
    try {
      const res = await im.react(m.id, emoji, add);
      if (res && res.id) this.applyMessage(res);
    } catch (e) { this.toast(e.display); }
  }

  async recall(m) {
    if (!confirm(t('chat.recall.confirm'))) return;
    try {
      const res = await im.recall(m.id);
      if (res && res.id) this.applyMessage(res);
    } catch (e) { this.toast(e.display); }
  }

  startEdit(m) {
    this.editing = m;
    this.replyTo = null;
    this.input.value = m.text || '';
    this.renderReplyBar();
    this.autoGrow();
    this.input.focus();
  }

  renderReplyBar() {
    const target = this.editing || this.replyTo;
    this.replyBar.hidden = !target;
    this.sendBtn.textContent = this.editing ? t('chat.save') : t('chat.send');
    if (!target) { this.replyBar.replaceChildren(); return; }
    const label = this.editing ? t('chat.editing') : t('chat.replying', { name: people.name(target.sender_id, '') || t('chat.you') });
    mount(this.replyBar,
      h('span', { class: 'reply-label' }, label),
      h('span', { class: 'reply-text muted' }, (target.text || '').slice(0, 80)),
      h('button', {
        type: 'button', class: 'icon-btn', 'aria-label': t('common.cancel'),
        onclick: () => this.cancelReplyEdit(),
      }, icon('close', 16)));
  }

  cancelReplyEdit() {
    if (this.editing) this.input.value = '';
    this.editing = null;
    this.replyTo = null;
    this.renderReplyBar();
    this.autoGrow();
  }

  // ---------- composing and sending ----------

  onComposerKey(e) {
    if (!this.cmdBox.hidden && this.commandKey(e)) return;
    if (!this.mentionBox.hidden && this.mentionKey(e)) return;
    // Chinese input methods use Enter to commit a candidate: never send then.
    if (e.isComposing || e.keyCode === 229) return;
    if (e.key === 'Enter' && !e.shiftKey && !e.ctrlKey && !e.altKey) {
      e.preventDefault();
      this.submit();
    } else if (e.key === 'Escape') {
      if (!this.emojiBox.hidden) this.emojiBox.hidden = true;
      else if (this.editing || this.replyTo) this.cancelReplyEdit();
    } else if (e.key === 'ArrowUp' && !this.input.value) {
      // Like desktop chat apps: ↑ in an empty box edits my last message.
      const st = this.states.get(this.openId);
      const last = st && [...st.order].reverse().map((id) => st.msgs.get(id)).find((m) => m.sender_id === this.me && !m.recalled_at && (m.kind === 'text' || !m.kind));
      if (last) { e.preventDefault(); this.startEdit(last); }
    }
  }

  autoGrow() {
    this.input.style.height = 'auto';
    this.input.style.height = Math.min(this.input.scrollHeight, 180) + 'px';
  }

  insert(s) {
    const { selectionStart: a, selectionEnd: b, value } = this.input;
    this.input.value = value.slice(0, a) + s + value.slice(b);
    this.input.selectionStart = this.input.selectionEnd = a + s.length;
    this.autoGrow();
  }

  onDraftInput() {
    const now = Date.now();
    if (this.openId && this.input.value && now - this.lastTypingSent > TYPING_SEND_EVERY) {
      this.lastTypingSent = now;
      im.typing(this.openId);
    }
    this.updateMentionBox();
    this.updateCommandBox();
  }

  // @ mentions: a list of the conversation's members filtered by what follows "@".
  updateMentionBox() {
    const st = this.states.get(this.openId);
    const before = this.input.value.slice(0, this.input.selectionStart);
    const match = /@([^\s@]{0,20})$/.exec(before);
    if (!match || !st || !st.members) { this.mentionBox.hidden = true; return; }
    const q = match[1].toLowerCase();
    const c = this.convs.get(this.openId);
    const options = [];
    if (c && c.kind !== 'direct' && (!q || t('chat.mention.all').includes(q) || 'all'.startsWith(q))) options.push({ id: '*', name: t('chat.mention.all') });
    for (const id of st.members.keys()) {
      if (id === this.me) continue;
      const p = people.get(id);
      const name = p.name || '';
      // A member whose name has not arrived yet is offered once it has
      // (the list is redrawn when names arrive), never as a bare id.
      if (!name) continue;
      if (!q || name.toLowerCase().includes(q) || (p.initials || '').startsWith(q)) options.push({ id, name });
      if (options.length >= 8) break;
    }
    if (!options.length) { this.mentionBox.hidden = true; return; }
    this.mentionOptions = options;
    this.mentionIndex = 0;
    this.mentionQuery = match[0];
    this.renderMentionBox();
  }

  renderMentionBox() {
    mount(this.mentionBox, this.mentionOptions.map((o, i) => h('li', {
      role: 'option', 'aria-selected': String(i === this.mentionIndex), class: i === this.mentionIndex ? 'active' : null,
      onmousedown: (e) => { e.preventDefault(); this.pickMention(o); },
    }, o.id === '*' ? null : avatar(o.id, o.name, 24), o.name)));
    this.mentionBox.hidden = false;
  }

  mentionKey(e) {
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      const d = e.key === 'ArrowDown' ? 1 : -1;
      this.mentionIndex = (this.mentionIndex + d + this.mentionOptions.length) % this.mentionOptions.length;
      this.renderMentionBox();
      e.preventDefault();
      return true;
    }
    if ((e.key === 'Enter' || e.key === 'Tab') && !e.isComposing) {
      this.pickMention(this.mentionOptions[this.mentionIndex]);
      e.preventDefault();
      return true;
    }
    if (e.key === 'Escape') { this.mentionBox.hidden = true; e.preventDefault(); return true; }
    return false;
  }

  pickMention(o) {
    const pos = this.input.selectionStart;
    const start = pos - this.mentionQuery.length;
    this.input.value = this.input.value.slice(0, start) + '@' + o.name + ' ' + this.input.value.slice(pos);
    this.input.selectionStart = this.input.selectionEnd = start + o.name.length + 2;
    this.mentions.set(o.name, o.id);
    this.mentionBox.hidden = true;
    this.input.focus();
  }

  // ---------- slash commands ----------

  /** The commands of the apps shown to me, asked for again when a minute old; [] when none or unknown. */
  loadCommands(force = false) {
    if (!session.serves(...COMMANDS_ROUTE)) return Promise.resolve([]);
    if (!force && this.commands && Date.now() - this.commandsAt < COMMANDS_FRESH) return Promise.resolve(this.commands);
    if (!this.commandsLoading) {
      this.commandsLoading = get(COMMANDS_ROUTE[1])
        .then((r) => { this.commands = (r && r.items) || []; this.commandsAt = Date.now(); return this.commands; })
        .catch(() => this.commands || [])
        .finally(() => { this.commandsLoading = null; });
    }
    return this.commandsLoading;
  }

  /** "/" at the start of the draft lists the commands, filtered by what follows it. */
  updateCommandBox() {
    const v = this.input.value;
    const m = /^\/([a-z0-9_-]{0,40})$/i.exec(v);
    const typingName = m && !this.editing && this.input.selectionStart === v.length && this.cmdDismissed !== v;
    if (!typingName) { this.cmdBox.hidden = true; this.updateCommandHint(); return; }
    if (!this.commands || Date.now() - this.commandsAt >= COMMANDS_FRESH) {
      this.loadCommands().then(() => { if (this.input.value === v) this.updateCommandBox(); });
      if (!this.commands) { this.cmdBox.hidden = true; this.updateCommandHint(); return; }
    }
    const q = m[1].toLowerCase();
    const starts = this.commands.filter((c) => c.command.startsWith(q));
    const rest = q ? this.commands.filter((c) => !c.command.startsWith(q) && (c.command.includes(q) || (c.app_name || '').toLowerCase().includes(q))) : [];
    const options = [...starts, ...rest].slice(0, 8);
    if (!options.length) { this.cmdBox.hidden = true; this.updateCommandHint(); return; }
    this.cmdOptions = options;
    this.cmdIndex = 0; // the best match: the first that starts with what was typed
    this.mentionBox.hidden = true;
    this.renderCommandBox();
    this.updateCommandHint();
  }

  renderCommandBox() {
    mount(this.cmdBox, this.cmdOptions.map((c, i) => h('li', {
      role: 'option', id: 'cmd-opt-' + i, 'aria-selected': String(i === this.cmdIndex), class: i === this.cmdIndex ? 'active' : null,
      'data-command': c.command, 'data-app': c.app_id,
      onmousedown: (e) => { e.preventDefault(); this.pickCommand(c); },
    },
    h('span', { class: 'cmd-line' },
      h('strong', { class: 'cmd-name' }, '/' + c.command),
      h('span', { class: 'cmd-app-tag' }, c.app_name || c.app_id)),
    c.description ? h('span', { class: 'cmd-desc muted' }, c.description) : null)));
    this.cmdBox.hidden = false;
    this.input.setAttribute('aria-activedescendant', 'cmd-opt-' + this.cmdIndex);
  }

  commandKey(e) {
    if (e.isComposing || e.keyCode === 229) return false;
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      const d = e.key === 'ArrowDown' ? 1 : -1;
      this.cmdIndex = (this.cmdIndex + d + this.cmdOptions.length) % this.cmdOptions.length;
      this.renderCommandBox();
      e.preventDefault();
      return true;
    }
    if ((e.key === 'Enter' && !e.shiftKey) || e.key === 'Tab') {
      this.pickCommand(this.cmdOptions[this.cmdIndex]);
      e.preventDefault();
      return true;
    }
    if (e.key === 'Escape') {
      this.cmdDismissed = this.input.value;
      this.cmdBox.hidden = true;
      this.input.removeAttribute('aria-activedescendant');
      this.updateCommandHint();
      e.preventDefault();
      return true;
    }
    return false;
  }

  pickCommand(c) {
    this.input.value = '/' + c.command + ' ';
    this.input.selectionStart = this.input.selectionEnd = this.input.value.length;
    this.cmdBox.hidden = true;
    this.input.removeAttribute('aria-activedescendant');
    this.autoGrow();
    this.updateCommandHint();
    this.input.focus();
  }

  /** Under the composer: what Enter will do with a draft that starts with "/". */
  updateCommandHint() {
    const v = this.input.value;
    let text = '';
    let kind = '';
    if (!this.cmdBox.hidden || this.editing || !v.startsWith('/')) {
      text = '';
    } else if (v.startsWith('//')) {
      text = t('chat.cmd.hint.escaped'); kind = 'plain';
    } else {
      if (!this.commands) {
        // Not asked for yet: say nothing until the list is in.
        this.loadCommands().then(() => { if (this.commands && this.input.value === v) this.updateCommandHint(); });
      }
      const p = parseCommand(v.replace(/\s+$/, ''));
      const cmd = p && this.commands && this.commands.find((c) => c.command === p.name);
      if (cmd) {
        text = t('chat.cmd.hint.run', { cmd: '/' + cmd.command, app: cmd.app_name || cmd.app_id });
        if (!p.args && cmd.description) text += ' · ' + cmd.description;
        kind = 'run';
      } else if (this.commands) {
        const name = (/^\/(\S*)/.exec(v) || [])[1] || '';
        if (name) { text = t('chat.cmd.hint.unknown', { cmd: '/' + name }); kind = 'plain'; }
      }
    }
    this.cmdHint.textContent = text;
    this.cmdHint.dataset.kind = kind;
    this.cmdHint.hidden = !text;
  }

  /**
   * Run a command in its app. Nothing is sent to the conversation: the reply
   * (or why there is none) shows here as a notice only I see, until I close
   * it or leave the page.
   */
  async runCommand(convId, cmd, args, typed) {
    const st = this.state(convId);
    const n = { id: uuid(), typed, command: cmd.command, app: cmd.app_name || cmd.app_id, status: 'running', afterSeq: st.maxSeq(), at: new Date().toISOString() };
    st.notices.push(n);
    if (this.openId === convId) { this.msgList.appendChild(this.noticeEl(st, n)); this.scrollToBottom(); }
    try {
      const r = await post(RUN_ROUTE, { conversation_id: convId, command: cmd.command, args });
      n.status = 'ok';
      n.reply = (r && r.reply) || '';
      if (r && r.app_name) n.app = r.app_name;
    } catch (e) {
      n.status = 'error';
      n.error = this.commandError(e, n);
      // The list was out of date (an app was removed or hidden): ask again.
      if (e.details && e.details.reason === 'command_unknown') this.commands = null;
    }
    this.updateNotice(st, n);
  }

  commandError(e, n) {
    const reason = e && e.details && e.details.reason;
    const vars = { cmd: '/' + n.command, app: n.app };
    switch (reason) {
      case 'command_unknown': return t('chat.cmd.err.unknown', vars);
      case 'command_ambiguous': return t('chat.cmd.err.ambiguous', vars);
      case 'app_unavailable': return t('chat.cmd.err.unavailable', vars);
      case 'app_timeout': return t('chat.cmd.err.timeout', vars);
      case 'app_refused': return t('chat.cmd.err.refused', { ...vars, message: e.message || t('err.' + e.code) });
      default: return (e && e.display) || String(e);
    }
  }

  noticeEl(st, n) {
    const body = n.status === 'running'
      ? h('div', { class: 'cmd-running muted', role: 'status' }, t('chat.cmd.running', { app: n.app }))
      : n.status === 'error'
        ? h('div', { class: 'cmd-error', role: 'alert', 'data-testid': 'cmd-error' }, n.error)
        : h('div', { class: 'text cmd-reply', 'data-testid': 'cmd-reply' }, n.reply ? this.namedText(n.reply) : t('chat.cmd.noreply'));
    const el = h('li', { class: ['msg', 'cmd-notice', n.status === 'error' && 'cmd-failed'], 'data-notice': n.id, 'data-status': n.status, 'data-testid': 'cmd-notice' },
      h('div', { class: 'cmd-card', role: 'group', 'aria-label': t('chat.cmd.aria', { app: n.app }) },
        h('div', { class: 'cmd-head' },
          h('span', { class: 'cmd-from' }, icon('apps', 16), h('span', null, n.app)),
          h('span', { class: 'cmd-only', 'data-testid': 'cmd-only' }, t('chat.cmd.only')),
          h('time', { class: 'muted', datetime: n.at }, fmtTime(n.at)),
          h('button', {
            type: 'button', class: 'icon-btn cmd-close', 'aria-label': t('chat.cmd.dismiss'), title: t('chat.cmd.dismiss'),
            onclick: () => { st.notices = st.notices.filter((x) => x !== n); el.remove(); },
          }, icon('close', 14))),
        h('div', { class: 'cmd-typed' }, n.typed),
        body));
    n.el = el;
    return el;
  }

  updateNotice(st, n) {
    if (!n.el || !n.el.isConnected) return;
    const atBottom = this.nearBottom();
    n.el.replaceWith(this.noticeEl(st, n));
    if (atBottom) this.scrollToBottom();
  }

  /** An app names people by id ("@<id>"): show their names. */
  namedText(text) {
    return text.replace(PERSON_ID, (all, id) => '@' + people.name(id));
  }

  async submit() {
    let text = this.input.value.replace(/\s+$/, '');
    if (!text.trim() || !this.openId) return;
    if (!this.editing && text.startsWith('/')) {
      if (text.startsWith('//')) {
        // "//" sends the text as it reads, starting with one "/".
        text = text.slice(1);
      } else {
        const convId = this.openId;
        const p = parseCommand(text);
        const cmd = p && (await this.loadCommands()).find((c) => c.command === p.name);
        // The draft or the conversation changed while the list loaded: Enter again.
        if (this.openId !== convId || this.input.value.replace(/\s+$/, '') !== text) return;
        if (cmd) {
          this.input.value = '';
          this.autoGrow();
          this.updateCommandBox();
          this.runCommand(convId, cmd, p.args, text);
          return;
        }
        // Not a command of any app of mine: an ordinary message.
      }
    }
    if (this.editing) {
      const m = this.editing;
      this.cancelReplyEdit();
      this.input.value = '';
      if (text === m.text) return;
      try {
        const res = await im.edit(m.id, text);
        if (res && res.id) this.applyMessage(res);
      } catch (e) { this.toast(e.display); this.startEdit({ ...m, text }); }
      return;
    }
    const mentions = [];
    let mentionAll = false;
    for (const [name, id] of this.mentions) {
      if (!text.includes('@' + name)) continue;
      if (id === '*') mentionAll = true; else mentions.push(id);
    }
    const body = { client_msg_id: uuid(), kind: 'text', text };
    if (mentions.length) body.mentions = mentions;
    if (mentionAll) body.mention_all = true;
    if (this.replyTo) body.reply_to_id = this.replyTo.id;
    if (this.urgent) {
      // DING everyone mentioned, or else everyone in the conversation.
      const st = this.states.get(this.openId);
      const everyone = st && st.members ? [...st.members.keys()].filter((id) => id !== this.me) : [];
      const to = mentions.length && !mentionAll ? mentions : everyone;
      if (!to.length) { this.toast(t('chat.ding.nobody')); return; }
      body.ding = { user_ids: to };
    }
    this.input.value = '';
    this.updateCommandBox();
    this.mentions.clear();
    this.replyTo = null;
    this.urgent = false;
    this.urgentBtn.setAttribute('aria-pressed', 'false');
    this.renderReplyBar();
    this.autoGrow();
    this.sendPending(this.openId, body);
  }

  /**
   * Show the message at once as "sending", then post it. A failure leaves it
   * with a retry button that posts the same client_msg_id, which the server
   * answers with the message it already has instead of a second copy.
   */
  async sendPending(convId, body, file) {
    const st = this.state(convId);
    let p = st.pending.get(body.client_msg_id);
    // A file message uploads first; once the server has the file the id is
    // kept, so a retry after a failed send does not upload it again.
    const status = () => (p.file && !body.file_id ? 'uploading' : 'sending');
    if (!p) {
      p = { body, file, created_at: new Date().toISOString() };
      p.status = status();
      st.pending.set(body.client_msg_id, p);
      if (this.openId === convId) { this.msgList.appendChild(this.pendingEl(st, p)); this.scrollToBottom(); }
    } else {
      p.status = status();
      p.error = '';
      this.updatePending(st, p);
    }
    if (p.status === 'uploading') {
      try {
        const up = await im.upload(convId, p.file);
        body.file_id = up.id;
        body.kind = INLINE_IMAGES.has(String(up.content_type || '').split(';')[0]) ? 'image' : 'file';
      } catch (e) {
        if (!st.pending.has(body.client_msg_id)) return; // discarded meanwhile
        p.status = 'upload-failed';
        p.error = uploadError(e);
        this.updatePending(st, p);
        return;
      }
      p.status = 'sending';
      this.updatePending(st, p);
    }
    try {
      const m = await im.send(convId, body);
      const msg = m.message || m;
      this.applyMessage(msg);
      // When the answer beats the event, the event is no longer new and
      // would not move the list's preview: move it here.
      const c = this.convs.get(convId);
      if (c && msg.seq && (c.last_seq || 0) < msg.seq) {
        c.last_seq = msg.seq;
        c.last_message = msg;
        c.last_message_at = msg.created_at;
        this.renderList();
      }
    } catch (e) {
      if (!st.pending.has(body.client_msg_id)) return; // the event got there first
      p.status = 'failed';
      p.error = e.display;
      this.updatePending(st, p);
    }
  }

  pendingEl(st, p) {
    const b = p.body;
    const failed = p.status === 'failed' || p.status === 'upload-failed';
    const text = p.file
      ? h('div', { class: 'text file-pending' }, icon('file', 18), h('span', {}, p.file.name), h('span', { class: 'muted' }, ' · ' + fmtSize(p.file.size)))
      : h('div', { class: 'text' }, b.text || '');
    const el = h('li', { class: ['msg', 'mine', 'pending', failed && 'failed', b.ding && 'urgent'], 'data-client-id': b.client_msg_id },
      h('div', { class: 'msg-body' },
        h('div', { class: 'msg-meta' }, b.ding ? h('span', { class: 'ding' }, t('chat.urgent')) : null),
        h('div', { class: 'msg-row' }, h('div', { class: 'bubble' }, text)),
        h('div', { class: 'msg-foot' },
          failed
            ? [h('span', { class: 'send-failed', role: 'alert', 'data-testid': p.status === 'upload-failed' ? 'upload-error' : 'send-error' }, '⚠ ',
              p.status === 'upload-failed' ? t('chat.upload.failed', { name: p.file.name }) : t('chat.failed'), p.error ? ' · ' + p.error : ''),
            h('button', { type: 'button', class: 'small retry', 'data-testid': 'retry', onclick: () => this.sendPending(st.id, b) }, t('chat.retry')),
            h('button', { type: 'button', class: 'small link', 'data-testid': 'discard', onclick: () => { st.pending.delete(b.client_msg_id); el.remove(); } }, t('common.discard'))]
            : h('span', { class: 'muted', role: 'status' }, p.status === 'uploading' ? t('chat.uploading') : t('chat.sending')))));
    p.el = el;
    return el;
  }

  updatePending(st, p) {
    if (!p.el || !p.el.isConnected) return;
    p.el.replaceWith(this.pendingEl(st, p));
  }

  /**
   * Each file becomes a pending message that uploads, then sends with the
   * file id; the kind follows the type the server sniffed, not the browser's
   * guess from the name. A refused upload stays in the list with the
   * server's reason and a retry.
   */
  async sendFiles(files) {
    const convId = this.openId;
    if (!convId) return;
    for (const f of files) {
      await this.sendPending(convId, { client_msg_id: uuid(), kind: 'file', text: f.name }, f);
    }
  }

  // ---------- live events ----------

  /** Stop listening (the view is being replaced, e.g. after a language switch). */
  destroy() {
    for (const off of this.unsubs) off();
    this.unsubs = [];
  }

  subscribe() {
    const sock = session.socket;
    let opened = false;
    const on = (em, type, fn) => this.unsubs.push(em.on(type, fn));
    on(sock, 'event', (ev) => this.onEvent(ev));
    on(sock, 'presence', (f) => this.onPresence(f.online));
    on(sock, 'ready', () => {
      // After a drop the server has replayed what we missed from our
      // position. The list is (re)loaded after every ready: on the first
      // connection there is no replay, so a message sent between the first
      // list load and the socket going live is picked up here; the seq
      // guards keep counts from doubling.
      if (opened || this.convs.size || this.loadedList) this.loadConversations();
      opened = true;
    });
    on(sock, 'resync', () => this.resync());
    on(sock, 'typing', (f) => this.onTyping(f));
    on(people, 'change', () => {
      if (document.activeElement === this.input) this.updateMentionBox();
      this.renderList();
      if (this.openId) {
        this.renderHead();
        const st = this.states.get(this.openId);
        if (st) this.renderAllMessages(st);
      }
    });
  }

  async resync() {
    for (const st of this.states.values()) { st.msgs.clear(); st.order = []; st.loaded = false; st.loadedAll = false; st.members = null; }
    await this.loadConversations();
    if (this.openId) {
      const st = this.state(this.openId);
      await this.loadLatest(st);
      this.loadMembers(st);
    }
  }

  onEvent(ev) {
    const d = ev.data || {};
    switch (ev.type) {
      case 'message.posted': this.onPosted(d); break;
      case 'message.edited':
      case 'message.recalled': this.applyMessage(d); break;
      case 'message.reaction': this.onReaction(d); break;
      case 'receipts': this.onReceipts(d); break;
      case 'read.position': {
        const c = this.convs.get(d.conversation_id);
        if (c) { c.read_seq = d.read_seq; c.unread = d.unread; this.renderList(); }
        break;
      }
      case 'conversation.joined':
      case 'conversation.updated': {
        const prev = this.convs.get(d.id) || {};
        this.convs.set(d.id, { ...prev, ...d });
        this.renderList();
        if (d.id === this.openId) this.renderHead();
        break;
      }
      case 'conversation.left': {
        this.convs.delete(d.conversation_id);
        this.states.delete(d.conversation_id);
        this.renderList();
        if (this.openId === d.conversation_id) { this.toast(t('chat.left')); location.hash = '#/chat'; }
        break;
      }
      case 'members.added':
      case 'members.removed': {
        const st = this.states.get(d.conversation_id);
        if (st) this.loadMembers(st);
        const c = this.convs.get(d.conversation_id);
        if (c) c.member_count = (c.member_count || 0) + (ev.type === 'members.added' ? 1 : -1) * (d.user_ids || []).length;
        if (d.conversation_id === this.openId) this.renderHead();
        break;
      }
      case 'ding': this.onDing(d, false); break;
      case 'ding.reminder': this.onDing(d, true); break;
      case 'ding.escalated': this.onDing(d, true, true); break;
      case 'ding.ack': this.onDingAck(d); break;
      case 'member.prefs': {
        const c = this.convs.get(d.conversation_id);
        if (c) { c.muted = d.muted; c.pinned = d.pinned; this.renderList(); }
        break;
      }
      default:
    }
  }

  onPosted(m) {
    const c = this.convs.get(m.conversation_id);
    if (!c) { this.loadConversations(); }
    const isNew = this.applyMessage(m);
    if (!c || !isNew) return;
    const mine = m.sender_id === this.me;
    // The list may already count this message (fetched after it was sent).
    if ((c.last_seq || 0) < m.seq) {
      c.last_seq = m.seq;
      c.last_message = m;
      c.last_message_at = m.created_at;
      const viewing = this.openId === m.conversation_id && document.visibilityState === 'visible' && this.nearBottom();
      if (!mine && !viewing) c.unread = (c.unread || 0) + 1;
      this.renderList();
    }
    if (!mine) {
      this.clearTyping(m.sender_id);
      this.notify(c, m);
    }
  }

  /** Apply a message from the server (event or response). Returns true when it is new here. */
  applyMessage(m) {
    if (!m || !m.id) return false;
    const st = this.states.get(m.conversation_id);
    const c = this.convs.get(m.conversation_id);
    if (c && c.last_message && c.last_message.id === m.id) { c.last_message = m; this.renderList(); }
    if (!st) return true;
    if (!st.loaded) {
      // History is loading: keep the event so a message committed after the
      // page was read is not lost.
      const prev = st.msgs.get(m.id);
      st.put(prev ? { ...prev, ...m } : m);
      return !prev;
    }
    const hadPending = m.sender_id === this.me && m.client_msg_id && st.pending.get(m.client_msg_id);
    if (hadPending) st.pending.delete(m.client_msg_id);
    const prev = st.msgs.get(m.id);
    // A stale copy (an older edit arriving after a newer one) must not win.
    if (prev && prev.edited_at && m.edited_at && Date.parse(m.edited_at) < Date.parse(prev.edited_at) && !m.recalled_at) return false;
    if (prev && prev.recalled_at && !m.recalled_at) return false;
    if (prev && !m.reactions && prev.reactions) m = { ...m, reactions: prev.reactions };
    const kind = st.put(prev ? { ...prev, ...m } : m);
    if (this.openId !== st.id) return kind === 'new';
    const atBottom = this.nearBottom();
    if (kind === 'new') {
      if (hadPending && hadPending.el && hadPending.el.isConnected) {
        hadPending.el.replaceWith(this.messageEl(st, st.msgs.get(m.id)));
      } else {
        this.placeMessage(st, st.msgs.get(m.id));
      }
      if (atBottom || m.sender_id === this.me) this.scrollToBottom();
      else this.newBelow.hidden = false;
      this.updateHistoryStatus(st);
    } else {
      if (hadPending && hadPending.el) hadPending.el.remove();
      this.rerender(st, st.msgs.get(m.id));
    }
    return kind === 'new';
  }

  onReaction(d) {
    for (const st of this.states.values()) {
      const m = st.msgs.get(d.message_id);
      if (!m) continue;
      const reactions = (m.reactions || []).map((r) => ({ ...r, user_ids: [...r.user_ids] }));
      let r = reactions.find((x) => x.emoji === d.emoji);
      if (!r) { r = { emoji: d.emoji, user_ids: [] }; reactions.push(r); }
      const has = r.user_ids.includes(d.user_id);
      if (d.added && !has) r.user_ids.push(d.user_id);
      if (!d.added && has) r.user_ids = r.user_ids.filter((x) => x !== d.user_id);
      const updated = { ...m, reactions: reactions.filter((x) => x.user_ids.length) };
      st.msgs.set(m.id, updated);
      if (this.openId === st.id) this.rerender(st, updated);
    }
  }

  onReceipts(d) {
    const st = this.states.get(d.conversation_id);
    if (!st || !st.members) return;
    for (const r of d.readers || []) {
      const mem = st.members.get(r.user_id);
      if (mem) mem.read_seq = Math.max(mem.read_seq || 0, r.read_seq);
    }
    this.refreshReceipts(st);
  }

  onPresence(online) {
    if (!online) return;
    for (const [id, on] of Object.entries(online)) this.online.set(id, on);
    if (this.openId) this.renderHead();
  }

  onTyping(f) {
    if (!f.conversation_id || f.user_id === this.me || f.conversation_id !== this.openId) return;
    clearTimeout(this.typing.get(f.user_id));
    this.typing.set(f.user_id, setTimeout(() => this.clearTyping(f.user_id), TYPING_SHOW_FOR));
    this.renderTyping();
  }

  clearTyping(userId) {
    if (userId === undefined) {
      for (const tm of this.typing.values()) clearTimeout(tm);
      this.typing.clear();
    } else {
      clearTimeout(this.typing.get(userId));
      this.typing.delete(userId);
    }
    this.renderTyping();
  }

  renderTyping() {
    const names = [...this.typing.keys()].map((id) => people.name(id));
    this.typingEl.textContent = names.length ? t('chat.typing', { names: names.join('、') }) : '';
  }

  async markRead() {
    const id = this.openId;
    if (!id || document.visibilityState !== 'visible' || !this.nearBottom()) return;
    const st = this.states.get(id);
    const c = this.convs.get(id);
    if (!st || !c) return;
    const seq = Math.max(st.maxSeq(), 0);
    if (!seq || (c.read_seq || 0) >= seq) {
      if (c.unread) { c.unread = 0; this.renderList(); }
      return;
    }
    c.read_seq = seq;
    c.unread = 0;
    this.renderList();
    try { await im.read(id, seq); } catch { c.read_seq = 0; }
  }

  notify(c, m) {
    if (c.muted) return;
    // Only when this conversation is actually on screen is a notification noise.
    if (document.visibilityState === 'visible' && this.openId === c.id && this.el.isConnected && document.hasFocus()) return;
    if (!('Notification' in window) || Notification.permission !== 'granted') return;
    const title = this.convName(c);
    const body = (m.urgent ? '[' + t('chat.urgent') + '] ' : '') + (c.kind !== 'direct' ? people.name(m.sender_id) + ': ' : '') + (m.kind === 'text' ? m.text : t('chat.kind.' + m.kind));
    try {
      const n = new Notification(title, { body, tag: c.id, requireInteraction: !!m.urgent });
      n.onclick = () => { window.focus(); location.hash = '#/chat/' + encodeURIComponent(c.id); n.close(); };
    } catch { /* some browsers need a service worker */ }
  }

  toast(text) {
    const el = h('div', { class: 'toast', role: 'alert' }, text);
    document.body.appendChild(el);
    setTimeout(() => el.remove(), 4000);
  }
}
