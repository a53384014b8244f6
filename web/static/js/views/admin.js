// The admin console (管理后台) for a hospital's IT admins: the org chart with
// CSV import (a dry run shows what would change before anything does),
// roles, apps from the marketplace (catalog, consent to scopes, installs and
// their life), the audit log, chat retention with legal holds and message
// exports. Each tab shows to whoever holds what it needs (GET
// /api/v1/me/capabilities); every decision is still the server's: this
// screen shows what it answers, refusals included.
import { h, mount, avatar } from '../h.js';
import { t, has, fmtTime, getLang } from '../i18n.js';
import { org } from '../orgapi.js';
import { people } from '../people.js';
import { adminTabs, market, roles, auditLog, retention, importCSV } from '../adminapi.js';
import { openDialog } from '../dialog.js';

const TABS = ['org', 'roles', 'apps', 'audit', 'settings'];
// Scopes a grant may narrow to a department subtree (marketplace.SubtreeScopes).
const SUBTREE_SCOPES = new Set(['orgchart:read', 'roster:read', 'roster:write', 'attendance:read']);

const scopeLabel = (s) => (has('adm.scope.' + s) ? t('adm.scope.' + s) : s);
const roleLabel = (r) => (has('adm.role.' + r) ? t('adm.role.' + r) : r);
const err = (e) => h('p', { class: 'form-error', role: 'alert' }, e.display || String(e.message || e));
const loading = () => h('p', { class: 'muted' }, t('common.loading'));

/** Indent a row through the CSSOM (the CSP allows no style attributes). */
function indent(el, level) { el.style.paddingLeft = level * 16 + 8 + 'px'; return el; }

/** Departments as a flat list in tree order with their depth. */
function treeOrder(depts) {
  const kids = new Map();
  for (const d of depts) {
    const p = d.parent_id || '';
    if (!kids.has(p)) kids.set(p, []);
    kids.get(p).push(d);
  }
  for (const l of kids.values()) l.sort((a, b) => (a.order || 0) - (b.order || 0) || a.name.localeCompare(b.name, 'zh-CN'));
  const out = [];
  const walk = (p, level) => { for (const d of kids.get(p) || []) { out.push({ d, level }); walk(d.id, level + 1); } };
  walk('', 0);
  return out;
}

/** A <select> of departments in tree order, indented with spaces. */
function deptSelect(depts, attrs, value) {
  return h('select', attrs, treeOrder(depts).map(({ d, level }) =>
    h('option', { value: d.id, selected: d.id === value }, '\u3000'.repeat(level) + d.name)));
}

/** A setting's label and description in the UI's language, else as the manifest wrote them. */
function settingText(s) {
  const lang = getLang();
  const tr = s.i18n || {};
  const x = tr[lang] || tr[lang.split('-')[0]] || {};
  return { label: x.label || s.label || s.key, description: x.description || s.description || '' };
}

let pickers = 0;

/**
 * A department picker over the org chart: type part of a name (or of its
 * path), choose from the matches with a tap, a click or the arrow keys and
 * Enter. Shows the chosen department's path and keeps its id.
 * Returns {el, value(), check()}.
 */
function deptPicker(depts, { id, value, required, describedBy, label }) {
  const n = ++pickers;
  const listId = 'dp-list-' + n;
  const byId = new Map(depts.map((d) => [d.id, d]));
  const order = treeOrder(depts).map(({ d }) => d);
  let chosen = value || '';
  let active = -1;
  let shown = [];
  const error = h('p', { class: 'field-error', role: 'alert', id: 'dp-err-' + n });
  const q = h('input', { type: 'search', id, autocomplete: 'off', spellcheck: false, role: 'combobox', 'aria-expanded': 'false',
    'aria-controls': listId, 'aria-autocomplete': 'list', 'aria-describedby': [describedBy, 'dp-chosen-' + n, 'dp-err-' + n].filter(Boolean).join(' '),
    placeholder: t('adm.dept.search'), 'data-testid': 'dept-search' });
  const list = h('ul', { id: listId, role: 'listbox', class: 'adm-dept-hits', 'aria-label': label, hidden: true, 'data-testid': 'dept-options' });
  const chosenBox = h('div', { id: 'dp-chosen-' + n, class: 'adm-dept-chosen', 'aria-live': 'polite', 'data-testid': 'dept-chosen' });
  const wrap = h('div', { class: 'adm-dept-pick' }, chosenBox, q, list, error);

  const drawChosen = () => {
    const d = byId.get(chosen);
    if (!chosen) { mount(chosenBox, h('span', { class: 'muted' }, t('adm.dept.none'))); return; }
    mount(chosenBox,
      d ? h('span', null, t('adm.dept.chosen'), ' ', h('strong', { class: 'adm-dept-path', 'data-dept': d.id }, d.path || d.name))
        : h('span', { class: 'form-error' }, t('adm.dept.gone', { id: chosen.slice(-8) })),
      required ? null : h('button', { type: 'button', class: 'link small-text', onclick: () => { chosen = ''; drawChosen(); q.focus(); } }, t('adm.dept.clear')));
  };
  const close = () => { list.hidden = true; q.setAttribute('aria-expanded', 'false'); q.removeAttribute('aria-activedescendant'); active = -1; };
  const setActive = (i) => {
    const opts = list.querySelectorAll('[role=option]');
    if (!opts.length) return;
    active = (i + opts.length) % opts.length;
    opts.forEach((o, k) => o.setAttribute('aria-selected', String(k === active)));
    q.setAttribute('aria-activedescendant', opts[active].id);
    opts[active].scrollIntoView({ block: 'nearest' });
  };
  const pick = (d) => {
    chosen = d.id;
    q.value = '';
    close();
    error.textContent = '';
    wrap.closest('.field')?.classList.remove('invalid');
    drawChosen();
  };
  // Best first: the name itself, a name starting with the text, a name
  // holding it, then a department below one so named; tree order within.
  const find = (text) => {
    const s = text.trim().toLowerCase();
    if (!s) return order;
    const rank = (d) => {
      const name = d.name.toLowerCase();
      if (name === s) return 0;
      if (name.startsWith(s)) return 1;
      if (name.includes(s)) return 2;
      return (d.path || '').toLowerCase().includes(s) ? 3 : -1;
    };
    return order.map((d, i) => ({ d, i, r: rank(d) })).filter((x) => x.r >= 0).sort((a, b) => a.r - b.r || a.i - b.i).map((x) => x.d);
  };
  const LIMIT = 100;
  const open = () => {
    const found = find(q.value);
    shown = found.slice(0, LIMIT);
    mount(list, shown.length ? shown.map((d, i) => {
      const parent = (d.path || '').split('/').slice(0, -1).join('/');
      return h('li', { role: 'option', id: listId + '-' + i, 'aria-selected': 'false', 'data-dept': d.id, class: d.id === chosen ? 'adm-dept-current' : null,
        onmousedown: (e) => e.preventDefault(), onclick: () => pick(d) },
      h('span', { class: 'adm-dept-name' }, d.name), parent ? h('span', { class: 'muted small-text' }, parent) : null);
    }) : h('li', { class: 'muted adm-dept-empty' }, t('adm.dept.nomatch')),
    found.length > LIMIT ? h('li', { class: 'muted small-text adm-dept-empty' }, t('adm.dept.more', { n: found.length - LIMIT })) : null);
    list.hidden = false;
    q.setAttribute('aria-expanded', 'true');
    active = -1;
    q.removeAttribute('aria-activedescendant');
  };
  q.addEventListener('input', open);
  q.addEventListener('focus', () => { if (q.value) open(); });
  q.addEventListener('click', open);
  q.addEventListener('blur', () => close());
  q.addEventListener('keydown', (e) => {
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      if (list.hidden) open();
      setActive(active + (e.key === 'ArrowDown' ? 1 : -1));
    } else if (e.key === 'Enter') {
      // Enter chooses; it never submits the form from here.
      e.preventDefault();
      if (!list.hidden && active >= 0 && shown[active]) pick(shown[active]);
      else if (!list.hidden && shown.length === 1) pick(shown[0]);
      else open();
    } else if (e.key === 'Escape' && !list.hidden) {
      e.preventDefault();
      e.stopPropagation(); // close the list, not the dialog
      close();
    }
  });
  drawChosen();
  return {
    el: wrap,
    value: () => chosen,
    /** Is the choice fit to save? If not, says why (a gone department says so above) and focuses the search. */
    check: () => {
      const gone = chosen && depts.length && !byId.has(chosen);
      if (!gone && (chosen || !required)) return true;
      error.textContent = gone ? '' : t('adm.dept.required', { label });
      wrap.closest('.field')?.classList.add('invalid');
      q.focus();
      return false;
    },
  };
}

