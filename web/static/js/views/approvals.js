// Approvals: start a request from a template (the form rendered from its
// schema, errors shown at the field), my pending / decided / submitted / CC
// lists, approve or reject with a comment, and a request's timeline.
import { h, mount, avatar } from '../h.js';
import { t, fmtTime, has } from '../i18n.js';
import { get, post, qs } from '../api.js';
import { org } from '../orgapi.js';
import { people } from '../people.js';
import { session } from '../session.js';
import { icon } from '../icons.js';
import { uuid, debounce } from '../util.js';

const enc = encodeURIComponent;
const A = '/api/v1/approvals';
const LISTS = ['pending', 'done', 'submitted', 'cc'];

/** Labels and options of the built-in templates are English codes; show them in the reader's language when we know them. */
function label(s) { return has('ap.label.' + s) ? t('ap.label.' + s) : s; }
function option(s) { return has('ap.opt.' + s) ? t('ap.opt.' + s) : s; }

export class ApprovalsView {
  constructor() {
    this.counts = {};
    this.navEl = h('ul', { class: 'ap-nav', role: 'list' });
    this.listPane = h('aside', { class: 'list-pane', 'aria-label': t('nav.approvals') },
      h('header', { class: 'pane-head' }, h('h1', null, t('nav.approvals'))),
      this.navEl);
    this.titleEl = h('h2', { id: 'ap-title', class: 'conv-title' });
    this.body = h('div', { class: 'dir-body ap-body' });
    this.detail = h('section', { class: 'msg-pane', 'aria-labelledby': 'ap-title' },
      h('header', { class: 'msg-head' },
        h('a', { href: '#/approvals', class: 'back icon-btn', 'aria-label': t('common.back') }, icon('back', 24)),
        h('div', { class: 'msg-head-text' }, this.titleEl)),
      this.body);
    this.el = h('div', { class: 'split approvals', 'data-pane': 'list' }, this.listPane, this.detail);
    this.renderNav('pending');
    this.refreshCounts();
  }

  show(rest) {
    const [what, arg] = rest;
    this.el.dataset.pane = what ? 'detail' : 'list';
    if (what === 'new' && arg) return this.openForm(arg);
    if (what === 'new') return this.openTemplates();
    if (what === 'r' && arg) return this.openRequest(arg);
    if (what === 'list' && LISTS.includes(arg)) return this.openList(arg);
    // Desktop opens the pending list beside the menu; the phone shows the menu.
    this.openList('pending', true);
  }

  renderNav(active) {
    const item = (id, href, text, count) => h('li', null, h('a', {
      href, class: 'conv-item ap-nav-item', 'aria-current': active === id ? 'true' : null, 'data-ap': id,
    }, h('span', { class: 'conv-name' }, text), count ? h('span', { class: 'badge' }, String(count)) : null));
    mount(this.navEl,
      item('new', '#/approvals/new', t('ap.new')),
      LISTS.map((k) => item(k, '#/approvals/list/' + k, t('ap.list.' + k), k === 'pending' ? this.counts.pending : 0)));
  }

  async refreshCounts() {
    try {
      const r = await get(A + '/me/pending' + qs({ limit: 100 }));
      this.counts.pending = (r.items || []).length;
      this.renderNav(this.active);
      const b = document.querySelector('[data-badge="approvals"]');
      if (b) { b.hidden = !this.counts.pending; b.textContent = String(this.counts.pending); }
    } catch { /* the list will show the error */ }
  }

  setActive(id, title) {
    this.active = id;
    this.renderNav(id);
    this.titleEl.textContent = title;
  }

  // ---------- templates and the form ----------

  async openTemplates() {
    this.setActive('new', t('ap.new'));
    mount(this.body, h('p', { class: 'muted' }, t('common.loading')));
    try {
      const r = await get(A + '/templates');
      const list = (r.items || []).filter((x) => !x.disabled);
      mount(this.body, h('ul', { class: 'tpl-grid', role: 'list' }, list.map((tp) => h('li', null,
        h('a', { class: 'tpl-card', href: '#/approvals/new/' + enc(tp.code), 'data-template': tp.code },
          h('span', { class: 'tpl-icon' }, icon('approvals', 24)),
          h('span', { class: 'tpl-name' }, tp.name),
          tp.description ? h('span', { class: 'muted small-text' }, tp.description) : null)))));
    } catch (e) {
      mount(this.body, h('p', { class: 'form-error' }, e.display));
    }
  }

