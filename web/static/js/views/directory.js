// The directory: the org tree, the staff of a department, search that
// understands pinyin initials ("zs" finds 张三), person cards, and a chat
// started from a card.
import { h, mount, avatar } from '../h.js';
import { t } from '../i18n.js';
import { org } from '../orgapi.js';
import { im } from '../imapi.js';
import { people, fromStaff } from '../people.js';
import { session } from '../session.js';
import { debounce } from '../util.js';
import { icon } from '../icons.js';

/** Indent a tree row through the CSSOM (the CSP allows no inline style attributes). */
function indent(el, level) {
  el.style.paddingLeft = (level - 1) * 16 + 8 + 'px';
  return el;
}

export class DirectoryView {
  constructor() {
    this.depts = [];
    this.byId = new Map();
    this.children = new Map();
    this.expanded = new Set();
    this.selected = null;
    this.query = '';
    this.build();
    this.load();
  }

  build() {
    this.search = h('input', {
      type: 'search', class: 'search', placeholder: t('dir.search'), 'aria-label': t('dir.search'), 'data-testid': 'dir-search',
      oninput: debounce(() => this.runSearch(), 200),
      onkeydown: (e) => { if (e.key === 'Enter') { e.preventDefault(); this.runSearch(); } },
    });
    this.treeEl = h('ul', { class: 'tree', role: 'tree', 'aria-label': t('dir.tree'), onkeydown: (e) => this.treeKey(e) });
    this.treeStatus = h('p', { class: 'muted center', role: 'status' });
    this.listPane = h('aside', { class: 'list-pane', 'aria-label': t('dir.tree') },
      h('header', { class: 'pane-head' }, h('h1', null, t('nav.directory'))),
      h('div', { class: 'pane-search' }, this.search),
      this.treeStatus, this.treeEl);
    this.detailTitle = h('h2', { id: 'dir-title', class: 'conv-title' });
    this.detailBody = h('div', { class: 'dir-body', 'aria-live': 'polite' });
    this.detail = h('section', { class: 'msg-pane', 'aria-labelledby': 'dir-title' },
      h('header', { class: 'msg-head' },
        h('a', { href: '#/directory', class: 'back icon-btn', 'aria-label': t('common.back'), onclick: () => { this.el.dataset.pane = 'list'; } }, icon('back', 24)),
        h('div', { class: 'msg-head-text' }, this.detailTitle)),
      this.detailBody);
    this.el = h('div', { class: 'split directory', 'data-pane': 'list' }, this.listPane, this.detail);
    this.renderEmpty();
  }

  show(rest) {
    if (rest[0] === 'person' && rest[1]) this.openPerson(rest[1], rest[2]);
    else if (rest[0] === 'dept' && rest[1]) this.openDept(rest[1]);
    else this.el.dataset.pane = 'list';
  }

  renderEmpty() {
    this.detailTitle.textContent = t('nav.directory');
    mount(this.detailBody, h('div', { class: 'empty-conv' }, h('div', { class: 'empty-mark' }, icon('contacts', 56)), h('p', { class: 'muted' }, t('dir.pick'))));
  }

  async load() {
    this.treeStatus.textContent = t('common.loading');
    try {
      this.depts = await org.departments();
      this.byId = new Map(this.depts.map((d) => [d.id, d]));
      this.children = new Map();
      for (const d of this.depts) {
        const p = d.parent_id || '';
        if (!this.children.has(p)) this.children.set(p, []);
        this.children.get(p).push(d);
      }
      for (const list of this.children.values()) list.sort((a, b) => (a.order || 0) - (b.order || 0) || a.name.localeCompare(b.name, 'zh-CN'));
      for (const d of this.children.get('') || []) this.expanded.add(d.id);
      this.treeStatus.textContent = this.depts.length ? '' : t('dir.none');
      this.renderTree();
      // A department opened from a link before the tree arrived gets its name now.
      if (this.selected && this.byId.has(this.selected) && this.el.dataset.pane === 'detail' && !this.personOpen) {
        this.openDept(this.selected);
      }
    } catch (e) {
      this.treeStatus.textContent = e.display;
    }
  }

