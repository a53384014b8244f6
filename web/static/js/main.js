// The client's entry point: who is signed in, the shell around the views and
// a hash router (#/chat/<id>, #/directory, #/approvals …) so a reload or a
// shared link lands on the same screen.
import { h, mount, avatar } from './h.js';
import { t, getLang, setLang } from './i18n.js';
import { get, del, setUnauthenticatedHandler } from './api.js';
import { session } from './session.js';
import { renderLogin } from './views/login.js';
import { ChatView } from './views/chat.js';
import { DirectoryView } from './views/directory.js';
import { ApprovalsView } from './views/approvals.js';
import { AttendanceView } from './views/attendance.js';
import { RosterView } from './views/roster.js';
import { PlaceholderView } from './views/placeholder.js';
import { AppsView } from './views/apps.js';
import { AdminView } from './views/admin.js';
import { amAdmin } from './adminapi.js';
import { Socket } from './ws.js';
import { people } from './people.js';
import { icon } from './icons.js';

const root = document.getElementById('app');
root.classList.remove('boot');

const tabs = [
  { id: 'chat', icon: 'chat', label: 'nav.chat' },
  { id: 'directory', icon: 'contacts', label: 'nav.directory' },
  { id: 'approvals', icon: 'approvals', label: 'nav.approvals' },
  { id: 'roster', icon: 'calendar', label: 'nav.roster' },
  { id: 'attendance', icon: 'clock', label: 'nav.attendance' },
  { id: 'apps', icon: 'apps', label: 'nav.apps' },
  { id: 'admin', icon: 'admin', label: 'nav.admin' },
];

let current = null; // { id, view }
let views = {};
let shellUnsubs = [];

function resetViews() {
  for (const v of Object.values(views)) if (v.destroy) v.destroy();
  views = {};
  current = null;
}

function route() {
  const parts = location.hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  return { tab: parts[0] || 'chat', rest: parts.slice(1) };
}

export function navigate(hash) {
  if (location.hash === hash) render();
  else location.hash = hash;
}

async function boot() {
  setUnauthenticatedHandler(() => signedOut());
  await session.loadRoutes();
  try {
    const me = await get('/api/v1/me', { quiet401: true });
    signedIn(me.user || me);
  } catch (e) {
    // Not signed in (401) is the normal first visit; only a server that
    // cannot be reached or fails is worth a message.
    showLogin(e.status === 0 || e.status >= 500 ? e.display : '');
  }
}

function showLogin(error) {
  session.close();
  document.title = t('app.title');
  mount(root, renderLogin({ error, onSignedIn: signedIn, onLang: () => showLogin() }));
}

function signedOut() {
  if (!session.user) return;
  session.user = null;
  resetViews();
  showLogin(t('login.expired'));
}

function signedIn(user) {
  session.user = user;
  isAdmin = null;
  people.remember(user.id, { name: user.display_name || user.login });
  session.socket = new Socket('/api/v1/ws');
  // The socket was closed for good (the person left): let the API confirm
  // and send them to the sign-in page.
  session.socket.on('unauthenticated', () => { get('/api/v1/me').catch(() => {}); });
  session.socket.start();
  resetViews();
  shell();
  // Chat exists from sign-in on so unread counts and notifications run
  // whatever tab is open.
  viewFor('chat');
  render();
  approvalsBadge();
}

/** The admin console's tab shows only to the hospital's admins (asked once per sign-in). */
let isAdmin = null;
async function adminTab() {
  const li = railButtons && railButtons.admin && railButtons.admin.parentElement;
  if (!li) return;
  const item = moreMenu && moreMenu.querySelector('[data-more=admin]');
  li.hidden = !isAdmin;
  if (item) item.hidden = !isAdmin;
  if (isAdmin === null) {
    const who = session.user;
    const yes = await amAdmin();
    if (session.user !== who) return;
    isAdmin = yes;
  }
  li.hidden = !isAdmin;
  if (item) item.hidden = !isAdmin;
}

/** The rail shows how many approvals wait for me from sign-in on. */
async function approvalsBadge() {
  if (!session.serves('GET', '/api/v1/approvals/me/pending')) return;
  try {
    const r = await get('/api/v1/approvals/me/pending?limit=100');
    const n = (r.items || []).length;
    const b = root.querySelector('[data-badge="approvals"]');
    if (b) { b.hidden = !n; b.textContent = n > 99 ? '99+' : String(n); }
  } catch { /* the approvals screen shows errors */ }
}

let mainEl, railButtons, netBanner;

// A phone's bottom bar holds the first PHONE_TABS tabs; the rest are under
// "more" (更多), a menu of links (the desktop rail shows them all).
const PHONE_TABS = 4;
let moreButton, moreMenu;
function moreTab() {
  const close = (focus) => {
    moreMenu.hidden = true;
    moreButton.setAttribute('aria-expanded', 'false');
    if (focus) moreButton.focus();
  };
  moreMenu = h('ul', { class: 'rail-more-menu', id: 'rail-more-menu', role: 'list', hidden: true, 'data-testid': 'more-menu',
    onkeydown: (e) => { if (e.key === 'Escape') close(true); } },
  tabs.slice(PHONE_TABS).map((tab) => h('li', { 'data-more': tab.id },
    h('a', { href: '#/' + tab.id, class: 'rail-more-item', 'data-tab': tab.id, onclick: () => close(false) },
      icon(tab.icon, 20), ' ', t(tab.label)))));
  moreButton = h('button', { type: 'button', class: 'rail-tab rail-more', 'aria-expanded': 'false', 'aria-controls': 'rail-more-menu', 'data-testid': 'more-tab',
    onclick: () => {
      const open = moreMenu.hidden;
      moreMenu.hidden = !open;
      moreButton.setAttribute('aria-expanded', String(open));
      if (open) { const a = moreMenu.querySelector('li:not([hidden]) a'); if (a) a.focus(); }
    } },
  h('span', { class: 'rail-icon' }, icon('more', 22)), h('span', { class: 'rail-label' }, t('nav.more')));
  if (!moreTab.listening) {
    moreTab.listening = true;
    document.addEventListener('click', (e) => { if (moreMenu && !moreMenu.hidden && !e.target.closest('.rail-more-li')) close(false); });
  }
  return h('li', { class: 'rail-more-li' }, moreButton, moreMenu);
}