  async openForm(code) {
    this.setActive('new', t('ap.new'));
    mount(this.body, h('p', { class: 'muted' }, t('common.loading')));
    let tp;
    try { tp = await get(A + '/templates/' + enc(code)); } catch (e) { mount(this.body, h('p', { class: 'form-error' }, e.display)); return; }
    this.titleEl.textContent = tp.name;
    const fields = (tp.schema && tp.schema.fields) || [];
    const inputs = new Map(); // key → {get(), setError(msg), focus()}
    const chosenNodes = ((tp.flow && tp.flow.nodes) || []).filter((n) => n.kind === 'approve' && n.approver === 'chosen');
    const chosen = new Map();
    const formError = h('p', { class: 'form-error', role: 'alert' });
    // One action id per form: a double click or a retry after a lost reply
    // submits once.
    const actionId = uuid();
    const submit = h('button', { type: 'submit', class: 'primary' }, t('ap.submit'));
    const form = h('form', {
      class: 'ap-form', novalidate: true, 'aria-labelledby': 'ap-title',
      onsubmit: async (e) => {
        e.preventDefault();
        formError.textContent = '';
        const values = {};
        let first = null;
        for (const f of fields) {
          if (f.type === 'computed') continue;
          const ctl = inputs.get(f.key);
          ctl.setError('');
          const v = ctl.get();
          const empty = v === undefined || v === '' || v === null || (Array.isArray(v) && !v.length) || (f.type === 'date_range' && (!v.start || !v.end));
          if (empty) {
            if (f.required) { ctl.setError(t('ap.required', { label: label(f.label) })); first = first || ctl; }
            continue;
          }
          if (f.type === 'date_range' && v.end < v.start) { ctl.setError(t('ap.range.order')); first = first || ctl; continue; }
          values[f.key] = v;
        }
        const chosenOut = {};
        for (const n of chosenNodes) {
          const ids = chosen.get(n.id) ? chosen.get(n.id).get() : [];
          if (!ids.length) { chosen.get(n.id).setError(t('ap.choose.required')); first = first || chosen.get(n.id); continue; }
          chosenOut[n.id] = ids;
        }
        if (first) { first.focus(); return; }
        submit.disabled = true;
        try {
          const body = { action_id: actionId, template_code: tp.code, form: values };
          if (chosenNodes.length) body.chosen = chosenOut;
          const out = await post(A + '/requests', body);
          this.refreshCounts();
          location.hash = '#/approvals/r/' + enc(out.request_id);
        } catch (err) {
          submit.disabled = false;
          const field = err.details && err.details.field;
          const m = field && /^form\.([a-z0-9_]+)/.exec(field);
          if (m && inputs.has(m[1])) { inputs.get(m[1]).setError(err.message); inputs.get(m[1]).focus(); } else formError.textContent = err.display;
        }
      },
    },
    tp.description ? h('p', { class: 'muted' }, tp.description) : null,
    fields.map((f) => {
      const ctl = this.field(f);
      inputs.set(f.key, ctl);
      return ctl.el;
    }),
    chosenNodes.map((n) => {
      const ctl = this.personPicker('chosen-' + n.id, t('ap.choose', { node: n.name || n.id }), true, true);
      chosen.set(n.id, ctl);
      return ctl.el;
    }),
    formError,
    h('div', { class: 'form-actions' }, submit, h('a', { class: 'button', href: '#/approvals/new' }, t('common.cancel'))));
    mount(this.body, form);
    const firstInput = form.querySelector('input, select, textarea');
    if (firstInput) firstInput.focus();
  }