  renderTree() {
    const node = (d, level) => {
      const kids = this.children.get(d.id) || [];
      const open = this.expanded.has(d.id);
      const li = h('li', {
        role: 'treeitem', 'aria-level': level, 'aria-expanded': kids.length ? String(open) : null,
        'aria-selected': String(this.selected === d.id), tabindex: this.selected === d.id || (!this.selected && level === 1 && d === (this.children.get('') || [])[0]) ? '0' : '-1',
        'data-dept': d.id,
        onclick: (e) => { e.stopPropagation(); this.selectDept(d.id, true); },
      },
      indent(h('span', { class: 'tree-row' },
        h('span', { class: 'twisty', 'aria-hidden': 'true', onclick: (e) => { e.stopPropagation(); this.toggle(d.id); } }, kids.length ? (open ? '▾' : '▸') : ''),
        h('span', { class: 'tree-name' }, d.name)), level),
      kids.length && open ? h('ul', { role: 'group' }, kids.map((k) => node(k, level + 1))) : null);
      return li;
    };
    mount(this.treeEl, (this.children.get('') || []).map((d) => node(d, 1)));
  }

  toggle(id) {
    if (this.expanded.has(id)) this.expanded.delete(id); else this.expanded.add(id);
    this.renderTree();
    const el = this.treeEl.querySelector(`[data-dept="${CSS.escape(id)}"]`);
    if (el) el.focus();
  }

  treeKey(e) {
    const items = [...this.treeEl.querySelectorAll('[role=treeitem]')];
    const cur = document.activeElement.closest('[role=treeitem]');
    const i = items.indexOf(cur);
    if (i < 0) return;
    const id = cur.dataset.dept;
    const focus = (el) => { if (el) { items.forEach((x) => x.setAttribute('tabindex', '-1')); el.setAttribute('tabindex', '0'); el.focus(); } };
    switch (e.key) {
      case 'ArrowDown': focus(items[i + 1]); break;
      case 'ArrowUp': focus(items[i - 1]); break;
      case 'ArrowRight': if (!this.expanded.has(id) && (this.children.get(id) || []).length) this.toggle(id); else focus(items[i + 1]); break;
      case 'ArrowLeft': if (this.expanded.has(id)) this.toggle(id); else { const p = this.byId.get(id)?.parent_id; if (p) focus(this.treeEl.querySelector(`[data-dept="${CSS.escape(p)}"]`)); } break;
      case 'Enter': case ' ': this.selectDept(id, true); break;
      default: return;
    }
    e.preventDefault();
  }

  selectDept(id, nav) {
    if (nav) { location.hash = '#/directory/dept/' + encodeURIComponent(id); return; }
    this.openDept(id);
  }

  deptPath(id) {
    const names = [];
    for (let d = this.byId.get(id), n = 0; d && n < 20; d = this.byId.get(d.parent_id), n++) names.unshift(d.name);
    return names.join(' / ');
  }

  async openDept(id) {
    this.selected = id;
    this.personOpen = false;
    this.el.dataset.pane = 'detail';
    // Expand the path so the tree shows where we are.
    for (let d = this.byId.get(id); d && d.parent_id; d = this.byId.get(d.parent_id)) this.expanded.add(d.parent_id);
    this.renderTree();
    const d = this.byId.get(id);
    this.detailTitle.textContent = d ? d.name : '…';
    mount(this.detailBody, h('p', { class: 'muted center' }, t('common.loading')));
    try {
      const staff = await org.staffOf(id);
      if (this.selected !== id) return;
      const sub = (this.children.get(id) || []);
      mount(this.detailBody,
        d ? h('p', { class: 'muted crumbs' }, this.deptPath(id)) : null,
        sub.length ? h('div', { class: 'subdepts' }, h('h3', null, t('dir.subdepts')),
          h('ul', { class: 'chips', role: 'list' }, sub.map((s) => h('li', null, h('a', { class: 'chip', href: '#/directory/dept/' + encodeURIComponent(s.id) }, s.name))))) : null,
        h('h3', null, t('dir.staff', { n: staff.length })),
        this.peopleList(staff));
    } catch (e) {
      mount(this.detailBody, h('p', { class: 'form-error' }, e.display));
    }
  }

  async runSearch() {
    const q = this.search.value.trim();
    this.query = q;
    if (!q) { this.renderTree(); this.treeStatus.textContent = ''; this.treeEl.hidden = false; this.searchResults?.remove(); return; }
    try {
      const found = await org.search(q);
      if (this.query !== q) return;
      this.treeEl.hidden = true;
      this.searchResults?.remove();
      this.treeStatus.textContent = found.length ? t('dir.found', { n: found.length }) : t('dir.nomatch');
      this.searchResults = this.peopleList(found);
      this.searchResults.classList.add('search-results');
      this.listPane.appendChild(this.searchResults);
    } catch (e) {
      this.treeStatus.textContent = e.display;
    }
  }

