// The app center (应用中心): the apps my hospital's admin has installed and
// shown to me. An app's page opens in a sandboxed frame — scripts and forms
// run, but in an opaque origin (the server sends the same sandbox as the
// page's own Content-Security-Policy), so an app reaches neither the
// client's cookies nor its DOM. The page calls its own app's routes with
// the page token the server put in it (plugins/doc.go), never with ours.
import { h, mount, avatar } from '../h.js';
import { t, getLang } from '../i18n.js';
import { apps } from '../adminapi.js';
import { icon } from '../icons.js';

export class AppsView {
  constructor() {
    this.title = h('h1', { id: 'apps-title' }, t('nav.apps'));
    this.back = h('a', { href: '#/apps', class: 'icon-btn', 'aria-label': t('apps.back'), hidden: true }, icon('back', 22));
    this.body = h('div', { class: 'apps-body' });
    this.el = h('section', { class: 'apps', 'aria-labelledby': 'apps-title' },
      h('header', { class: 'pane-head apps-head' }, h('div', { class: 'apps-head-l' }, this.back, this.title)),
      this.body);
  }

  show(rest) {
    if (rest[0]) this.openApp(rest[0], rest[1]);
    else this.list();
  }

  async list() {
    this.back.hidden = true;
    this.title.textContent = t('nav.apps');
    mount(this.body, h('p', { class: 'muted' }, t('common.loading')));
    let items;
    try { items = await apps.mine(); } catch (e) {
      mount(this.body, h('p', { class: 'form-error', role: 'alert' }, e.display));
      return;
    }
    if (!items.length) {
      mount(this.body, h('div', { class: 'empty-conv' }, h('div', { class: 'empty-mark' }, icon('apps', 56)), h('p', { class: 'muted' }, t('apps.none'))));
      return;
    }
    mount(this.body, h('ul', { class: 'app-grid', role: 'list', 'data-testid': 'app-grid' }, items.map((a) => h('li', null,
      h('a', { class: 'app-tile', href: '#/apps/' + encodeURIComponent(a.install_id), 'data-app': a.app_id },
        avatar(a.app_id, a.name, 48, true),
        h('span', { class: 'app-name' }, a.name),
        h('span', { class: 'muted small-text' }, t('apps.version', { v: a.version })))))));
  }

  async openApp(installId, pagePath) {
    this.back.hidden = false;
    mount(this.body, h('p', { class: 'muted' }, t('common.loading')));
    let a;
    try { a = await apps.open(installId); } catch (e) {
      this.title.textContent = t('nav.apps');
      mount(this.body, h('p', { class: 'form-error', role: 'alert' }, e.status === 404 ? t('apps.gone') : e.display));
      return;
    }
    this.title.textContent = a.name;
    const pages = a.pages || [];
    if (!pages.length || !a.url) {
      mount(this.body, h('p', { class: 'muted' }, t('apps.nopage')));
      return;
    }
    const page = pages.find((p) => p.path === '/' + (pagePath || '')) || pages[0];
    // ?lang= tells the page the language the person reads Rounds in
    // (plugins/sdk/GUIDE.md, "Pages").
    const url = '/plugins/' + encodeURIComponent(a.app_id) + '/ui' + page.path + '?lang=' + encodeURIComponent(getLang());
    // No allow-same-origin: the app runs as an opaque origin, as the page's
    // own CSP (plugins/httpapi.PageCSP) insists anyway.
    const frame = h('iframe', { class: 'app-frame', src: url, title: t('apps.frame', { name: a.name, page: page.title }),
      sandbox: 'allow-scripts allow-forms', referrerpolicy: 'no-referrer', 'data-testid': 'app-frame' });
    const nav = pages.length > 1
      ? h('nav', { class: 'app-pages', 'aria-label': t('apps.pages') }, pages.map((p) => h('a', {
        href: '#/apps/' + encodeURIComponent(installId) + p.path, class: 'chip', 'aria-current': p === page ? 'page' : null,
      }, p.title)))
      : null;
    mount(this.body, nav, h('div', { class: 'app-frame-wrap' }, frame));
  }
}