export class AdminView {
  constructor() {
    this.allowed = null; // null: not yet known
    this.tabLinks = {};
    this.depts = null;
    const tabs = h('nav', { class: 'adm-tabs', 'aria-label': t('adm.tabs') },
      TABS.map((id) => {
        const a = h('a', { href: '#/admin/' + id, class: 'adm-tab', 'data-tab': id }, t('adm.tab.' + id));
        this.tabLinks[id] = a;
        return a;
      }));
    this.body = h('div', { class: 'adm-body', 'aria-live': 'polite' });
    this.el = h('section', { class: 'admin', 'aria-labelledby': 'adm-title' },
      h('header', { class: 'pane-head' }, h('h1', { id: 'adm-title' }, t('nav.admin'))),
      tabs, this.body);
  }

  async show(rest) {
    const seq = this.seq = (this.seq || 0) + 1;
    if (this.allowed === null) {
      mount(this.body, loading());
      const allowed = await adminTabs();
      if (seq !== this.seq) return;
      this.allowed = allowed;
      for (const [id, a] of Object.entries(this.tabLinks)) a.hidden = !this.allowed.includes(id);
    }
    if (!this.allowed.length) { mount(this.body, h('p', { class: 'muted' }, t('adm.notadmin'))); return; }
    const want = TABS.includes(rest[0]) ? rest[0] : this.allowed[0];
    const tab = this.allowed.includes(want) ? want : this.allowed[0];
    for (const [id, a] of Object.entries(this.tabLinks)) {
      if (id === tab) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
    }
    this.tab = tab;
    const el = h('div', { class: 'adm-pane', 'data-pane': tab });
    mount(this.body, el);
    const render = { org: () => this.orgTab(el), roles: () => this.rolesTab(el), apps: () => this.appsTab(el), audit: () => this.auditTab(el), settings: () => this.settingsTab(el) }[tab];
    render();
  }

  async departments(fresh) {
    if (!this.depts || fresh) this.depts = await org.departments();
    return this.depts;
  }

  // ---------- org chart and CSV import ----------

  orgTab(el) {
    const treeBox = h('div', { class: 'adm-tree' }, loading());
    const staffBox = h('div', { class: 'adm-staff' }, h('p', { class: 'muted' }, t('adm.org.pick')));
    const loadTree = async (fresh) => {
      try {
        const depts = await this.departments(fresh);
        mount(treeBox, h('ul', { class: 'adm-dept-list', role: 'list', 'aria-label': t('adm.org.tree') }, treeOrder(depts).map(({ d, level }) => h('li', null,
          indent(h('button', { type: 'button', class: 'adm-dept', 'data-dept': d.id, onclick: (e) => pick(d, e.currentTarget) },
            h('span', null, d.name), h('span', { class: 'muted small-text' }, String(d.member_count || 0))), level)))));
      } catch (e) { mount(treeBox, err(e)); }
    };
    const pick = async (d, btn) => {
      for (const b of treeBox.querySelectorAll('.adm-dept[aria-pressed]')) b.removeAttribute('aria-pressed');
      btn.setAttribute('aria-pressed', 'true');
      mount(staffBox, loading());
      try {
        const staff = await org.staffOf(d.id);
        mount(staffBox, h('h3', null, d.path || d.name, ' ', h('span', { class: 'count' }, t('adm.org.count', { n: staff.length }))),
          staff.length ? h('ul', { class: 'people-list', role: 'list' }, staff.map((s) => h('li', null,
            h('a', { class: 'person-row', href: '#/directory/person/' + encodeURIComponent(s.id) }, avatar(s.id, s.name, 28),
              h('span', null, s.name), h('span', { class: 'muted small-text' }, [s.employee_no, s.position].filter(Boolean).join(' · '))))))
            : h('p', { class: 'muted' }, t('adm.org.nostaff')));
      } catch (e) { mount(staffBox, err(e)); }
    };
    mount(el,
      h('section', { class: 'adm-card', 'aria-labelledby': 'adm-import-title' },
        h('h2', { id: 'adm-import-title' }, t('adm.import.title')),
        this.importForm(() => loadTree(true))),
      h('section', { class: 'adm-card', 'aria-labelledby': 'adm-tree-title' },
        h('h2', { id: 'adm-tree-title' }, t('adm.org.tree')),
        h('div', { class: 'adm-org' }, treeBox, staffBox)));
    loadTree(false);
  }

  importForm(onApplied) {
    const file = h('input', { type: 'file', id: 'adm-csv', accept: '.csv,text/csv', 'data-testid': 'import-file' });
    const full = h('input', { type: 'checkbox', id: 'adm-full' });
    const result = h('div', { class: 'adm-import-result', 'data-testid': 'import-result' });
    const preview = h('button', { type: 'submit', class: 'primary', 'data-testid': 'import-preview' }, t('adm.import.preview'));
    let planned = null; // the file and mode the shown dry run was made for
    const run = async (dryRun) => {
      const f = file.files && file.files[0];
      if (!f) { mount(result, h('p', { class: 'form-error', role: 'alert' }, t('adm.import.nofile'))); return; }
      preview.disabled = true;
      mount(result, loading());
      try {
        const plan = await importCSV(f, { dryRun, full: full.checked });
        if (dryRun) {
          planned = { f, full: full.checked };
          mount(result, this.planView(plan, true),
            h('div', { class: 'form-actions' },
              h('button', { type: 'button', class: 'primary', 'data-testid': 'import-apply', disabled: !changed(plan), onclick: () => apply() }, t('adm.import.apply')),
              h('button', { type: 'button', onclick: () => { planned = null; mount(result); } }, t('common.cancel'))));
        } else {
          mount(result, h('p', { class: 'adm-ok', role: 'status' }, plan.applied ? t('adm.import.done', { v: plan.version || '' }) : t('adm.import.nochange')), this.planView(plan, false));
          onApplied();
        }
      } catch (e) {
        const lines = (e.details && e.details.errors) || [];
        mount(result, err(e), lines.length ? h('ul', { class: 'adm-errors' }, lines.map((l) =>
          h('li', null, l.line ? t('adm.import.line', { n: l.line }) : l.ref || '', ' · ', l.column, ': ', l.message))) : null);
      } finally { preview.disabled = false; }
    };
    const apply = () => {
      // The applied file is the previewed one: a changed choice needs a new preview.
      if (!planned || planned.f !== (file.files && file.files[0]) || planned.full !== full.checked) { run(true); return; }
      run(false);
    };
    const changed = (p) => (p.new_departments || []).length + (p.adds || []).length + (p.updates || []).length + (p.moves || []).length + (p.leavers || []).length > 0;
    file.addEventListener('change', () => { planned = null; mount(result); });
    full.addEventListener('change', () => { planned = null; mount(result); });
    return h('form', { class: 'adm-import', onsubmit: (e) => { e.preventDefault(); run(true); } },
      h('p', { class: 'muted small-text' }, t('adm.import.help')),
      h('div', { class: 'field' }, h('label', { for: 'adm-csv', class: 'field-label' }, t('adm.import.file')), file),
      h('label', { class: 'check' }, full, t('adm.import.full')),
      h('div', { class: 'form-actions' }, preview),
      result);
  }