  /** One form field: the control, its label, its inline error. */
  field(f, prefix = 'f') {
    const id = prefix + '-' + f.key;
    const errId = id + '-err';
    const err = h('p', { class: 'field-error', id: errId, role: 'alert' });
    const req = f.required ? h('span', { class: 'req', 'aria-hidden': 'true' }, ' *') : null;
    const common = { id, name: f.key, 'aria-describedby': errId, required: f.required || null };
    let control;
    let getter;
    let focusEl;
    switch (f.type) {
      case 'long_text':
        control = h('textarea', { ...common, rows: '3', maxlength: f.max || 5000 });
        getter = () => control.value.trim();
        break;
      case 'number':
      case 'money':
        control = h('input', { ...common, type: 'number', inputmode: 'decimal', step: f.type === 'money' ? '0.01' : 'any', min: f.min ?? null, max: f.max ?? null });
        getter = () => (control.value === '' ? '' : Number(control.value));
        break;
      case 'date':
        control = h('input', { ...common, type: 'date' });
        getter = () => control.value;
        break;
      case 'time':
        control = h('input', { ...common, type: 'time' });
        getter = () => control.value;
        break;
      case 'date_range': {
        const start = h('input', { id, type: 'date', 'aria-label': label(f.label) + ' · ' + t('ap.range.start'), 'aria-describedby': errId });
        const end = h('input', { type: 'date', 'aria-label': label(f.label) + ' · ' + t('ap.range.end'), 'aria-describedby': errId });
        control = h('div', { class: 'range' }, start, h('span', { 'aria-hidden': 'true' }, '—'), end);
        getter = () => ({ start: start.value, end: end.value });
        focusEl = start;
        break;
      }
      case 'select':
        control = h('select', common, h('option', { value: '' }, t('ap.pick')), (f.options || []).map((o) => h('option', { value: o }, option(o))));
        getter = () => control.value;
        break;
      case 'multi_select': {
        const boxes = (f.options || []).map((o) => h('label', { class: 'check' }, h('input', { type: 'checkbox', value: o }), ' ', option(o)));
        control = h('fieldset', { class: 'checks', id, 'aria-describedby': errId }, h('legend', { class: 'sr-only' }, label(f.label)), boxes);
        getter = () => boxes.map((b) => b.querySelector('input')).filter((i) => i.checked).map((i) => i.value);
        focusEl = control.querySelector('input');
        break;
      }
      case 'person': {
        const picker = this.personPicker(id, null, false, false);
        control = picker.el;
        getter = () => picker.get()[0] || '';
        focusEl = picker.input;
        break;
      }
      case 'department': {
        control = h('select', common, h('option', { value: '' }, t('ap.pick')));
        org.departments().then((ds) => { for (const d of ds) control.appendChild(h('option', { value: d.id }, d.path || d.name)); }).catch(() => {});
        getter = () => control.value;
        break;
      }
      case 'computed':
        control = h('output', { id, class: 'muted' }, t('ap.computed'));
        getter = () => undefined;
        break;
      case 'attachment':
        control = h('p', { id, class: 'muted small-text' }, t('ap.attach.later'));
        getter = () => undefined;
        break;
      case 'detail': {
        const rows = h('div', { class: 'detail-rows' });
        const rowCtls = [];
        const addRow = () => {
          const n = rowCtls.length;
          const cols = (f.columns || []).map((c) => ({ key: c.key, ctl: this.field(c, `${id}-${n}`) }));
          const row = { cols, el: h('div', { class: 'detail-row' }, h('div', { class: 'detail-head' }, t('ap.row', { n: n + 1 }),
            h('button', { type: 'button', class: 'link', onclick: () => { row.el.remove(); rowCtls.splice(rowCtls.indexOf(row), 1); } }, t('ap.row.remove'))), cols.map((c) => c.ctl.el)) };
          rowCtls.push(row);
          rows.appendChild(row.el);
        };
        addRow();
        control = h('div', { id, class: 'detail' }, rows, h('button', { type: 'button', class: 'small', onclick: addRow }, '+ ', t('ap.row.add')));
        getter = () => rowCtls.map((r) => Object.fromEntries(r.cols.map((c) => [c.key, c.ctl.get()]).filter(([, v]) => v !== '' && v !== undefined)))
          .filter((r) => Object.keys(r).length);
        focusEl = control.querySelector('input, select, textarea');
        break;
      }
      default:
        control = h('input', { ...common, type: 'text', maxlength: f.max || 200 });
        getter = () => control.value.trim();
    }
    const el = h('div', { class: 'field', 'data-field': f.key },
      h('label', { for: id, class: 'field-label' }, label(f.label), req),
      control, err);
    const target = focusEl || control;
    return {
      el,
      get: getter,
      focus: () => target && target.focus && target.focus(),
      setError: (msg) => {
        err.textContent = msg;
        el.classList.toggle('invalid', !!msg);
        if (target && target.setAttribute) target.setAttribute('aria-invalid', msg ? 'true' : 'false');
      },
    };
  }