  /** Staff rows or search hits (which carry org_name and the department path). */
  peopleList(staff) {
    const mine = org.myOrg();
    for (const s of staff) if (!s.org_id || s.org_id === mine) people.remember(s.id, { name: s.name, position: s.position, title: s.title });
    return h('ul', { class: 'people-list', role: 'list' }, staff.map((s) => {
      const dept = s.primary_department || (s.primary_department_id && this.byId.get(s.primary_department_id)?.name);
      const otherOrg = s.org_id && s.org_id !== mine ? s.org_name : '';
      return h('li', null,
        h('a', {
          class: 'person-row', 'data-person': s.id,
          href: '#/directory/person/' + encodeURIComponent(s.id) + (s.org_id && s.org_id !== mine ? '/' + encodeURIComponent(s.org_id) : ''),
        },
        avatar(s.id, s.name, 36),
        h('span', { class: 'conv-main' },
          h('span', { class: 'conv-name' }, s.name,
            s.status === 'on_leave' ? h('span', { class: 'tag' }, t('dir.onleave')) : null,
            otherOrg ? h('span', { class: 'tag' }, otherOrg) : null),
          h('span', { class: 'muted small-text' }, [s.position, s.title, dept].filter(Boolean).join(' · ')))));
    }));
  }

  async openPerson(id, orgId) {
    this.el.dataset.pane = 'detail';
    this.personOpen = true;
    mount(this.detailBody, h('p', { class: 'muted center' }, t('common.loading')));
    try {
      const s = await org.person(id, orgId || org.myOrg());
      people.remember(s.id, fromStaff(s));
      this.detailTitle.textContent = s.name;
      const row = (label, value, href) => (value ? h('div', { class: 'card-row' }, h('dt', null, label), h('dd', null, href ? h('a', { href }, value) : value)) : null);
      const sameOrg = !orgId || orgId === org.myOrg();
      const depts = (s.departments || []).map((d) => (sameOrg
        ? h('a', { class: 'chip', href: '#/directory/dept/' + encodeURIComponent(d.id) }, d.path || d.name)
        : h('span', { class: 'chip' }, d.path || d.name)));
      const managers = (s.managers || []).map((m) => h('a', { class: 'chip', href: '#/directory/person/' + encodeURIComponent(m.id) + (m.org_id && m.org_id !== org.myOrg() ? '/' + encodeURIComponent(m.org_id) : '') }, m.name));
      const chat = h('button', {
        type: 'button', class: 'primary', 'data-testid': 'start-chat', hidden: s.id === session.user.id,
        onclick: async () => {
          chat.disabled = true;
          try {
            const c = await im.direct(s.id);
            const conv = c.conversation || c;
            location.hash = '#/chat/' + encodeURIComponent(conv.id);
          } catch (e) {
            chat.disabled = false;
            err.textContent = e.display;
          }
        },
      }, t('dir.message'));
      const err = h('p', { class: 'form-error', role: 'alert' });
      mount(this.detailBody, h('article', { class: 'person-card', 'aria-labelledby': 'dir-title' },
        h('div', { class: 'card-top' }, avatar(s.id, s.name, 64),
          h('div', null, h('div', { class: 'card-name' }, s.name),
            h('div', { class: 'muted' }, [s.position, s.title].filter(Boolean).join(' · ')),
            s.status === 'on_leave' ? h('span', { class: 'tag' }, t('dir.onleave')) : null,
            s.status === 'left' ? h('span', { class: 'tag' }, t('dir.left')) : null)),
        h('div', { class: 'card-actions' }, chat, s.phone ? h('a', { class: 'button', href: 'tel:' + s.phone }, t('dir.call')) : null),
        err,
        h('dl', { class: 'card-fields' },
          row(t('dir.employee_no'), s.employee_no),
          row(t('dir.login'), s.login),
          s.primary_department ? row(t('dir.primary'), s.primary_department.path || s.primary_department.name) : null,
          row(t('dir.phone'), s.phone, s.phone && 'tel:' + s.phone),
          row(t('dir.email'), s.email, s.email && 'mailto:' + s.email),
          (s.duty_roles || []).length ? row(t('dir.duty'), s.duty_roles.join('、')) : null),
        depts.length ? h('div', null, h('h3', null, t('dir.departments')), h('div', { class: 'chips' }, depts)) : null,
        managers.length ? h('div', null, h('h3', null, t('dir.managers')), h('div', { class: 'chips' }, managers)) : null));
    } catch (e) {
      mount(this.detailBody, h('p', { class: 'form-error' }, e.display));
    }
  }
}