  planView(p, dry) {
    const sec = (key, items, line) => (items && items.length
      ? h('section', { class: 'adm-plan-sec', 'data-plan': key },
        h('h4', null, t('adm.plan.' + key), ' ', h('span', { class: 'count' }, String(items.length))),
        h('ul', null, items.map(line)))
      : null);
    const who = (x) => [x.name, x.employee_no && '(' + x.employee_no + ')'].filter(Boolean).join(' ');
    const n = (k) => (p[k] || []).length;
    return h('div', { class: 'adm-plan', 'data-testid': dry ? 'import-plan' : 'import-applied' },
      h('p', { class: 'adm-plan-sum' }, t(dry ? 'adm.plan.dry' : 'adm.plan.done', {
        depts: n('new_departments'), adds: n('adds'), updates: n('updates'), moves: n('moves'), leavers: n('leavers'), same: p.unchanged || 0,
      })),
      sec('new_departments', p.new_departments, (d) => h('li', null, d)),
      sec('adds', p.adds, (x) => h('li', null, who(x), ' → ', (x.to || []).join('; '))),
      sec('updates', p.updates, (x) => h('li', null, who(x), ': ', (x.fields || []).join(', '))),
      sec('moves', p.moves, (x) => h('li', null, who(x), ': ', (x.from || []).join('; '), ' → ', (x.to || []).join('; '))),
      sec('leavers', p.leavers, (x) => h('li', { class: 'adm-leaver' }, who(x), ' ', (x.from || []).join('; '))));
  }

  // ---------- roles ----------

