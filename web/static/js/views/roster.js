// Rostering (排班): a ward's published roster by week or month — staff in
// rows, days in columns, each cell the shift's code in its colour, today and
// weekends marked — with my own shifts below, where a swap with a colleague is
// asked for (the built-in 调班 approval) and my pending swaps are listed.
//
// The head of a ward (or anyone the server lets edit it) opens the ward's
// draft in the editor: a grid moved through with the arrow keys, a shift set
// with its number key (or its letter, or the palette), each change saved to
// the server, whose rule check comes back as violations shown on the cells
// and in a list as she types; then she publishes, and the server tells each
// person their shifts.
//
// Routes: #/roster/<ward>/<week|month>/<date> and #/roster/<ward>/edit/<roster id>.
import { h, mount } from '../h.js';
import { t, getLang, has } from '../i18n.js';
import { rosterApi, dates, hhmm } from '../rosterapi.js';
import { org } from '../orgapi.js';
import { session } from '../session.js';
import { capabilities } from '../adminapi.js';
import { openDialog } from '../dialog.js';
import { icon } from '../icons.js';
import { phone } from '../util.js';

const enc = encodeURIComponent;
const key = (user, date) => user + '|' + date;

function fmt(date, opts) {
  return new Intl.DateTimeFormat(getLang(), { timeZone: 'UTC', ...opts }).format(dates.js(date));
}
const dayLabel = (d) => fmt(d, { month: 'short', day: 'numeric', weekday: 'short' });
const shortDay = (d) => fmt(d, { month: 'numeric', day: 'numeric' });

function shiftTimes(sh) {
  if (!sh || sh.kind === 'off') return '';
  return hhmm(sh.start_minute) + '–' + hhmm(sh.end_minute);
}

/**
 * A shift as a coloured chip: the code for the eye, the name for screen
 * readers (decorative when the name is written next to it).
 */
function chip(sh, decorative = false) {
  if (!sh) return h('span', { class: 'rs-chip rs-unknown' }, '?');
  const el = h('span', { class: ['rs-chip', sh.kind === 'off' && 'rs-off'], title: sh.name + (shiftTimes(sh) ? ' ' + shiftTimes(sh) : ''), 'data-code': sh.code, 'aria-hidden': decorative ? 'true' : null },
    h('span', { 'aria-hidden': 'true' }, sh.code), decorative ? null : h('span', { class: 'sr-only' }, sh.name));
  if (sh.colour) el.style.setProperty('--shift', sh.colour);
  return el;
}

/** A rule violation in the reader's language, from its structured fields and the ward's rules. */
function violationText(v, rules, names) {
  const r = rules || {};
  const who = v.user_id ? names(v.user_id) : '';
  const vars = { code: v.shift_code || '', who, date: shortDay(v.date) };
  switch (v.rule) {
    case 'min_staff': {
      const m = (r.min_staff || []).find((x) => x.shift_code === v.shift_code);
      if (m) return t('roster.v.min_staff', { ...vars, n: m.min });
      break;
    }
    case 'skill_mix': {
      const m = (r.skill_mix || []).find((x) => !x.shift_code || x.shift_code === v.shift_code);
      if (m) return t('roster.v.skill_mix', { ...vars, n: m.min, skill: has('roster.skill.' + m.skill) ? t('roster.skill.' + m.skill) : m.skill });
      break;
    }
    case 'max_consecutive_nights':
      if (r.max_consecutive_nights) return t('roster.v.max_nights', { ...vars, n: r.max_consecutive_nights.value });
      break;
    case 'min_rest_after_night':
      if (r.min_rest_after_night_hours) return t('roster.v.min_rest', { ...vars, n: r.min_rest_after_night_hours.value });
      break;
    case 'max_hours_per_week':
      if (r.max_hours_per_week) return t('roster.v.week_hours', { ...vars, n: r.max_hours_per_week.value });
      break;
    case 'approved_leave': return t('roster.v.leave', vars);
    case 'qualification': return t('roster.v.qualification', vars);
    default: break;
  }
  return v.message;
}

export class RosterView {
  constructor() {
    this.ctx = null; // what every screen needs: me, wards, shifts
    this.members = new Map(); // ward → [staff]
    this.rules = new Map(); // ward → rule set
    this.editor = null;
    this.seq = 0; // the newest render; older async answers are dropped
    this.title = h('h1', { id: 'rs-title' }, t('nav.roster'));
    this.controls = h('div', { class: 'rs-controls' });
    this.notice = h('div', { class: 'rs-notice', role: 'status', 'aria-live': 'polite' });
    this.body = h('div', { class: 'rs-body' });
    this.el = h('section', { class: 'roster', 'aria-labelledby': 'rs-title' },
      h('header', { class: 'pane-head rs-head' }, this.title, this.controls),
      this.notice, this.body);
  }

  hide() { this.leaveEditor(); }
  destroy() { this.leaveEditor(); }

  leaveEditor() {
    if (this.editor) { this.editor.flush(); this.editor = null; }
  }