  /** A directory search that picks one or more people. */
  personPicker(id, title, multi, withLabel) {
    const picked = [];
    const chips = h('div', { class: 'chips' });
    const results = h('ul', { class: 'mention-box picker-results', role: 'listbox', hidden: true });
    const errId = id + '-err';
    const err = h('p', { class: 'field-error', id: errId, role: 'alert' });
    const input = h('input', {
      id, type: 'search', placeholder: t('ap.person.search'), autocomplete: 'off', 'aria-describedby': errId,
      oninput: debounce(async () => {
        const q = input.value.trim();
        if (!q) { results.hidden = true; return; }
        try {
          const hits = (await org.search(q)).slice(0, 8);
          mount(results, hits.map((p) => h('li', {
            role: 'option', 'data-person': p.id, tabindex: '-1',
            onmousedown: (e) => { e.preventDefault(); choose(p); },
            onkeydown: (e) => { if (e.key === 'Enter') { e.preventDefault(); choose(p); } },
          }, avatar(p.id, p.name, 24), p.name, h('span', { class: 'muted small-text' }, ' ', [p.position, p.primary_department].filter(Boolean).join(' · ')))));
          results.hidden = !hits.length;
        } catch { results.hidden = true; }
      }, 200),
      onkeydown: (e) => {
        if (e.key === 'ArrowDown' && !results.hidden) { e.preventDefault(); results.querySelector('li')?.focus(); }
        if (e.key === 'Escape') results.hidden = true;
      },
      onblur: () => setTimeout(() => { if (!results.contains(document.activeElement)) results.hidden = true; }, 150),
    });
    const render = () => mount(chips, picked.map((p) => h('span', { class: 'chip' }, p.name, ' ',
      h('button', { type: 'button', class: 'link', 'aria-label': t('common.remove') + ' ' + p.name, onclick: () => { picked.splice(picked.indexOf(p), 1); render(); } }, '×'))));
    const choose = (p) => {
      if (!multi) picked.length = 0;
      if (!picked.some((x) => x.id === p.id)) picked.push(p);
      people.remember(p.id, { name: p.name });
      input.value = '';
      results.hidden = true;
      render();
      input.focus();
    };
    const el = h('div', { class: 'picker' },
      withLabel ? h('label', { for: id, class: 'field-label' }, title, h('span', { class: 'req', 'aria-hidden': 'true' }, ' *')) : null,
      chips, h('div', { class: 'picker-box' }, input, results), withLabel ? err : null);
    return {
      el, input,
      get: () => picked.map((p) => p.id),
      focus: () => input.focus(),
      setError: (msg) => { err.textContent = msg; },
    };
  }

  // ---------- lists ----------

  async openList(kind, quiet) {
    this.setActive(kind, t('ap.list.' + kind));
    if (quiet && window.matchMedia('(max-width: 640px)').matches) this.el.dataset.pane = 'list';
    mount(this.body, h('p', { class: 'muted' }, t('common.loading')));
    try {
      const r = await get(A + '/me/' + kind + qs({ limit: 50 }));
      const items = r.items || [];
      if (kind === 'pending') this.counts.pending = items.length;
      this.renderNav(kind);
      if (!items.length) { mount(this.body, h('div', { class: 'empty-conv' }, h('div', { class: 'empty-mark' }, icon('approvals', 56)), h('p', { class: 'muted' }, t('ap.empty.' + kind)))); return; }
      mount(this.body, h('ul', { class: 'people-list ap-list', role: 'list' }, items.map((it) => h('li', null,
        h('a', { class: 'person-row', href: '#/approvals/r/' + enc(it.id), 'data-request': it.id },
          avatar(it.submitter_id, people.name(it.submitter_id), 36),
          h('span', { class: 'conv-main' },
            h('span', { class: 'conv-line' }, h('span', { class: 'conv-name' }, it.title || it.template_code), this.statusTag(it.status)),
            h('span', { class: 'muted small-text' }, people.name(it.submitter_id), ' · ', fmtTime(it.created_at))))))));
    } catch (e) {
      mount(this.body, h('p', { class: 'form-error' }, e.display));
    }
  }

  statusTag(status) {
    return h('span', { class: ['status', 'st-' + status] }, t('ap.status.' + status));
  }

  // ---------- one request ----------