  rolesTab(el) {
    const list = h('div', null, loading());
    const personBox = h('div', { class: 'adm-person', 'data-testid': 'role-person' });
    const q = h('input', { type: 'search', id: 'adm-role-q', placeholder: t('dir.search'), autocomplete: 'off', 'data-testid': 'role-search' });
    const hits = h('ul', { class: 'people-list', role: 'list' });
    let all = [];
    const search = async () => {
      const s = q.value.trim();
      if (!s) { mount(hits); return; }
      try {
        const found = (await org.search(s)).slice(0, 10);
        mount(hits, found.length ? found.map((p) => h('li', null, h('button', { type: 'button', class: 'person-row', 'data-person': p.id, onclick: () => openPerson(p) },
          avatar(p.id, p.name, 28), h('span', null, p.name), h('span', { class: 'muted small-text' }, [p.position, p.primary_department].filter(Boolean).join(' · ')))))
          : h('li', { class: 'muted' }, t('adm.noresult')));
      } catch (e) { mount(hits, h('li', null, err(e))); }
    };
    const openPerson = async (p) => {
      people.remember(p.id, { name: p.name });
      mount(hits);
      mount(personBox, loading());
      let mine;
      try { mine = await roles.of(p.id); } catch (e) { mount(personBox, err(e)); return; }
      const status = h('p', { role: 'status', class: 'adm-ok' });
      const pickRole = h('select', { id: 'adm-grant-role', 'data-testid': 'grant-role' },
        all.filter((r) => r.name !== 'system_admin' && !mine.includes(r.name)).map((r) => h('option', { value: r.name }, roleLabel(r.name))));
      const redraw = (msg) => { openPerson(p).then(() => { const s = personBox.querySelector('[role=status]'); if (s) s.textContent = msg; }); };
      mount(personBox,
        h('h3', null, avatar(p.id, p.name, 28), ' ', p.name),
        h('ul', { class: 'chips', 'aria-label': t('adm.roles.held'), 'data-testid': 'held-roles' }, mine.length ? mine.map((r) => h('li', { class: 'chip', 'data-role': r }, roleLabel(r), ' ',
          h('button', { type: 'button', class: 'link', 'aria-label': t('adm.roles.revoke', { role: roleLabel(r), name: p.name }), onclick: async (e) => {
            if (!confirm(t('adm.roles.revoke', { role: roleLabel(r), name: p.name }) + '?')) return;
            e.currentTarget.disabled = true;
            try { await roles.revoke(p.id, r); redraw(t('adm.roles.revoked', { role: roleLabel(r) })); } catch (x) { mount(status, x.display); }
          } }, '×'))) : h('li', { class: 'muted' }, t('adm.roles.none'))),
        pickRole.options.length ? h('form', { class: 'adm-inline', onsubmit: async (e) => {
          e.preventDefault();
          try { await roles.grant(p.id, pickRole.value); redraw(t('adm.roles.granted', { role: roleLabel(pickRole.value) })); } catch (x) { status.textContent = x.display; }
        } }, h('label', { for: 'adm-grant-role', class: 'field-label' }, t('adm.roles.grant')), pickRole,
        h('button', { type: 'submit', class: 'primary', 'data-testid': 'grant-submit' }, t('adm.roles.grant.do'))) : null,
        status);
    };
    mount(el,
      h('section', { class: 'adm-card', 'aria-labelledby': 'adm-people-title' },
        h('h2', { id: 'adm-people-title' }, t('adm.roles.person')),
        h('form', { class: 'adm-inline', onsubmit: (e) => { e.preventDefault(); search(); } },
          h('label', { for: 'adm-role-q', class: 'sr-only' }, t('dir.search')), q, h('button', { type: 'submit' }, t('adm.search'))),
        hits, personBox),
      h('section', { class: 'adm-card', 'aria-labelledby': 'adm-roles-title' },
        h('h2', { id: 'adm-roles-title' }, t('adm.roles.title')), list));
    const loadRoles = () => roles.list().then((rs) => {
      all = rs;
      mount(list, h('div', { class: 'adm-table-wrap' }, h('table', { class: 'adm-table', 'data-testid': 'roles-table' },
        h('thead', null, h('tr', null, h('th', { scope: 'col' }, t('adm.roles.name')), h('th', { scope: 'col' }, t('adm.roles.rules')), h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, t('adm.roles.actions'))))),
        h('tbody', null, rs.map((r) => h('tr', { 'data-role': r.name },
          h('th', { scope: 'row' }, roleLabel(r.name), h('div', { class: 'muted small-text' }, r.name, r.builtin ? ' · ' + t('adm.roles.builtin') : '', r.inherits ? ' · ' + t('adm.roles.inherits', { role: roleLabel(r.inherits) }) : ''),
            r.description && !r.builtin ? h('div', { class: 'small-text' }, r.description) : null),
          h('td', null, h('ul', { class: 'adm-rules' }, (r.rules || []).map((x) => h('li', { class: x.effect === 'deny' ? 'adm-deny' : null },
            h('code', null, x.object), ' ', h('code', null, x.action), x.effect === 'deny' ? ' ' + t('adm.roles.deny') : '')))),
          h('td', null, r.builtin ? null : h('button', { type: 'button', class: 'small danger', 'data-testid': 'role-delete', 'aria-label': t('adm.roles.delete.of', { role: r.name }), onclick: async (e) => {
            if (!confirm(t('adm.roles.delete.confirm', { role: r.name }))) return;
            e.currentTarget.disabled = true;
            try { await roles.remove(r.name); mount(createStatus, h('p', { class: 'adm-ok' }, t('adm.roles.deleted', { role: r.name }))); loadRoles(); } catch (x) { mount(createStatus, err(x)); e.currentTarget.disabled = false; }
          } }, t('adm.roles.delete')))))))));
      mount(inherits, h('option', { value: '' }, t('adm.roles.inherits.none')),
        rs.filter((r) => r.builtin && r.name !== 'system_admin').map((r) => h('option', { value: r.name }, roleLabel(r.name))));
    }, (e) => mount(list, err(e)));

    // A custom role: a name, what it starts from, and allow or deny rules.
    const createStatus = h('div', { role: 'status', 'data-testid': 'role-status' });
    const name = h('input', { type: 'text', id: 'rc-name', required: true, maxlength: 48, pattern: '[a-z][a-z0-9_]*', autocomplete: 'off', spellcheck: false, 'data-testid': 'role-name' });
    const desc = h('input', { type: 'text', id: 'rc-desc', maxlength: 200, 'data-testid': 'role-desc' });
    const inherits = h('select', { id: 'rc-inherits', 'data-testid': 'role-inherits' });
    const rulesBox = h('ol', { class: 'adm-rule-rows', 'aria-label': t('adm.roles.rules') });
    let n = 0;
    const ruleRow = () => {
      const i = ++n;
      const obj = h('input', { type: 'text', id: 'rc-obj-' + i, placeholder: 'roster.roster', autocomplete: 'off', spellcheck: false, 'data-testid': 'rule-object' });
      const act = h('input', { type: 'text', id: 'rc-act-' + i, placeholder: 'write', autocomplete: 'off', spellcheck: false, 'data-testid': 'rule-action' });
      const eff = h('select', { id: 'rc-eff-' + i, 'data-testid': 'rule-effect' }, h('option', { value: 'allow' }, t('adm.roles.allow')), h('option', { value: 'deny' }, t('adm.roles.deny.opt')));
      const li = h('li', { class: 'adm-rule-row' },
        h('label', { for: 'rc-obj-' + i, class: 'sr-only' }, t('adm.roles.object')), obj,
        h('label', { for: 'rc-act-' + i, class: 'sr-only' }, t('adm.roles.action')), act,
        h('label', { for: 'rc-eff-' + i, class: 'sr-only' }, t('adm.roles.effect')), eff,
        h('button', { type: 'button', class: 'link', 'aria-label': t('adm.roles.rule.remove'), onclick: () => li.remove() }, '×'));
      li.rule = () => ({ object: obj.value.trim(), action: act.value.trim(), effect: eff.value });
      rulesBox.append(li);
      return obj;
    };
    ruleRow();
    const createForm = h('form', { class: 'adm-role-form', novalidate: true, onsubmit: async (e) => {
      e.preventDefault();
      const def = { name: name.value.trim(), rules: [...rulesBox.children].map((li) => li.rule()).filter((r) => r.object || r.action) };
      if (desc.value.trim()) def.description = desc.value.trim();
      if (inherits.value) def.inherits = inherits.value;
      try {
        const r = await roles.create(def);
        mount(createStatus, h('p', { class: 'adm-ok' }, t('adm.roles.created', { role: r.name })));
        name.value = ''; desc.value = ''; mount(rulesBox); ruleRow();
        loadRoles();
      } catch (x) { mount(createStatus, err(x)); }
    } },
    h('div', { class: 'field' }, h('label', { for: 'rc-name', class: 'field-label' }, t('adm.roles.new.name')), name, h('p', { class: 'muted small-text' }, t('adm.roles.new.namehelp'))),
    h('div', { class: 'field' }, h('label', { for: 'rc-desc', class: 'field-label' }, t('adm.roles.new.desc')), desc),
    h('div', { class: 'field' }, h('label', { for: 'rc-inherits', class: 'field-label' }, t('adm.roles.new.inherits')), inherits),
    h('fieldset', { class: 'field' }, h('legend', { class: 'field-label' }, t('adm.roles.rules')), rulesBox,
      h('button', { type: 'button', 'data-testid': 'rule-add', onclick: () => ruleRow().focus() }, t('adm.roles.rule.add'))),
    h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'primary', 'data-testid': 'role-create' }, t('adm.roles.create'))),
    createStatus);
    el.append(h('section', { class: 'adm-card', 'aria-labelledby': 'adm-newrole-title' },
      h('h2', { id: 'adm-newrole-title' }, t('adm.roles.new')), createForm));
    loadRoles();
  }

  // ---------- apps ----------

  appsTab(el) {
    const installsBox = h('div', { 'data-testid': 'installs' }, loading());
    const catalogBox = h('div', { 'data-testid': 'catalog' }, loading());
    const keysBox = h('div', { 'data-testid': 'keys' }, loading());
    const category = h('select', { id: 'adm-cat' }, h('option', { value: '' }, t('adm.apps.allcats')));
    this.refreshApps = async () => {
      let installs = [];
      try { installs = await market.installs(); } catch (e) { mount(installsBox, err(e)); }
      this.installed = new Map(installs.map((i) => [i.app_id, i]));
      let cat = [];
      try { cat = await market.catalog(category.value); } catch (e) { mount(catalogBox, err(e)); }
      this.catalogApps = cat;
      if (!category.value) {
        const cats = [...new Set(cat.map((a) => a.category).filter(Boolean))].sort();
        mount(category, h('option', { value: '' }, t('adm.apps.allcats')), cats.map((c) => h('option', { value: c }, has('adm.cat.' + c) ? t('adm.cat.' + c) : c)));
      }
      this.renderInstalls(installsBox, installs);
      this.renderCatalog(catalogBox, cat);
    };
    category.addEventListener('change', () => this.refreshApps());
    mount(el,
      h('section', { class: 'adm-card', 'aria-labelledby': 'adm-installs-title' }, h('h2', { id: 'adm-installs-title' }, t('adm.apps.installed')), installsBox),
      h('section', { class: 'adm-card', 'aria-labelledby': 'adm-catalog-title' },
        h('div', { class: 'adm-card-head' }, h('h2', { id: 'adm-catalog-title' }, t('adm.apps.catalog')),
          h('label', { class: 'adm-inline' }, h('span', { class: 'field-label' }, t('adm.apps.category')), category)),
        catalogBox),
      h('section', { class: 'adm-card', 'aria-labelledby': 'adm-keys-title' }, h('h2', { id: 'adm-keys-title' }, t('adm.keys.title')), keysBox));
    this.refreshApps();
    this.renderKeys(keysBox);
  }

  async renderKeys(box) {
    let keys;
    try { keys = await market.keys(); } catch (e) { mount(box, err(e)); return; }
    const name = h('input', { type: 'text', id: 'adm-key-name', required: true, maxlength: 100, 'data-testid': 'key-name' });
    const key = h('input', { type: 'text', id: 'adm-key-pub', required: true, placeholder: 'ed25519-pub:…', spellcheck: 'false', 'data-testid': 'key-value' });
    const status = h('p', { role: 'status' });
    mount(box,
      h('p', { class: 'muted small-text' }, t('adm.keys.help')),
      keys.length ? h('ul', { class: 'adm-keys', role: 'list' }, keys.map((k) => h('li', { 'data-key': k.key_id },
        h('strong', null, k.name), ' ', h('code', { class: 'small-text' }, k.key_id), ' ',
        h('button', { type: 'button', class: 'small danger', onclick: async () => {
          if (!confirm(t('adm.keys.remove.confirm', { name: k.name }))) return;
          try { await market.removeKey(k.id); this.renderKeys(box); } catch (e) { status.textContent = e.display; }
        } }, t('adm.keys.remove'))))) : h('p', { class: 'muted' }, t('adm.keys.none')),
      h('form', { class: 'adm-keyform', onsubmit: async (e) => {
        e.preventDefault();
        try { await market.addKey(name.value, key.value.trim()); this.renderKeys(box); } catch (x) { mount(status, err(x)); }
      } },
      h('div', { class: 'field' }, h('label', { for: 'adm-key-name', class: 'field-label' }, t('adm.keys.name')), name),
      h('div', { class: 'field' }, h('label', { for: 'adm-key-pub', class: 'field-label' }, t('adm.keys.key')), key),
      h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'primary', 'data-testid': 'key-add' }, t('adm.keys.add')))),
      status);
  }

  renderCatalog(box, apps) {
    if (!apps.length) { mount(box, h('p', { class: 'muted' }, t('adm.apps.nocatalog'))); return; }
    mount(box, h('ul', { class: 'adm-catalog', role: 'list' }, apps.map((a) => {
      const inst = this.installed.get(a.id);
      return h('li', { class: 'adm-app', 'data-app': a.id },
        h('div', { class: 'adm-app-head' }, avatar(a.id, a.name, 44, true),
          h('div', null, h('h3', null, a.name), h('div', { class: 'muted small-text' }, a.publisher, a.category ? ' · ' + (has('adm.cat.' + a.category) ? t('adm.cat.' + a.category) : a.category) : ''))),
        a.description ? h('p', { class: 'adm-app-desc' }, a.description) : null,
        (a.screenshots || []).length ? h('div', { class: 'adm-shots' }, a.screenshots.map((_, i) =>
          h('img', { src: market.screenshotURL(a.id, i), alt: t('adm.apps.shot', { name: a.name, n: i + 1 }), loading: 'lazy', class: 'adm-shot' }))) : null,
        h('ul', { class: 'adm-versions', role: 'list', 'aria-label': t('adm.apps.versions') }, [...(a.versions || [])].reverse().map((v) => h('li', { 'data-version': v.version },
          h('div', { class: 'adm-version-head' }, h('strong', null, 'v' + v.version), v.released ? h('span', { class: 'muted small-text' }, ' ', v.released) : null,
            inst && inst.current.version === v.version ? h('span', { class: 'tag' }, t('adm.apps.current')) : null),
          v.notes ? h('p', { class: 'small-text' }, v.notes) : null,
          h('div', { class: 'small-text' }, t('adm.apps.asks'), ' ',
            (v.scopes || []).length ? h('ul', { class: 'chips adm-scopes' }, v.scopes.map((s) => h('li', { class: 'chip', title: s }, scopeLabel(s), ' ', h('code', null, s)))) : t('adm.apps.noscopes')),
          inst ? null : h('button', { type: 'button', class: 'primary small', 'data-testid': 'install-' + a.id + '-' + v.version, onclick: () => this.consent(a, v) }, t('adm.apps.install'))))));
    })));
  }

  /**
   * Settings inputs from a manifest's schema, labelled and described in the
   * UI's language when the manifest gives it. A department setting is picked
   * from the org chart (depts). Returns {el, values(), missing()}.
   */
  settingsForm(schema, current, prefix, depts) {
    const inputs = (schema || []).map((s) => {
      const id = prefix + '-' + s.key;
      const v = current && s.key in current ? current[s.key] : (s.default || '');
      const text = settingText(s);
      const descId = text.description ? id + '-desc' : null;
      const desc = descId ? h('p', { id: descId, class: 'muted small-text adm-set-desc' }, text.description) : null;
      const req = s.required ? h('span', { class: 'req', 'aria-hidden': 'true' }, ' *') : null;
      if (s.type === 'bool') {
        const input = h('input', { type: 'checkbox', id, checked: v === 'true', 'aria-describedby': descId });
        return { s, input, el: h('div', { class: 'field', 'data-setting': s.key }, h('label', { class: 'check' }, input, text.label), desc) };
      }
      if (s.type === 'department') {
        const picker = deptPicker(depts || [], { id, value: v, required: !!s.required, describedBy: descId, label: text.label });
        return { s, picker, el: h('div', { class: 'field', 'data-setting': s.key },
          h('label', { for: id, class: 'field-label' }, text.label, req), desc, picker.el) };
      }
      const input = h('input', { type: s.type === 'int' ? 'number' : s.type === 'secret' ? 'password' : 'text', id, value: v, required: !!s.required,
        step: s.type === 'int' ? '1' : null, autocomplete: 'off', 'aria-describedby': descId });
      return { s, input, el: h('div', { class: 'field', 'data-setting': s.key }, h('label', { for: id, class: 'field-label' }, text.label, req), desc, input) };
    });
    return {
      el: inputs.length ? h('fieldset', { class: 'adm-fieldset' }, h('legend', null, t('adm.apps.settings')), inputs.map((x) => x.el)) : null,
      values: () => {
        const out = {};
        for (const { s, input, picker } of inputs) {
          if (s.type === 'bool') out[s.key] = input.checked ? 'true' : 'false';
          else if (picker) { if (picker.value()) out[s.key] = picker.value(); }
          else if (input.value !== '') out[s.key] = input.value;
        }
        return out;
      },
      /** Is a department setting still to be chosen (marked and focused)? */
      missing: () => {
        for (const { picker } of inputs) if (picker && !picker.check()) return true;
        return false;
      },
    };
  }

  /** The grants chosen on a consent form: each requested scope, whole or narrowed to a department. */
  async grantsForm(scopes, current, prefix) {
    const depts = await this.departments();
    const rows = scopes.map((s) => {
      const had = current ? current.find((g) => g.scope === s) : null;
      const on = h('input', { type: 'checkbox', id: prefix + '-' + s, checked: current ? !!had : true, 'data-scope': s });
      let where = null;
      let dept = null;
      if (SUBTREE_SCOPES.has(s)) {
        dept = deptSelect(depts, { id: prefix + '-' + s + '-dept', 'aria-label': t('adm.consent.dept', { scope: scopeLabel(s) }), 'data-subtree': s, disabled: !(had && had.subtree) }, had && had.subtree);
        where = h('select', { id: prefix + '-' + s + '-where', 'aria-label': t('adm.consent.where', { scope: scopeLabel(s) }), 'data-where': s,
          onchange: () => { dept.disabled = where.value !== 'subtree'; } },
        h('option', { value: 'all', selected: !(had && had.subtree) }, t('adm.consent.all')),
        h('option', { value: 'subtree', selected: !!(had && had.subtree) }, t('adm.consent.subtree')));
      }
      return { s, on, where, dept, el: h('li', { class: 'adm-consent-row' },
        h('label', { class: 'check' }, on, h('span', null, scopeLabel(s), ' ', h('code', { class: 'muted small-text' }, s))),
        where ? h('div', { class: 'adm-consent-where' }, where, dept) : null) };
    });
    return {
      el: h('fieldset', { class: 'adm-fieldset' }, h('legend', null, t('adm.consent.scopes')),
        h('p', { class: 'muted small-text' }, t('adm.consent.help')),
        rows.length ? h('ul', { class: 'adm-consent' }, rows.map((r) => r.el)) : h('p', { class: 'muted' }, t('adm.apps.noscopes'))),
      grants: () => rows.filter((r) => r.on.checked).map((r) => (r.where && r.where.value === 'subtree' ? { scope: r.s, subtree: r.dept.value } : { scope: r.s })),
    };
  }

  async visibilityForm(current, prefix) {
    const depts = await this.departments();
    const everyone = h('input', { type: 'radio', name: prefix + '-vis', id: prefix + '-vis-all', value: 'all', checked: !current || current.everyone });
    const some = h('input', { type: 'radio', name: prefix + '-vis', id: prefix + '-vis-some', value: 'some', checked: !!current && !current.everyone });
    const list = deptSelect(depts, { id: prefix + '-vis-depts', multiple: true, size: 6, 'aria-label': t('adm.vis.depts'), disabled: !some.checked });
    for (const o of list.options) o.selected = !!(current && (current.departments || []).includes(o.value));
    const sync = () => { list.disabled = !some.checked; };
    everyone.addEventListener('change', sync);
    some.addEventListener('change', sync);
    return {
      el: h('fieldset', { class: 'adm-fieldset' }, h('legend', null, t('adm.vis.title')),
        h('label', { class: 'check' }, everyone, t('adm.vis.everyone')),
        h('label', { class: 'check' }, some, t('adm.vis.some')), list),
      value: () => (everyone.checked ? { everyone: true } : { everyone: false, departments: [...list.selectedOptions].map((o) => o.value), people: (current && current.people) || [] }),
    };
  }

  /** The consent screen: what the app asks for, what the admin grants, who sees it, its settings. */
  async consent(app, v) {
    const grants = await this.grantsForm(v.scopes || [], null, 'cs');
    const vis = await this.visibilityForm(null, 'cs');
    const settings = this.settingsForm(v.settings, null, 'cs-set', await this.departments());
    const enable = h('input', { type: 'checkbox', id: 'cs-enable', checked: true });
    const status = h('div', { role: 'alert' });
    const submit = h('button', { type: 'submit', class: 'primary', 'data-testid': 'consent-install' }, t('adm.consent.agree'));
    let dlg;
    const form = h('form', { class: 'adm-consent-form', 'data-testid': 'consent', onsubmit: async (e) => {
      e.preventDefault();
      if (settings.missing()) return;
      submit.disabled = true;
      mount(status, h('p', { class: 'muted' }, t('adm.consent.installing')));
      try {
        await market.install({ app_id: app.id, version: v.version, grants: grants.grants(), visibility: vis.value(), settings: settings.values(), enable: enable.checked });
        dlg.close();
        this.refreshApps();
      } catch (x) { mount(status, err(x)); submit.disabled = false; }
    } },
    h('p', null, t('adm.consent.intro', { name: app.name, v: v.version, publisher: app.publisher || '' })),
    grants.el, vis.el, settings.el,
    h('label', { class: 'check' }, enable, t('adm.consent.enable')),
    status,
    h('div', { class: 'form-actions' }, submit, h('button', { type: 'button', onclick: () => dlg.close() }, t('common.cancel'))));
    dlg = openDialog(t('adm.consent.title', { name: app.name }), form, { wide: true });
  }

  renderInstalls(box, installs) {
    if (!installs.length) { mount(box, h('p', { class: 'muted' }, t('adm.apps.noinstalls'))); return; }
    mount(box, h('ul', { class: 'adm-installs', role: 'list' }, installs.map((i) => {
      const m = i.current.manifest || {};
      const cat = (this.catalogApps || []).find((a) => a.id === i.app_id);
      const newer = cat ? (cat.versions || []).filter((v) => cmpVersion(v.version, i.current.version) > 0) : [];
      const act = (label, fn, attrs = {}) => h('button', { type: 'button', class: 'small', ...attrs, onclick: async (e) => {
        const b = e.currentTarget;
        b.disabled = true;
        try { await fn(); await this.refreshApps(); } catch (x) { mount(status, err(x)); b.disabled = false; }
      } }, label);
      const status = h('div', { role: 'status' });
      return h('li', { class: 'adm-install', 'data-install': i.id, 'data-app': i.app_id },
        h('div', { class: 'adm-app-head' }, avatar(i.app_id, m.name || i.app_id, 40, true),
          h('div', null, h('h3', null, m.name || i.app_id, ' ', h('span', { class: ['status', i.enabled ? 'st-approved' : 'st-withdrawn'], 'data-testid': 'install-state' }, t(i.enabled ? 'adm.apps.enabled' : 'adm.apps.disabled'))),
            h('div', { class: 'muted small-text' }, 'v' + i.current.version, m.publisher ? ' · ' + m.publisher : '', i.previous ? ' · ' + t('adm.apps.previous', { v: i.previous.version }) : ''))),
        h('div', { class: 'small-text' }, t('adm.apps.granted'), ' ', (i.current.grants || []).length
          ? h('ul', { class: 'chips adm-scopes' }, i.current.grants.map((g) => h('li', { class: 'chip' }, scopeLabel(g.scope), g.subtree ? ' · ' + this.deptName(g.subtree) : '')))
          : t('adm.apps.nogrants')),
        h('div', { class: 'small-text' }, t('adm.vis.title'), ': ', i.visibility.everyone ? t('adm.vis.everyone')
          : t('adm.vis.count', { d: (i.visibility.departments || []).length, p: (i.visibility.people || []).length })),
        h('div', { class: 'form-actions adm-actions' },
          i.enabled ? act(t('adm.apps.disable'), () => market.disable(i.id), { 'data-testid': 'disable' })
            : act(t('adm.apps.enable'), () => market.enable(i.id), { class: 'small primary', 'data-testid': 'enable' }),
          (m.settings || []).length ? h('button', { type: 'button', class: 'small', 'data-testid': 'settings', onclick: (e) => this.editSettings(i, e.currentTarget) }, t('adm.apps.settings')) : null,
          h('button', { type: 'button', class: 'small', onclick: () => this.editVisibility(i) }, t('adm.vis.title')),
          newer.map((v) => h('button', { type: 'button', class: 'small', onclick: () => this.upgrade(i, cat, v) }, t('adm.apps.upgrade', { v: v.version }))),
          i.previous ? act(t('adm.apps.rollback', { v: i.previous.version }), () => market.rollback(i.id)) : null,
          h('button', { type: 'button', class: 'small danger', onclick: () => this.uninstall(i) }, t('adm.apps.uninstall'))),
        status);
    })));
  }

  deptName(id) {
    const d = (this.depts || []).find((x) => x.id === id);
    return d ? d.path || d.name : id.slice(-6);
  }

  /** The settings dialog of an install; btn opened it and shows it is busy while the org chart loads. */
  async editSettings(i, btn) {
    const schema = i.current.manifest.settings || [];
    let depts = [];
    if (schema.some((s) => s.type === 'department')) {
      btn.disabled = true;
      try {
        depts = await this.departments();
      } catch (x) {
        mount(btn.closest('.adm-install').querySelector('[role=status]'), err(x));
        return;
      } finally { btn.disabled = false; }
    }
    const form = this.settingsForm(schema, i.current.settings || {}, 'st', depts);
    const status = h('div', { role: 'alert' });
    let dlg;
    dlg = openDialog(t('adm.apps.settings.title', { name: i.current.manifest.name }), h('form', { 'data-testid': 'settings-form', onsubmit: async (e) => {
      e.preventDefault();
      if (form.missing()) return;
      try { await market.settings(i.id, form.values()); dlg.close(); this.refreshApps(); } catch (x) { mount(status, err(x)); }
    } }, form.el, status, h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'primary' }, t('adm.save')), h('button', { type: 'button', onclick: () => dlg.close() }, t('common.cancel')))));
  }

  async editVisibility(i) {
    const form = await this.visibilityForm(i.visibility, 'vs');
    const status = h('div', { role: 'alert' });
    let dlg;
    dlg = openDialog(t('adm.vis.title'), h('form', { onsubmit: async (e) => {
      e.preventDefault();
      try { await market.visibility(i.id, form.value()); dlg.close(); this.refreshApps(); } catch (x) { mount(status, err(x)); }
    } }, form.el, status, h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'primary' }, t('adm.save')), h('button', { type: 'button', onclick: () => dlg.close() }, t('common.cancel')))));
  }

  /** An upgrade asks again only for the scopes the new version adds. */
  async upgrade(i, app, v) {
    const had = i.current.manifest.scopes || [];
    const added = (v.scopes || []).filter((s) => !had.includes(s));
    const grants = await this.grantsForm(v.scopes || [], i.current.grants, 'up');
    const status = h('div', { role: 'alert' });
    let dlg;
    dlg = openDialog(t('adm.apps.upgrade', { v: v.version }), h('form', { onsubmit: async (e) => {
      e.preventDefault();
      try { await market.upgrade(i.id, { version: v.version, grants: grants.grants() }); dlg.close(); this.refreshApps(); } catch (x) { mount(status, err(x)); }
    } },
    h('p', null, added.length ? t('adm.upgrade.new', { scopes: added.map(scopeLabel).join('、') }) : t('adm.upgrade.same')),
    grants.el, status,
    h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'primary' }, t('adm.consent.agree')), h('button', { type: 'button', onclick: () => dlg.close() }, t('common.cancel')))));
  }

  uninstall(i) {
    const keep = h('input', { type: 'radio', name: 'un-data', id: 'un-keep', checked: true });
    const drop = h('input', { type: 'radio', name: 'un-data', id: 'un-drop' });
    const status = h('div', { role: 'alert' });
    let dlg;
    dlg = openDialog(t('adm.apps.uninstall.title', { name: i.current.manifest.name || i.app_id }), h('form', { onsubmit: async (e) => {
      e.preventDefault();
      try { await market.uninstall(i.id, keep.checked); dlg.close(); this.refreshApps(); } catch (x) { mount(status, err(x)); }
    } },
    h('fieldset', { class: 'adm-fieldset' }, h('legend', null, t('adm.apps.uninstall.data')),
      h('label', { class: 'check' }, keep, t('adm.apps.uninstall.keep')),
      h('label', { class: 'check' }, drop, t('adm.apps.uninstall.drop'))),
    status,
    h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'danger' }, t('adm.apps.uninstall')), h('button', { type: 'button', onclick: () => dlg.close() }, t('common.cancel')))));
  }

  // ---------- audit ----------

  auditTab(el) {
    const action = h('input', { type: 'text', id: 'au-action', placeholder: 'marketplace.', 'data-testid': 'audit-action' });
    const objectType = h('input', { type: 'text', id: 'au-type' });
    const from = h('input', { type: 'date', id: 'au-from' });
    const to = h('input', { type: 'date', id: 'au-to' });
    const listBox = h('div', { 'data-testid': 'audit-list' });
    const verifyBox = h('div', { role: 'status', 'data-testid': 'audit-verify' });
    const exportLink = h('a', { class: 'button small', download: '' }, t('adm.audit.export'));
    const filter = () => {
      const f = { action: action.value.trim(), object_type: objectType.value.trim() };
      // Dates are the hospital's days in the browser's zone, sent as RFC 3339.
      if (from.value) f.from = new Date(from.value + 'T00:00:00').toISOString();
      if (to.value) { const d = new Date(to.value + 'T00:00:00'); d.setDate(d.getDate() + 1); f.to = d.toISOString(); }
      return f;
    };
    const load = async (cursor, append) => {
      const f = filter();
      exportLink.href = auditLog.exportURL({ ...f, format: 'csv' });
      if (!append) mount(listBox, loading());
      let r;
      try { r = await auditLog.list({ ...f, cursor, limit: 50 }); } catch (e) { mount(listBox, err(e)); return; }
      const rows = (r.items || []).map((e) => h('tr', { 'data-action': e.action, class: e.result !== 'ok' ? 'adm-bad' : null },
        h('td', null, h('time', { datetime: e.at }, fmtTime(e.at))),
        h('td', e.actor_id ? { 'data-actor': e.actor_id } : null, e.actor_id ? people.name(e.actor_id, e.actor_id.slice(-6)) : t('adm.audit.system')),
        h('td', null, h('code', null, e.action)),
        h('td', null, e.object_type || '', e.object_id ? ' ' + e.object_id.slice(-8) : ''),
        h('td', null, has('adm.audit.result.' + e.result) ? t('adm.audit.result.' + e.result) : e.result),
        h('td', { class: 'adm-details' }, e.details ? JSON.stringify(e.details) : '')));
      const more = r.next_cursor ? h('button', { type: 'button', class: 'small', onclick: (ev) => { ev.currentTarget.remove(); load(r.next_cursor, true); } }, t('adm.audit.more')) : null;
      if (append) {
        listBox.querySelector('tbody').append(...rows);
        if (more) listBox.append(more);
        return;
      }
      mount(listBox, rows.length ? h('div', { class: 'adm-table-wrap' }, h('table', { class: 'adm-table adm-audit' },
        h('thead', null, h('tr', null, ['time', 'actor', 'action', 'object', 'result', 'details'].map((c) => h('th', { scope: 'col' }, t('adm.audit.col.' + c))))),
        h('tbody', null, rows))) : h('p', { class: 'muted' }, t('adm.audit.none')), more);
    };
    // Names arrive after the rows: redraw the actor cells when they do.
    const off = people.on('change', () => { if (!el.isConnected) { off(); return; } for (const td of listBox.querySelectorAll('[data-actor]')) td.textContent = people.name(td.dataset.actor); });
    const verify = async () => {
      mount(verifyBox, loading());
      try {
        const r = await auditLog.verify();
        mount(verifyBox, r.ok ? h('p', { class: 'adm-ok' }, t('adm.audit.verify.ok', { n: r.checked, seq: r.last_seq }))
          : h('p', { class: 'form-error' }, t('adm.audit.verify.broken', { seq: r.broken_seq, problem: r.problem || '' })));
      } catch (e) {
        mount(verifyBox, h('p', { class: 'muted' }, e.status === 403 ? t('adm.audit.verify.forbidden') : e.display));
      }
    };
    const field = (id, label, input) => h('div', { class: 'field' }, h('label', { for: id, class: 'field-label' }, label), input);
    mount(el,
      h('section', { class: 'adm-card', 'aria-labelledby': 'au-title' },
        h('div', { class: 'adm-card-head' }, h('h2', { id: 'au-title' }, t('adm.tab.audit')),
          h('div', { class: 'form-actions' }, h('button', { type: 'button', 'data-testid': 'audit-verify-btn', onclick: verify }, t('adm.audit.verify')), exportLink)),
        verifyBox,
        h('form', { class: 'adm-filters', onsubmit: (e) => { e.preventDefault(); load('', false); } },
          field('au-action', t('adm.audit.action'), action), field('au-type', t('adm.audit.object'), objectType),
          field('au-from', t('adm.audit.from'), from), field('au-to', t('adm.audit.to'), to),
          h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'primary', 'data-testid': 'audit-filter' }, t('adm.audit.filter')))),
        listBox));
    load('', false);
  }

  // ---------- retention ----------

  async settingsTab(el) {
    const retBox = h('div', null, loading());
    const holdsBox = h('div', { 'data-testid': 'holds' }, loading());
    mount(el, retBox,
      h('section', { class: 'adm-card', 'aria-labelledby': 'hold-title' },
        h('h2', { id: 'hold-title' }, t('adm.hold.title')),
        h('p', { class: 'muted small-text' }, t('adm.hold.help')),
        this.holdForm(() => this.loadHolds(holdsBox)), holdsBox),
      h('section', { class: 'adm-card', 'aria-labelledby': 'exp-title' },
        h('h2', { id: 'exp-title' }, t('adm.exp.title')),
        h('p', { class: 'muted small-text' }, t('adm.exp.help')),
        this.exportForm()));
    this.loadHolds(holdsBox);
    let p;
    try { p = await retention.get(); } catch (e) { mount(retBox, err(e)); return; }
    const msg = h('input', { type: 'number', id: 'rt-msg', min: 0, step: 1, value: String(p.message_days || 0), required: true, 'data-testid': 'ret-messages' });
    const files = h('input', { type: 'number', id: 'rt-files', min: 0, step: 1, value: String(p.file_days || 0), required: true, 'data-testid': 'ret-files' });
    const status = h('div', { role: 'status', 'data-testid': 'ret-status' });
    mount(retBox, h('section', { class: 'adm-card', 'aria-labelledby': 'rt-title' },
      h('h2', { id: 'rt-title' }, t('adm.ret.title')),
      h('p', { class: 'muted small-text' }, t('adm.ret.help')),
      h('form', { class: 'adm-ret', onsubmit: async (e) => {
        e.preventDefault();
        try {
          const r = await retention.set(Number(msg.value), Number(files.value));
          mount(status, h('p', { class: 'adm-ok' }, t('adm.ret.saved', { m: r.message_days ? t('adm.ret.days', { n: r.message_days }) : t('adm.ret.forever'), f: r.file_days ? t('adm.ret.days', { n: r.file_days }) : t('adm.ret.forever') })));
        } catch (x) { mount(status, err(x)); }
      } },
      h('div', { class: 'field' }, h('label', { for: 'rt-msg', class: 'field-label' }, t('adm.ret.messages')), msg),
      h('div', { class: 'field' }, h('label', { for: 'rt-files', class: 'field-label' }, t('adm.ret.files')), files),
      h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'primary', 'data-testid': 'ret-save' }, t('adm.save')))),
      status));
  }

  /**
   * Whom a hold or an export is about: a person found in the directory, or a
   * conversation by its id. Returns the fields and a reader of the choice.
   */
  subjectPicker(prefix) {
    let person = null;
    const kind = h('select', { id: prefix + '-kind', 'data-testid': prefix + '-kind', onchange: () => sync() },
      h('option', { value: 'person' }, t('adm.subject.person')), h('option', { value: 'conversation' }, t('adm.subject.conversation')));
    const q = h('input', { type: 'search', id: prefix + '-q', autocomplete: 'off', placeholder: t('dir.search'), 'data-testid': prefix + '-q' });
    const hits = h('ul', { class: 'people-list', role: 'list' });
    const chosen = h('p', { class: 'adm-chosen', 'aria-live': 'polite', 'data-testid': prefix + '-chosen' });
    const conv = h('input', { type: 'text', id: prefix + '-conv', autocomplete: 'off', spellcheck: false, 'aria-describedby': prefix + '-conv-help', 'data-testid': prefix + '-conv' });
    const find = async () => {
      const text = q.value.trim();
      if (!text) { mount(hits); return; }
      try {
        const found = (await org.search(text)).slice(0, 8);
        mount(hits, found.length ? found.map((p) => h('li', null, h('button', { type: 'button', class: 'person-row', 'data-person': p.id, onclick: () => {
          person = p; mount(hits); mount(chosen, t('adm.subject.chosen', { name: p.name }));
        } }, avatar(p.id, p.name, 24), h('span', null, p.name), h('span', { class: 'muted small-text' }, [p.position, p.primary_department].filter(Boolean).join(' · ')))))
          : h('li', { class: 'muted' }, t('adm.noresult')));
      } catch (e) { mount(hits, h('li', null, err(e))); }
    };
    q.addEventListener('keydown', (e) => { if (e.key === 'Enter') { e.preventDefault(); find(); } });
    const personField = h('div', { class: 'field' }, h('label', { for: prefix + '-q', class: 'field-label' }, t('adm.subject.person')),
      h('div', { class: 'adm-inline' }, q, h('button', { type: 'button', 'data-testid': prefix + '-find', onclick: find }, t('adm.search'))), hits, chosen);
    const convField = h('div', { class: 'field' }, h('label', { for: prefix + '-conv', class: 'field-label' }, t('adm.subject.conversation.id')),
      h('p', { id: prefix + '-conv-help', class: 'muted small-text adm-set-desc' }, t('adm.subject.conversation.help')), conv);
    const sync = () => { personField.hidden = kind.value !== 'person'; convField.hidden = kind.value !== 'conversation'; };
    sync();
    return {
      fields: [h('div', { class: 'field' }, h('label', { for: prefix + '-kind', class: 'field-label' }, t('adm.subject')), kind), personField, convField],
      /** {user_id} or {conversation_id}, or null when nothing is chosen. */
      value: () => {
        if (kind.value === 'person') return person ? { user_id: person.id } : null;
        // A link to the conversation (…#/chat/{id}) names it as well as its id.
        const text = conv.value.trim();
        const id = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i.exec(text);
        return text ? { conversation_id: id ? id[0] : text } : null;
      },
      reset: () => { person = null; q.value = ''; conv.value = ''; mount(chosen); mount(hits); },
    };
  }

  holdForm(reload) {
    const who = this.subjectPicker('hold');
    const caseNo = h('input', { type: 'text', id: 'hold-case', maxlength: 100, required: true, 'data-testid': 'hold-case' });
    const reason = h('textarea', { id: 'hold-reason', rows: 2, maxlength: 500, required: true, 'data-testid': 'hold-reason' });
    const status = h('div', { role: 'status' });
    const submit = h('button', { type: 'submit', class: 'primary', 'data-testid': 'hold-submit' }, t('adm.hold.place'));
    return h('form', { class: 'adm-hold-form', novalidate: true, onsubmit: async (e) => {
      e.preventDefault();
      const subject = who.value();
      if (!subject) { mount(status, err({ message: t('adm.subject.pick') })); return; }
      submit.disabled = true;
      try {
        await retention.placeHold({ ...subject, case_number: caseNo.value.trim(), reason: reason.value.trim() });
        mount(status, h('p', { class: 'adm-ok' }, t('adm.hold.placed', { case: caseNo.value.trim() })));
        who.reset(); caseNo.value = ''; reason.value = '';
        reload();
      } catch (x) { mount(status, err(x)); }
      submit.disabled = false;
    } },
    who.fields,
    h('div', { class: 'field' }, h('label', { for: 'hold-case', class: 'field-label' }, t('adm.hold.case')), caseNo),
    h('div', { class: 'field' }, h('label', { for: 'hold-reason', class: 'field-label' }, t('adm.hold.reason')), reason),
    h('div', { class: 'form-actions' }, submit), status);
  }

  async loadHolds(box, released = this.showReleased) {
    this.showReleased = !!released;
    let hs;
    try { hs = await retention.holds(this.showReleased); } catch (e) { mount(box, err(e)); return; }
    const toggle = h('label', { class: 'adm-check' },
      h('input', { type: 'checkbox', checked: this.showReleased, 'data-testid': 'holds-released', onchange: (e) => this.loadHolds(box, e.target.checked) }),
      ' ', t('adm.hold.showreleased'));
    // Names arrive from the directory after the list is drawn.
    const nameEl = (id) => h('span', { 'data-person': id }, people.name(id, '…'));
    const subject = (x) => (x.user_id ? [t('adm.hold.of.person', { name: '' }), nameEl(x.user_id)] : t('adm.hold.of.conversation', { id: x.conversation_id }));
    if (this.holdsOff) this.holdsOff();
    const off = this.holdsOff = people.on('change', () => {
      if (!box.isConnected) { off(); return; }
      for (const el of box.querySelectorAll('[data-person]')) el.textContent = people.name(el.dataset.person, '…');
    });
    mount(box, toggle, hs.length ? h('ul', { class: 'adm-holds', role: 'list' }, hs.map((x) => h('li', { class: 'adm-hold', 'data-hold': x.id, 'data-case': x.case_number },
      h('div', null, h('strong', null, x.case_number), ' · ', subject(x),
        x.released_at ? h('span', { class: 'status st-done' }, ' ', t('adm.hold.released', { when: fmtTime(x.released_at) })) : h('span', { class: 'status st-pending' }, ' ', t('adm.hold.active'))),
      h('div', { class: 'muted small-text' }, x.reason, ' · ', t('adm.hold.placedby', { who: people.name(x.placed_by, '…'), when: fmtTime(x.placed_at) })),
      x.released_at ? null : h('button', { type: 'button', class: 'small', 'data-testid': 'hold-release', 'aria-label': t('adm.hold.release.of', { case: x.case_number }), onclick: async (e) => {
        if (!confirm(t('adm.hold.release.confirm', { case: x.case_number }))) return;
        e.currentTarget.disabled = true;
        try { await retention.releaseHold(x.id); this.loadHolds(box); } catch (y) { mount(box, err(y)); }
      } }, t('adm.hold.release')))))
      : h('p', { class: 'muted' }, t('adm.hold.none')));
  }

  exportForm() {
    const who = this.subjectPicker('exp');
    const from = h('input', { type: 'date', id: 'exp-from', 'data-testid': 'exp-from' });
    const to = h('input', { type: 'date', id: 'exp-to', 'data-testid': 'exp-to' });
    const format = h('select', { id: 'exp-format', 'data-testid': 'exp-format' },
      h('option', { value: 'csv' }, t('adm.exp.csv')), h('option', { value: 'jsonl' }, t('adm.exp.jsonl')));
    const status = h('div', { role: 'status', 'data-testid': 'exp-status' });
    const submit = h('button', { type: 'submit', class: 'primary', 'data-testid': 'exp-submit' }, t('adm.exp.do'));
    // A day in the hospital's time (China has one time zone), "to" inclusive.
    const day = (v, next) => {
      if (!v) return undefined;
      const d = new Date(v + 'T00:00:00+08:00');
      if (next) d.setUTCDate(d.getUTCDate() + 1);
      return d.toISOString().replace('.000Z', 'Z');
    };
    return h('form', { class: 'adm-exp-form', novalidate: true, onsubmit: async (e) => {
      e.preventDefault();
      const subject = who.value();
      if (!subject) { mount(status, err({ message: t('adm.subject.pick') })); return; }
      submit.disabled = true;
      mount(status, h('p', { class: 'muted' }, t('adm.exp.running')));
      try {
        const body = { ...subject, format: format.value };
        if (from.value) body.from = day(from.value, false);
        if (to.value) body.to = day(to.value, true);
        const { blob, name } = await retention.exportMessages(body);
        const url = URL.createObjectURL(blob);
        const a = h('a', { href: url, download: name, 'data-testid': 'exp-file' }, t('adm.exp.save', { name }));
        mount(status, h('p', { class: 'adm-ok' }, t('adm.exp.ready', { size: Math.max(1, Math.round(blob.size / 1024)) }), ' ', a));
        a.click();
      } catch (x) { mount(status, err(x)); }
      submit.disabled = false;
    } },
    who.fields,
    h('div', { class: 'adm-inline' },
      h('div', { class: 'field' }, h('label', { for: 'exp-from', class: 'field-label' }, t('adm.exp.from')), from),
      h('div', { class: 'field' }, h('label', { for: 'exp-to', class: 'field-label' }, t('adm.exp.to')), to),
      h('div', { class: 'field' }, h('label', { for: 'exp-format', class: 'field-label' }, t('adm.exp.format')), format)),
    h('div', { class: 'form-actions' }, submit), status);
  }
}

/** Compare semantic versions "1.2.3" (pre-release tags sort before the release). */
export function cmpVersion(a, b) {
  const split = (v) => { const [core, pre] = String(v).split('-', 2); return { n: core.split('.').map(Number), pre }; };
  const x = split(a); const y = split(b);
  for (let i = 0; i < 3; i++) if ((x.n[i] || 0) !== (y.n[i] || 0)) return (x.n[i] || 0) < (y.n[i] || 0) ? -1 : 1;
  if (x.pre === y.pre) return 0;
  if (!x.pre) return 1;
  if (!y.pre) return -1;
  return x.pre < y.pre ? -1 : 1;
}