  async show(rest) {
    const seq = ++this.seq;
    mount(this.notice, this.flash || null);
    this.flash = null;
    if (!this.ctx) {
      mount(this.body, h('p', { class: 'muted' }, t('common.loading')));
      try { this.ctx = await this.loadContext(); } catch (e) {
        mount(this.body, h('p', { class: 'form-error', role: 'alert' }, e.display || String(e)));
        return;
      }
      if (seq !== this.seq) return;
    }
    const [dept, mode, arg] = rest || [];
    const ward = dept && this.ctx.deptById.has(dept) ? dept : this.ctx.home;
    if (!ward) { mount(this.body, h('p', { class: 'muted' }, t('roster.noward'))); return; }
    if (mode === 'edit' && arg) { this.showEditor(ward, arg, seq); return; }
    this.leaveEditor();
    const m = mode === 'week' || mode === 'month' ? mode : (phone() ? 'week' : 'month');
    const date = dates.valid(arg) ? arg : dates.today();
    this.showRoster(ward, m, date, seq);
  }

  async loadContext() {
    const me = session.user.id;
    const [card, depts, shifts, caps] = await Promise.all([org.person(me), org.departments(), rosterApi.shifts(), capabilities()]);
    const deptById = new Map(depts.map((d) => [d.id, d]));
    const heads = new Set((card.heads || []).map((d) => d.id).concat(card.head_of || []));
    const mine = (card.departments || []).map((d) => d.id);
    const home = (card.primary_department && card.primary_department.id) || mine[0] || [...heads][0] || '';
    return { me, card, depts, deptById, heads, mine, home, shifts, shiftById: new Map(shifts.map((s) => [s.id, s])), caps };
  }

  /** May I (probably) edit this ward's roster? The server decides; this only hides buttons from those it would refuse. */
  mayEdit(ward) {
    const caps = this.ctx.caps;
    // As the server's roster.Service.mayEdit: roster.settings write (the
    // hospital's admins) edits every ward; a head edits wards under theirs.
    if (caps.can('roster.settings:write')) return true;
    if (!caps.can('roster.roster:write')) return false;
    for (let d = this.ctx.deptById.get(ward); d; d = this.ctx.deptById.get(d.parent_id)) if (this.ctx.heads.has(d.id)) return true;
    return false;
  }

  async membersOf(ward) {
    if (!this.members.has(ward)) this.members.set(ward, await rosterApi.members(ward));
    return this.members.get(ward);
  }

  async rulesOf(ward) {
    if (!this.rules.has(ward)) this.rules.set(ward, await rosterApi.rules(ward).catch(() => null));
    return this.rules.get(ward);
  }

  nameOf(id) {
    for (const list of this.members.values()) { const p = list.find((x) => x.id === id); if (p) return p.name; }
    return id === this.ctx.me ? (session.user.display_name || session.user.login) : id.slice(-6);
  }

  wardLabel(id) { const d = this.ctx.deptById.get(id); return d ? d.name : ''; }

  /** The ward picker: my wards first, then the whole tree. */
  wardPicker(ward, onPick) {
    const opt = (d, prefix = '') => h('option', { value: d.id, selected: d.id === ward }, prefix + d.name);
    const mine = this.ctx.mine.map((id) => this.ctx.deptById.get(id)).filter(Boolean);
    const depth = (d) => Math.max(0, String(d.path || '').split('/').length - 1);
    const sel = h('select', { id: 'rs-ward', class: 'rs-ward', 'data-testid': 'ward-picker', onchange: () => onPick(sel.value) },
      mine.length ? h('optgroup', { label: t('roster.ward.mine') }, mine.map((d) => opt(d))) : null,
      h('optgroup', { label: t('roster.ward.all') }, this.ctx.depts.filter((d) => !mine.includes(d)).map((d) => opt(d, '\u3000'.repeat(depth(d))))));
    return h('div', { class: 'rs-field' }, h('label', { for: 'rs-ward', class: 'sr-only' }, t('roster.ward')), sel);
  }

  // ---- The published roster ----