  async openRequest(id) {
    mount(this.body, h('p', { class: 'muted' }, t('common.loading')));
    let v;
    try { v = await get(A + '/requests/' + enc(id)); } catch (e) { mount(this.body, h('p', { class: 'form-error' }, e.display)); return; }
    const r = v.request;
    this.titleEl.textContent = r.title || r.template_code;
    let tp = null;
    try { tp = await get(A + '/templates/' + enc(r.template_code) + qs({ version: r.template_version })); } catch { /* show raw values */ }
    const fields = (tp && tp.schema && tp.schema.fields) || Object.keys(r.form || {}).map((k) => ({ key: k, label: k, type: 'text' }));
    const show = (f, val) => {
      if (val === undefined || val === null || val === '') return '—';
      switch (f.type) {
        case 'date_range': return `${val.start} — ${val.end}`;
        case 'select': return option(val);
        case 'multi_select': return (val || []).map(option).join('、');
        case 'person': return people.name(val);
        case 'detail': return h('table', { class: 'detail-table' },
          h('thead', null, h('tr', null, (f.columns || []).map((c) => h('th', null, label(c.label))))),
          h('tbody', null, (val || []).map((row) => h('tr', null, (f.columns || []).map((c) => h('td', null, String(row[c.key] ?? '')))))));
        case 'attachment': return t('ap.attach.count', { n: (val || []).length });
        default: return String(val);
      }
    };
    const mine = v.my_task_id && (v.tasks || []).find((x) => x.id === v.my_task_id && x.state === 'pending');
    const comment = h('textarea', { id: 'ap-comment', rows: '2', maxlength: '2000', placeholder: t('ap.comment.placeholder') });
    const actErr = h('p', { class: 'form-error', role: 'alert' });
    const act = (kind) => async (e) => {
      const btn = e.currentTarget;
      if (kind === 'reject' && !comment.value.trim()) { actErr.textContent = t('ap.reject.why'); comment.focus(); return; }
      btn.disabled = true;
      try {
        await post(A + '/requests/' + enc(id) + '/' + kind, { action_id: uuid(), comment: comment.value.trim() || undefined });
        this.refreshCounts();
        this.openRequest(id);
      } catch (err) { btn.disabled = false; actErr.textContent = err.display; }
    };
    const canWithdraw = r.submitter_id === session.user.id && r.status === 'pending';
    mount(this.body, h('article', { class: 'ap-request' },
      h('div', { class: 'card-top' }, avatar(r.submitter_id, people.name(r.submitter_id), 48),
        h('div', null, h('div', { class: 'card-name' }, r.title || r.template_code), h('div', { class: 'muted' }, people.name(r.submitter_id), ' · ', fmtTime(r.created_at))),
        this.statusTag(r.status)),
      h('dl', { class: 'card-fields' }, fields.map((f) => h('div', { class: 'card-row' }, h('dt', null, label(f.label)), h('dd', null, show(f, (r.form || {})[f.key]))))),
      mine ? h('section', { class: 'ap-decide', 'aria-labelledby': 'ap-decide-title' },
        h('h3', { id: 'ap-decide-title' }, t('ap.decide')),
        h('label', { for: 'ap-comment', class: 'field-label' }, t('ap.comment')), comment, actErr,
        h('div', { class: 'form-actions' },
          h('button', { type: 'button', class: 'primary', 'data-testid': 'approve', onclick: act('approve') }, t('ap.approve')),
          h('button', { type: 'button', class: 'danger', 'data-testid': 'reject', onclick: act('reject') }, t('ap.reject')))) : null,
      canWithdraw ? h('div', { class: 'form-actions' }, h('button', { type: 'button', 'data-testid': 'withdraw', onclick: act('withdraw') }, t('ap.withdraw')), actErr) : null,
      h('section', { 'aria-labelledby': 'ap-tl-title' },
        h('h3', { id: 'ap-tl-title' }, t('ap.timeline')),
        h('ol', { class: 'timeline' }, (v.timeline || []).map((e) => h('li', { class: ['tl-item', 'tl-' + e.action] },
          h('span', { class: 'tl-dot', 'aria-hidden': 'true' }),
          h('div', null,
            h('div', null, h('strong', null, e.actor_id ? people.name(e.actor_id) : 'Rounds'), ' ', has('ap.act.' + e.action) ? t('ap.act.' + e.action) : e.action,
              e.node ? h('span', { class: 'muted' }, ' · ', e.node) : null),
            e.comment ? h('p', { class: 'tl-comment' }, e.comment) : null,
            h('time', { class: 'muted small-text', datetime: e.at }, fmtTime(e.at))))),
        (v.tasks || []).filter((x) => x.state === 'pending').map((x) => h('li', { class: 'tl-item tl-waiting' },
          h('span', { class: 'tl-dot', 'aria-hidden': 'true' }),
          h('div', null, h('strong', null, people.name(x.assignee_id)), ' ', t('ap.waiting')))))),
      (v.cc || []).length ? h('p', { class: 'muted' }, t('ap.cc'), ': ', v.cc.map((u) => people.name(u)).join('、')) : null));
    // Names arrive after the first paint; draw again once.
    const off = people.on('change', () => { off(); if (location.hash.endsWith(id)) this.openRequest(id); });
  }
}