function shell() {
  const user = session.user;
  railButtons = {};
  const rail = h('nav', { class: 'rail', 'aria-label': t('nav.main') },
    h('div', { class: 'brand', 'aria-hidden': 'true' }, 'R'),
    h('ul', { class: 'rail-tabs', role: 'list' },
      tabs.map((tab, i) => {
        const b = h('a', { href: '#/' + tab.id, class: 'rail-tab', 'data-tab': tab.id },
          h('span', { class: 'rail-icon' }, icon(tab.icon, 22)),
          h('span', { class: 'rail-label' }, t(tab.label)),
          h('span', { class: 'badge', hidden: true, 'data-badge': tab.id }));
        railButtons[tab.id] = b;
        return h('li', { class: i >= PHONE_TABS ? 'rail-overflow' : null }, b);
      }),
      moreTab()),
    h('div', { class: 'rail-foot' },
      h('button', {
        class: 'rail-lang', type: 'button', 'data-testid': 'lang-switch',
        'aria-label': t('lang.switch'), onclick: () => { setLang(getLang() === 'en' ? 'zh-CN' : 'en'); resetViews(); shell(); viewFor('chat'); render(); },
      }, getLang() === 'en' ? '中文' : 'EN'),
      h('button', {
        class: 'rail-me', type: 'button', 'aria-label': t('nav.signout') + ' · ' + (user.display_name || user.login),
        title: t('nav.signout'), 'data-testid': 'signout',
        onclick: async () => {
          if (!confirm(t('nav.signout.confirm'))) return;
          try { await del('/api/v1/sessions/current'); } catch { /* signed out anyway */ }
          session.user = null; resetViews(); showLogin();
        },
      }, avatar(user.id, user.display_name || user.login, 32))));
  netBanner = h('div', { class: 'net-banner', role: 'status', hidden: true });
  mainEl = h('main', { id: 'main', class: 'main', tabindex: '-1' });
  mount(root, h('div', { class: 'app' },
    h('a', { class: 'skip', href: '#main', onclick: (e) => { e.preventDefault(); mainEl.focus(); } }, t('nav.skip')),
    rail, h('div', { class: 'content' }, netBanner, mainEl)));
  adminTab();
  for (const off of shellUnsubs) off();
  shellUnsubs = [];
  shellUnsubs.push(session.socket.on('state', (s) => {
    // The first connection after sign-in is not a drop: say nothing then.
    const down = s !== 'open' && session.socket.everOpen;
    netBanner.hidden = !down;
    netBanner.textContent = down ? t('net.reconnecting') : '';
  }));
  shellUnsubs.push(session.on('unread', (n) => {
    const b = root.querySelector('[data-badge="chat"]');
    if (!b) return;
    b.hidden = !n;
    b.textContent = n > 99 ? '99+' : String(n);
    document.title = (n ? `(${n}) ` : '') + t('app.title');
  }));
}

function viewFor(tab) {
  if (!views[tab]) {
    switch (tab) {
      case 'chat': views[tab] = new ChatView(); break;
      case 'directory': views[tab] = new DirectoryView(); break;
      case 'approvals':
        views[tab] = session.serves('GET', '/api/v1/approvals/templates') ? new ApprovalsView() : new PlaceholderView(tab);
        break;
      case 'attendance':
        views[tab] = session.serves('POST', '/api/v1/attendance/clock') ? new AttendanceView() : new PlaceholderView(tab);
        break;
      case 'roster':
        views[tab] = session.serves('GET', '/api/v1/orgs/{org}/shifts') ? new RosterView() : new PlaceholderView(tab);
        break;
      case 'apps':
        views[tab] = session.serves('GET', '/api/v1/me/apps') ? new AppsView() : new PlaceholderView(tab);
        break;
      case 'admin': views[tab] = new AdminView(); break;
      default: views[tab] = new PlaceholderView(tab);
    }
  }
  return views[tab];
}

function render() {
  if (!session.user) return;
  const { tab, rest } = route();
  const known = tabs.some((x) => x.id === tab) ? tab : 'chat';
  for (const [id, b] of Object.entries(railButtons)) {
    if (id === known) b.setAttribute('aria-current', 'page');
    else b.removeAttribute('aria-current');
  }
  if (moreButton) {
    moreButton.classList.toggle('rail-current', tabs.findIndex((x) => x.id === known) >= PHONE_TABS);
    for (const a of moreMenu.querySelectorAll('a')) {
      if (a.dataset.tab === known) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
    }
  }
  const view = viewFor(known);
  if (!current || current.id !== known) {
    if (current && current.view.hide) current.view.hide();
    mount(mainEl, view.el);
    current = { id: known, view };
  }
  view.show(rest);
}

window.addEventListener('hashchange', render);
boot();