  async showRoster(ward, mode, date, seq) {
    const from = mode === 'week' ? dates.weekStart(date) : dates.monthStart(date);
    const to = mode === 'week' ? dates.add(from, 6) : dates.monthEnd(date);
    const go = (w, m, d) => { location.hash = '#/roster/' + enc(w) + '/' + m + '/' + d; };
    const step = (n) => (mode === 'week' ? dates.add(from, 7 * n) : dates.addMonths(from, n));
    const rangeTitle = mode === 'week'
      ? fmt(from, { month: 'short', day: 'numeric' }) + ' – ' + fmt(to, { month: 'short', day: 'numeric' })
      : fmt(from, { year: 'numeric', month: 'long' });
    this.title.textContent = t('nav.roster');
    const toggle = (m, label) => h('button', { type: 'button', class: 'rs-seg', 'aria-pressed': String(mode === m), 'data-testid': 'mode-' + m, onclick: () => go(ward, m, date) }, t(label));
    mount(this.controls,
      this.wardPicker(ward, (w) => go(w, mode, date)),
      h('div', { class: 'rs-segs', role: 'group', 'aria-label': t('roster.mode') }, toggle('week', 'roster.week'), toggle('month', 'roster.month')),
      h('div', { class: 'rs-nav' },
        h('button', { type: 'button', class: 'icon-btn', 'data-testid': 'roster-prev', 'aria-label': t(mode === 'week' ? 'roster.prev.week' : 'roster.prev.month'), onclick: () => go(ward, mode, step(-1)) }, icon('back', 20)),
        h('h2', { class: 'rs-range', 'data-testid': 'roster-range', 'aria-live': 'polite' }, rangeTitle),
        h('button', { type: 'button', class: 'icon-btn rs-next', 'data-testid': 'roster-next', 'aria-label': t(mode === 'week' ? 'roster.next.week' : 'roster.next.month'), onclick: () => go(ward, mode, step(1)) }, icon('back', 20)),
        h('button', { type: 'button', class: 'small', 'data-testid': 'roster-today', onclick: () => go(ward, mode, dates.today()) }, t('roster.today'))));
    mount(this.body, h('p', { class: 'muted' }, t('common.loading')));
    let list, members, published;
    try {
      [list, members] = await Promise.all([rosterApi.list(ward, from, to), this.membersOf(ward), this.rulesOf(ward)]);
      published = await Promise.all(list.filter((r) => r.status === 'published').map((r) => rosterApi.get(r.id).then((c) => c.roster)));
    } catch (e) {
      if (seq === this.seq) mount(this.body, h('p', { class: 'form-error', role: 'alert' }, e.display));
      return;
    }
    if (seq !== this.seq) return;
    const days = dates.range(from, to);
    const cells = new Map();
    for (const r of published) for (const a of r.assignments || []) {
      if (a.date < from || a.date > to) continue;
      const k = key(a.user_id, a.date);
      if (!cells.has(k)) cells.set(k, []);
      cells.get(k).push(a.shift_id);
    }
    const rows = this.rowsFor(members, published);
    const me = this.ctx.me;
    const editable = this.mayEdit(ward);
    const drafts = list.filter((r) => r.status === 'draft');
    const covered = (d) => list.some((r) => r.from <= d && r.to >= d);

    const parts = [];
    // For the ward's editors: the drafts of this period, or a new one.
    if (editable) {
      const actions = drafts.map((r) => h('a', { class: 'button primary', href: '#/roster/' + enc(ward) + '/edit/' + enc(r.id), 'data-testid': 'edit-draft' },
        t('roster.draft.edit', { from: shortDay(r.from), to: shortDay(r.to) })));
      const mFrom = dates.monthStart(from);
      const mTo = dates.monthEnd(from);
      if (!dates.range(mFrom, mTo).some(covered)) {
        actions.push(h('button', { type: 'button', class: 'primary', 'data-testid': 'new-draft', onclick: (e) => this.createDraft(ward, mFrom, mTo, e.currentTarget) },
          t('roster.draft.new', { month: fmt(mFrom, { year: 'numeric', month: 'long' }) })));
      }
      if (actions.length) parts.push(h('div', { class: 'rs-actions' }, actions));
    }
    if (!this.ctx.shifts.length) parts.push(this.noShifts());
    if (!published.length) parts.push(h('p', { class: 'rs-empty muted', 'data-testid': 'roster-unpublished' }, t('roster.unpublished')));
    else {
      parts.push(this.gridView(rows, days, (u, d) => cells.get(key(u, d)) || [], { mode, me }));
      parts.push(this.legend());
    }
    // My shifts in this period, each with a swap button.
    const mineList = [];
    for (const r of published) for (const a of r.assignments || []) {
      const sh = this.ctx.shiftById.get(a.shift_id);
      if (a.user_id === me && a.date >= from && a.date <= to && sh && sh.kind !== 'off') mineList.push({ a, sh, roster: r });
    }
    mineList.sort((x, y) => (x.a.date < y.a.date ? -1 : x.a.date > y.a.date ? 1 : x.sh.start_minute - y.sh.start_minute));
    const swaps = h('div', { class: 'rs-swaps', 'data-testid': 'my-swaps' });
    parts.push(h('div', { class: 'rs-lower' },
      h('section', { class: 'rs-mine', 'aria-labelledby': 'rs-mine-title' },
        h('h2', { id: 'rs-mine-title' }, t('roster.mine')),
        mineList.length
          ? h('ul', { class: 'rs-mine-list', role: 'list', 'data-testid': 'my-shifts' }, mineList.map(({ a, sh, roster }) => h('li', { class: 'rs-mine-item', 'data-date': a.date },
            chip(sh, true),
            h('span', { class: 'rs-mine-text' }, h('strong', null, dayLabel(a.date)), ' ', sh.name, ' ', h('span', { class: 'muted' }, shiftTimes(sh))),
            h('button', { type: 'button', class: 'small', 'data-testid': 'swap-' + a.date, onclick: () => this.swapDialog(ward, roster, a, sh, members) }, t('roster.swap')))))
          : h('p', { class: 'muted' }, t('roster.mine.none'))),
      swaps));
    mount(this.body, parts);
    this.loadSwaps(swaps);
  }

  /** Ward members in their order, me first; anyone on the roster who has since left comes last. */
  rowsFor(members, rosters) {
    const me = this.ctx.me;
    const rows = members.map((m) => ({ id: m.id, name: m.name, position: m.title || m.position || '' }));
    const seen = new Set(rows.map((r) => r.id));
    for (const r of rosters) for (const a of r.assignments || []) if (!seen.has(a.user_id)) { seen.add(a.user_id); rows.push({ id: a.user_id, name: this.nameOf(a.user_id), position: '' }); }
    rows.sort((a, b) => (a.id === me ? -1 : b.id === me ? 1 : 0));
    return rows;
  }

  headRow(days, mode, corner) {
    const today = dates.today();
    return h('thead', null, h('tr', null,
      h('th', { scope: 'col', class: 'rs-corner' }, corner),
      days.map((d) => h('th', { scope: 'col', class: ['rs-day', dates.weekend(d) && 'rs-weekend', d === today && 'rs-today'], 'data-date': d, 'aria-current': d === today ? 'date' : null, title: dayLabel(d) },
        h('span', { class: 'rs-dow' }, fmt(d, { weekday: mode === 'week' ? 'short' : 'narrow' })),
        h('span', { class: 'rs-dnum' }, mode === 'week' ? shortDay(d) : String(Number(d.slice(8))))))));
  }

  gridView(rows, days, shiftsAt, { mode, me }) {
    const today = dates.today();
    const table = h('table', { class: ['rs-grid', 'rs-' + mode], 'data-testid': 'roster-grid', 'aria-labelledby': 'rs-title' },
      this.headRow(days, mode, t('roster.staff')),
      h('tbody', null, rows.map((p) => h('tr', { class: p.id === me && 'rs-me', 'data-user': p.id },
        h('th', { scope: 'row', class: 'rs-name' }, p.name, p.id === me ? h('span', { class: 'tag' }, t('roster.me')) : null),
        days.map((d) => {
          const ids = shiftsAt(p.id, d);
          // A week has room for the shift's name next to its code.
          return h('td', { class: ['rs-cell', dates.weekend(d) && 'rs-weekend', d === today && 'rs-today'], 'data-date': d },
            ids.map((id) => {
              const sh = this.ctx.shiftById.get(id);
              return mode === 'week' && sh && ids.length === 1
                ? h('span', { class: 'rs-cell-shift' }, chip(sh), h('span', { class: 'rs-cell-name', 'aria-hidden': 'true' }, sh.name))
                : chip(sh);
            }));
        })))));
    return h('div', { class: 'rs-scroll' }, table);
  }

  legend() {
    return h('ul', { class: 'rs-legend', role: 'list', 'aria-label': t('roster.legend') },
      this.ctx.shifts.map((sh) => h('li', null, chip(sh, true), ' ', sh.name, ' ', h('span', { class: 'muted' }, shiftTimes(sh)))));
  }

  /** The organisation has no shifts yet: offer the ready-made patterns (the server lets only admins adopt them). */
  noShifts() {
    const box = h('div', { class: 'rs-noshifts' }, h('p', null, t('roster.noshifts')));
    const err = h('p', { class: 'form-error', role: 'alert' });
    rosterApi.patterns().then((pats) => {
      box.append(h('div', { class: 'rs-actions' }, pats.map((p) => h('button', {
        type: 'button', class: 'small', 'data-pattern': p.key,
        onclick: async (e) => {
          e.currentTarget.disabled = true;
          try {
            this.ctx.shifts = await rosterApi.adoptPattern(p.key);
            this.ctx.shiftById = new Map(this.ctx.shifts.map((s) => [s.id, s]));
            this.show(location.hash.replace(/^#\/?roster\/?/, '').split('/').filter(Boolean).map(decodeURIComponent));
          } catch (x) { err.textContent = x.display; e.currentTarget.disabled = false; }
        },
      }, t('roster.adopt', { name: p.name })))), err);
    }).catch(() => {});
    return box;
  }

  async createDraft(ward, from, to, btn) {
    btn.disabled = true;
    try {
      const c = await rosterApi.create(ward, from, to);
      location.hash = '#/roster/' + enc(ward) + '/edit/' + enc(c.roster.id);
    } catch (e) {
      btn.disabled = false;
      mount(this.notice, h('p', { class: 'form-error', role: 'alert' }, e.display));
    }
  }

  // ---- Swaps ----

  async loadSwaps(box) {
    if (!session.serves('POST', '/api/v1/approvals/requests')) return;
    let mine = [], forMe = [];
    try { [mine, forMe] = await Promise.all([rosterApi.mySwaps(), rosterApi.swapsForMe()]); } catch { return; }
    const item = (r, who) => {
      const f = r.form || {};
      return h('li', { class: 'rs-swap', 'data-request': r.id },
        h('a', { href: '#/approvals/r/' + enc(r.id) },
          t('roster.swap.line', { who: this.nameOf(who), mine: shortDay(f.my_shift_date || '') + ' ' + (f.my_shift || ''), theirs: shortDay(f.their_shift_date || '') + ' ' + (f.their_shift || '') })),
        ' ', h('span', { class: 'status st-pending' }, t('roster.swap.pending')));
    };
    mount(box,
      h('section', { 'aria-labelledby': 'rs-swaps-title' },
        h('h2', { id: 'rs-swaps-title' }, t('roster.swaps')),
        mine.length ? h('ul', { class: 'rs-swap-list', role: 'list' }, mine.map((r) => item(r, (r.form || {}).swap_with || ''))) : h('p', { class: 'muted' }, t('roster.swaps.none'))),
      forMe.length ? h('section', { 'aria-labelledby': 'rs-swaps-me-title' },
        h('h2', { id: 'rs-swaps-me-title' }, t('roster.swaps.forme')),
        h('ul', { class: 'rs-swap-list', role: 'list' }, forMe.map((r) => item(r, r.submitter_id)))) : null);
  }

  /** Ask a colleague to take my shift for one of theirs in the same published roster. */
  swapDialog(ward, roster, mine, myShift, members) {
    const me = this.ctx.me;
    // Their worked shifts, the same day included (a day shift for an evening one);
    // the very same shift on the same day would change nothing.
    const theirs = new Map();
    for (const a of roster.assignments || []) {
      const sh = this.ctx.shiftById.get(a.shift_id);
      if (a.user_id === me || !sh || sh.kind === 'off' || (a.date === mine.date && a.shift_id === mine.shift_id)) continue;
      if (!theirs.has(a.user_id)) theirs.set(a.user_id, []);
      theirs.get(a.user_id).push({ a, sh });
    }
    for (const l of theirs.values()) l.sort((x, y) => (x.a.date < y.a.date ? -1 : 1));
    const people = members.filter((m) => theirs.has(m.id));
    const err = h('p', { class: 'form-error', role: 'alert' });
    const theirSel = h('select', { id: 'swap-their', required: true, 'data-testid': 'swap-their' });
    const fill = () => mount(theirSel, (theirs.get(withSel.value) || []).map(({ a, sh }, i) => h('option', { value: String(i) }, dayLabel(a.date) + ' · ' + sh.code + ' ' + sh.name)));
    const withSel = h('select', { id: 'swap-with', required: true, 'data-testid': 'swap-with', onchange: fill },
      people.map((p) => h('option', { value: p.id }, p.name + (p.title || p.position ? ' · ' + (p.title || p.position) : ''))));
    const reason = h('textarea', { id: 'swap-reason', rows: 2, maxlength: 500 });
    const submit = h('button', { type: 'submit', class: 'primary', 'data-testid': 'swap-submit' }, t('roster.swap.submit'));
    const form = h('form', { class: 'rs-swap-form', novalidate: true, onsubmit: async (e) => {
      e.preventDefault();
      const pick = (theirs.get(withSel.value) || [])[Number(theirSel.value)];
      if (!pick) { err.textContent = t('roster.swap.pick'); return; }
      submit.disabled = true;
      err.textContent = '';
      const f = { swap_with: withSel.value, my_shift_date: mine.date, my_shift: myShift.code, their_shift_date: pick.a.date, their_shift: pick.sh.code };
      if (reason.value.trim()) f.reason = reason.value.trim();
      try {
        await rosterApi.requestSwap(f);
        dlg.close();
        mount(this.notice, h('p', { class: 'rs-ok' }, t('roster.swap.sent', { who: this.nameOf(withSel.value) })));
        const box = this.body.querySelector('.rs-swaps');
        if (box) this.loadSwaps(box);
      } catch (x) { err.textContent = x.display; submit.disabled = false; }
    } },
    h('p', { class: 'rs-swap-mine' }, t('roster.swap.mine'), ' ', chip(myShift, true), ' ', h('strong', null, dayLabel(mine.date)), ' ', myShift.name, ' ', h('span', { class: 'muted' }, shiftTimes(myShift))),
    people.length ? [
      h('div', { class: 'field' }, h('label', { for: 'swap-with', class: 'field-label' }, t('roster.swap.with')), withSel),
      h('div', { class: 'field' }, h('label', { for: 'swap-their', class: 'field-label' }, t('roster.swap.their')), theirSel),
      h('div', { class: 'field' }, h('label', { for: 'swap-reason', class: 'field-label' }, t('roster.swap.reason')), reason),
      h('p', { class: 'muted small-text' }, t('roster.swap.flow')),
      err,
      h('div', { class: 'form-actions' }, submit, h('button', { type: 'button', onclick: () => dlg.close() }, t('common.cancel'))),
    ] : h('p', { class: 'muted' }, t('roster.swap.nobody')));
    fill();
    const dlg = openDialog(t('roster.swap.title'), form);
    (people.length ? withSel : dlg.querySelector('button')).focus();
  }

  // ---- The editor ----

  async showEditor(ward, id, seq) {
    this.leaveEditor();
    mount(this.controls);
    mount(this.body, h('p', { class: 'muted' }, t('common.loading')));
    let c, members, rules;
    try {
      [c, members, rules] = await Promise.all([rosterApi.get(id), this.membersOf(ward), this.rulesOf(ward)]);
    } catch (e) {
      if (seq === this.seq) mount(this.body, h('p', { class: 'form-error', role: 'alert' }, e.display));
      return;
    }
    if (seq !== this.seq) return;
    const r = c.roster;
    const back = '#/roster/' + enc(r.department_id) + '/month/' + r.from;
    if (r.status !== 'draft') { location.replace(back); return; }
    this.title.textContent = t('roster.editor');
    mount(this.controls, h('a', { class: 'button', href: back, 'data-testid': 'editor-back' }, t('common.back')));
    this.editor = new Editor(this, r, c.violations || [], this.rowsFor(members, [r]), rules);
    mount(this.body, this.editor.el);
    this.editor.focusCell();
  }
}

/** The head nurse's grid over a draft: keyboard first, saved as she goes, checked by the server. */
class Editor {
  constructor(view, roster, violations, rows, rules) {
    this.view = view;
    this.ctx = view.ctx;
    this.roster = roster;
    this.rows = rows;
    this.rules = rules;
    this.days = dates.range(roster.from, roster.to);
    this.cells = new Map(); // user|date → [shift id]
    for (const a of roster.assignments || []) {
      const k = key(a.user_id, a.date);
      if (!this.cells.has(k)) this.cells.set(k, []);
      this.cells.get(k).push(a.shift_id);
    }
    this.shifts = this.ctx.shifts; // number keys follow this order
    this.violations = violations;
    this.pos = { r: 0, c: Math.max(0, this.days.indexOf(dates.today())) };
    this.dirty = false;
    this.saving = null;
    this.failed = '';
    this.tds = new Map();
    this.status = h('p', { class: 'rs-save muted', role: 'status', 'aria-live': 'polite', 'data-testid': 'save-status' });
    this.vbox = h('section', { class: 'rs-violations', 'aria-labelledby': 'rs-v-title', 'data-testid': 'violations' });
    this.publishBtn = h('button', { type: 'button', class: 'primary', 'data-testid': 'publish', onclick: () => this.publish() }, t('roster.publish'));
    this.publishHint = h('p', { class: 'muted small-text rs-publish-hint' });
    this.grid = this.buildGrid();
    const palette = h('div', { class: 'rs-palette', role: 'toolbar', 'aria-label': t('roster.palette'), 'aria-controls': 'rs-edit-grid' },
      this.shifts.map((sh, i) => h('button', { type: 'button', class: 'rs-pal', 'data-testid': 'pal-' + sh.code, 'aria-keyshortcuts': i < 9 ? String(i + 1) : null, onclick: () => { this.set(sh.id); this.focusCell(); } },
        i < 9 ? h('kbd', null, String(i + 1)) : null, chip(sh, true), h('span', { class: 'rs-pal-name' }, sh.name))),
      h('button', { type: 'button', class: 'rs-pal rs-pal-clear', 'data-testid': 'pal-clear', 'aria-keyshortcuts': 'Delete', onclick: () => { this.set(null); this.focusCell(); } },
        h('kbd', null, 'Del'), h('span', { class: 'rs-pal-name' }, t('roster.clear'))));
    this.el = h('div', { class: 'rs-editor' },
      h('div', { class: 'rs-edit-head' },
        h('h2', { class: 'rs-range', 'data-testid': 'editor-title' },
          t('roster.editor.title', { ward: view.wardLabel(roster.department_id), from: shortDay(roster.from), to: shortDay(roster.to) }),
          ' ', h('span', { class: 'status st-pending' }, t('roster.status.draft'))),
        h('div', { class: 'rs-publish' }, this.publishBtn)),
      this.publishHint,
      h('p', { class: 'muted small-text', id: 'rs-keys' }, t('roster.keys')),
      this.shifts.length ? palette : view.noShifts(),
      // The server's verdict sits above the grid, where she looks while typing.
      h('div', { class: 'rs-check' }, this.status, this.vbox),
      h('div', { class: 'rs-scroll' }, this.grid));
    this.renderViolations();
    this.setStatus(t('roster.saved', { n: roster.version }));
  }

  buildGrid() {
    const today = dates.today();
    const grid = h('table', { id: 'rs-edit-grid', class: 'rs-grid rs-month rs-edit', role: 'grid', 'aria-labelledby': 'rs-title', 'aria-describedby': 'rs-keys', 'data-testid': 'editor-grid',
      onkeydown: (e) => this.key(e) },
    this.view.headRow(this.days, 'month', t('roster.staff')),
    h('tbody', null, this.rows.map((p, r) => h('tr', { 'data-user': p.id },
      h('th', { scope: 'row', class: 'rs-name' }, p.name),
      this.days.map((d, c) => {
        const td = h('td', { role: 'gridcell', tabindex: '-1', class: ['rs-cell', dates.weekend(d) && 'rs-weekend', d === today && 'rs-today'], 'data-date': d, 'data-user': p.id,
          onclick: () => { this.pos = { r, c }; this.focusCell(); } });
        this.tds.set(key(p.id, d), td);
        this.paint(p.id, d);
        return td;
      })))));
    return grid;
  }

  td(pos = this.pos) {
    const p = this.rows[pos.r];
    return p ? this.tds.get(key(p.id, this.days[pos.c])) : null;
  }

  focusCell() {
    for (const td of this.tds.values()) if (td.tabIndex === 0) { td.tabIndex = -1; td.removeAttribute('aria-selected'); }
    const td = this.td();
    if (!td) return;
    td.tabIndex = 0;
    td.setAttribute('aria-selected', 'true');
    td.focus({ preventScroll: false });
  }

  key(e) {
    if (e.target.getAttribute('role') !== 'gridcell' || e.altKey || e.ctrlKey || e.metaKey) return;
    const { r, c } = this.pos;
    const move = (nr, nc) => {
      this.pos = { r: Math.min(Math.max(nr, 0), this.rows.length - 1), c: Math.min(Math.max(nc, 0), this.days.length - 1) };
      this.focusCell();
    };
    const k = e.key;
    if (k === 'ArrowRight') move(r, c + 1);
    else if (k === 'ArrowLeft') move(r, c - 1);
    else if (k === 'ArrowDown') move(r + 1, c);
    else if (k === 'ArrowUp') move(r - 1, c);
    else if (k === 'Home') move(r, 0);
    else if (k === 'End') move(r, this.days.length - 1);
    else if (k === 'Delete' || k === 'Backspace' || k === '0') { this.set(null); move(r, c + 1); }
    else if (/^[1-9]$/.test(k) && this.shifts[Number(k) - 1]) { this.set(this.shifts[Number(k) - 1].id); move(r, c + 1); }
    else {
      const sh = k.length === 1 && this.shifts.find((s) => s.code.toLowerCase() === k.toLowerCase());
      if (!sh) return;
      this.set(sh.id);
      move(r, c + 1);
    }
    e.preventDefault();
  }

  /** Put a shift (or nothing) in the current cell and save. */
  set(shiftId) {
    const p = this.rows[this.pos.r];
    const d = this.days[this.pos.c];
    if (!p || !d) return;
    const k = key(p.id, d);
    const before = (this.cells.get(k) || []).join(',');
    if (shiftId) this.cells.set(k, [shiftId]); else this.cells.delete(k);
    if (before === (this.cells.get(k) || []).join(',')) return;
    this.paint(p.id, d);
    this.dirty = true;
    this.failed = '';
    this.setStatus(t('roster.saving'));
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.flush(), 350);
  }

  /** The cell's chips, its violations and its name for screen readers. */
  paint(user, date) {
    const td = this.tds.get(key(user, date));
    if (!td) return;
    const ids = this.cells.get(key(user, date)) || [];
    const vs = this.cellViolations ? (this.cellViolations.get(key(user, date)) || []) : [];
    mount(td, ids.map((id) => chip(this.ctx.shiftById.get(id))));
    td.classList.toggle('rs-bad', vs.some((v) => v.severity === 'hard'));
    td.classList.toggle('rs-warn', vs.length > 0 && !vs.some((v) => v.severity === 'hard'));
    const names = ids.map((id) => (this.ctx.shiftById.get(id) || {}).name || '?').join('、') || t('roster.empty');
    const texts = vs.map((v) => violationText(v, this.rules, (u) => this.view.nameOf(u)));
    td.setAttribute('aria-label', this.view.nameOf(user) + ' ' + dayLabel(date) + '：' + names + (texts.length ? '；' + texts.join('；') : ''));
    td.title = texts.join('\n');
    if (vs.length) td.setAttribute('aria-invalid', 'true'); else td.removeAttribute('aria-invalid');
  }

  assignments() {
    const out = [];
    for (const [k, ids] of this.cells) {
      const [user_id, date] = k.split('|');
      for (const shift_id of ids) out.push({ user_id, date, shift_id });
    }
    return out;
  }

  /** Save what changed; one save at a time, the next one starts from the version the last returned. */
  async flush() {
    clearTimeout(this.timer);
    if (this.saving) { await this.saving; return this.dirty ? this.flush() : undefined; }
    if (!this.dirty) return undefined;
    this.dirty = false;
    this.saving = (async () => {
      try {
        const c = await rosterApi.save(this.roster.id, this.roster.version, this.assignments());
        this.roster = c.roster;
        this.violations = c.violations || [];
        this.failed = '';
        if (!this.dirty) this.setStatus(t('roster.saved', { n: this.roster.version }));
        this.renderViolations();
      } catch (e) {
        if (e.code === 'conflict' && e.details && e.details.version) {
          // Someone else saved meanwhile: take theirs.
          this.failed = t('roster.conflict');
          this.setStatus(this.failed, true);
          this.view.show([this.roster.department_id, 'edit', this.roster.id]);
          return;
        }
        this.failed = e.display;
        this.setStatus(t('roster.save.failed', { reason: e.display }), true);
        this.renderViolations();
      } finally { this.saving = null; }
    })();
    await this.saving;
    return this.dirty ? this.flush() : undefined;
  }

  setStatus(text, bad = false) {
    this.status.textContent = text;
    this.status.classList.toggle('form-error', bad);
    this.status.classList.toggle('muted', !bad);
  }

  renderViolations() {
    const byCell = new Map();
    const byDay = new Map();
    for (const v of this.violations) {
      const m = v.user_id ? byCell : byDay;
      const k = v.user_id ? key(v.user_id, v.date) : v.date;
      if (!m.has(k)) m.set(k, []);
      m.get(k).push(v);
    }
    const old = this.cellViolations || new Map();
    this.cellViolations = byCell;
    for (const k of new Set([...old.keys(), ...byCell.keys()])) { const [u, d] = k.split('|'); this.paint(u, d); }
    for (const th of this.grid.querySelectorAll('thead th[data-date]')) {
      const vs = byDay.get(th.dataset.date) || [];
      th.classList.toggle('rs-bad', vs.some((v) => v.severity === 'hard'));
      th.classList.toggle('rs-warn', vs.length > 0 && !vs.some((v) => v.severity === 'hard'));
      th.title = [dayLabel(th.dataset.date), ...vs.map((v) => violationText(v, this.rules, (u) => this.view.nameOf(u)))].join('\n');
    }
    const hard = this.violations.filter((v) => v.severity === 'hard').length;
    const soft = this.violations.length - hard;
    this.publishBtn.disabled = hard > 0 || !!this.failed;
    this.publishHint.textContent = hard ? t('roster.publish.blocked', { n: hard }) : (this.failed ? t('roster.publish.unsaved') : '');
    mount(this.vbox,
      h('h3', { id: 'rs-v-title' }, t('roster.violations'), ' ',
        h('span', { class: 'count', 'data-testid': 'violation-count' }, this.violations.length ? t('roster.violations.count', { hard, soft }) : t('roster.violations.none'))),
      this.violations.length ? h('ul', { class: 'rs-vlist', role: 'list' }, this.violations.map((v) => h('li', { class: ['rs-v', 'rs-v-' + v.severity], 'data-rule': v.rule, 'data-user': v.user_id || null, 'data-date': v.date },
        h('span', { class: ['status', v.severity === 'hard' ? 'st-rejected' : 'st-pending'] }, t(v.severity === 'hard' ? 'roster.hard' : 'roster.soft')),
        h('button', { type: 'button', class: 'link', onclick: () => this.goTo(v) },
          dayLabel(v.date), v.user_id ? ' · ' + this.view.nameOf(v.user_id) : '', v.shift_code ? ' · ' + v.shift_code : ''),
        h('span', { class: 'rs-v-text', title: v.message }, violationText(v, this.rules, (u) => this.view.nameOf(u)))))) : null);
  }

  goTo(v) {
    const r = v.user_id ? this.rows.findIndex((p) => p.id === v.user_id) : this.pos.r;
    const c = this.days.indexOf(v.date);
    if (r >= 0 && c >= 0) { this.pos = { r, c }; this.focusCell(); }
  }

  async publish() {
    await this.flush();
    if (this.failed || this.violations.some((v) => v.severity === 'hard')) return;
    const r = this.roster;
    const err = h('p', { class: 'form-error', role: 'alert' });
    const ok = h('button', { type: 'button', class: 'primary', 'data-testid': 'publish-confirm', onclick: async () => {
      ok.disabled = true;
      try {
        const c = await rosterApi.publish(r.id, this.roster.version);
        dlg.close();
        this.view.editor = null;
        this.view.flash = h('p', { class: 'rs-ok', 'data-testid': 'published' }, t('roster.published', { n: c.roster.version }));
        location.hash = '#/roster/' + enc(r.department_id) + '/month/' + r.from;
      } catch (e) {
        ok.disabled = false;
        if (e.details && e.details.violations) { this.violations = e.details.violations; this.renderViolations(); }
        err.textContent = e.display;
      }
    } }, t('roster.publish.confirm'));
    const soft = this.violations.length;
    const dlg = openDialog(t('roster.publish.title'), h('div', { class: 'rs-confirm' },
      h('p', null, t('roster.publish.text', { ward: this.view.wardLabel(r.department_id), from: shortDay(r.from), to: shortDay(r.to) })),
      soft ? h('p', { class: 'muted' }, t('roster.publish.soft', { n: soft })) : null,
      err,
      h('div', { class: 'form-actions' }, ok, h('button', { type: 'button', onclick: () => dlg.close() }, t('common.cancel')))));
    ok.focus();
  }
}
