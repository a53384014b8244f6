// Attendance: clock in or out where the hospital can see it (the browser's
// location when it gives one; otherwise the server may still accept by the
// hospital Wi-Fi or network), and my month — a summary strip and each duty
// with its times and outcome.
import { h, mount } from '../h.js';
import { t, getLang, has } from '../i18n.js';
import { get, post } from '../api.js';
import { icon } from '../icons.js';

const SUMMARY = [
  ['duties', 'att.sum.duties'], ['normal', 'att.sum.normal'], ['late', 'att.sum.late'],
  ['early_leave', 'att.sum.early'], ['absent', 'att.sum.absent'], ['missing_punches', 'att.sum.missing'],
  ['on_leave', 'att.sum.leave'], ['worked_minutes', 'att.sum.worked'], ['overtime_minutes', 'att.sum.overtime'],
];

const pad = (n) => String(n).padStart(2, '0');
function thisMonth() { const d = new Date(); return d.getFullYear() + '-' + pad(d.getMonth() + 1); }
function shiftMonth(m, by) {
  const [y, mo] = m.split('-').map(Number);
  const d = new Date(y, mo - 1 + by, 1);
  return d.getFullYear() + '-' + pad(d.getMonth() + 1);
}
/** The UTC offset in minutes an ISO time was written with (+08:00 → 480), or null. */
function offsetOf(iso) {
  const m = /(Z|([+-])(\d\d):?(\d\d))$/.exec(String(iso || ''));
  if (!m) return null;
  return m[1] === 'Z' ? 0 : (m[2] === '-' ? -1 : 1) * (Number(m[3]) * 60 + Number(m[4]));
}
/**
 * "08:05" of an ISO time in the hospital's time zone (off minutes from UTC,
 * learnt from the duties, which the server writes in it) so a punch and its
 * duty read alike whatever zone the device is set to; the device's zone when
 * unknown.
 */
function hm(iso, off) {
  if (!iso) return '';
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return '';
  if (off === null || off === undefined) { const d = new Date(ms); return pad(d.getHours()) + ':' + pad(d.getMinutes()); }
  const d = new Date(ms + off * 60000);
  return pad(d.getUTCHours()) + ':' + pad(d.getUTCMinutes());
}
/** Hours from minutes, one decimal: 480 → "8", 450 → "7.5". */
function hours(min) { return String(Math.round((min || 0) / 6) / 10); }

/** Ask the browser where we are; null when it cannot or will not say. */
function locate() {
  return new Promise((resolve) => {
    if (!navigator.geolocation) { resolve(null); return; }
    try {
      navigator.geolocation.getCurrentPosition(
        (p) => resolve(p.coords),
        () => resolve(null),
        { enableHighAccuracy: true, timeout: 10000, maximumAge: 0 });
    } catch { resolve(null); }
  });
}

export class AttendanceView {
  constructor() {
    this.month = thisMonth();
    this.off = null; // the hospital's UTC offset in minutes, once a month is loaded
    this.result = h('div', { class: 'att-result', role: 'status', 'aria-live': 'polite', 'data-testid': 'clock-result' });
    this.inBtn = h('button', { type: 'button', class: 'primary att-clock', 'data-testid': 'clock-in', onclick: () => this.clock('in') },
      icon('clock', 28), h('span', null, t('att.in')));
    this.outBtn = h('button', { type: 'button', class: 'att-clock att-out', 'data-testid': 'clock-out', onclick: () => this.clock('out') },
      icon('clock', 28), h('span', null, t('att.out')));
    this.monthTitle = h('h2', { id: 'att-month-title', class: 'att-month-title' });
    this.summary = h('dl', { class: 'att-summary', 'aria-labelledby': 'att-month-title', 'data-testid': 'att-summary' });
    this.days = h('div', { class: 'att-days' });
    this.el = h('section', { class: 'attendance', 'aria-labelledby': 'att-title' },
      h('header', { class: 'pane-head' }, h('h1', { id: 'att-title' }, t('nav.attendance'))),
      h('div', { class: 'att-body' },
        h('section', { class: 'att-punch', 'aria-label': t('att.punch') },
          h('p', { class: 'muted att-hint' }, t('att.hint')),
          h('div', { class: 'att-buttons' }, this.inBtn, this.outBtn),
          this.result),
        h('section', { class: 'att-month', 'aria-labelledby': 'att-month-title' },
          h('div', { class: 'att-month-head' },
            h('button', { type: 'button', class: 'icon-btn', 'data-testid': 'month-prev', 'aria-label': t('att.month.prev'), onclick: () => this.go(-1) }, icon('back', 20)),
            this.monthTitle,
            h('button', { type: 'button', class: 'icon-btn att-next', 'data-testid': 'month-next', 'aria-label': t('att.month.next'), onclick: () => this.go(1) }, icon('back', 20))),
          this.summary, this.days)));
  }

  show(rest) {
    const m = rest && rest[0];
    this.month = m && /^\d{4}-(0[1-9]|1[0-2])$/.test(m) ? m : thisMonth();
    this.load();
  }

  go(by) { location.hash = '#/attendance/' + shiftMonth(this.month, by); }

  async clock(kind) {
    this.inBtn.disabled = this.outBtn.disabled = true;
    this.el.setAttribute('aria-busy', 'true');
    mount(this.result, h('p', { class: 'muted' }, t('att.locating')));
    const c = await locate();
    const body = { kind };
    if (c) {
      body.lat = c.latitude; body.lon = c.longitude;
      if (Number.isFinite(c.accuracy)) body.accuracy_m = Math.min(Math.max(c.accuracy, 0), 2000);
    }
    try {
      const p = await post('/api/v1/attendance/clock', body);
      mount(this.result, h('div', { class: 'att-ok' },
        h('strong', null, t(kind === 'in' ? 'att.ok.in' : 'att.ok.out')), ' ',
        h('time', { datetime: p.at }, hm(p.at, this.off)),
        h('div', { class: 'muted small-text' }, t('att.method.' + p.method), p.place ? ' · ' + p.place : '')));
      this.load();
    } catch (e) {
      let msg = e.display;
      if (e.code === 'forbidden' && e.details && e.details.field === 'location') msg = t(c ? 'att.away' : 'att.away.noloc');
      mount(this.result, h('p', { class: 'form-error', role: 'alert' }, msg));
    } finally {
      this.inBtn.disabled = this.outBtn.disabled = false;
      this.el.removeAttribute('aria-busy');
    }
  }

  async load() {
    const month = this.month;
    const [y, mo] = month.split('-').map(Number);
    this.monthTitle.textContent = new Intl.DateTimeFormat(getLang(), { year: 'numeric', month: 'long' }).format(new Date(y, mo - 1, 1));
    mount(this.days, h('p', { class: 'muted' }, t('common.loading')));
    let m;
    try { m = await get('/api/v1/me/attendance/' + month); } catch (e) {
      if (month !== this.month) return;
      mount(this.summary);
      mount(this.days, h('p', { class: 'form-error' }, e.display));
      return;
    }
    if (month !== this.month) return; // a newer month was asked for meanwhile
    const s = m.summary || {};
    mount(this.summary, SUMMARY.map(([k, label]) => h('div', { class: ['att-stat', (k === 'late' || k === 'early_leave' || k === 'absent' || k === 'missing_punches') && s[k] ? 'att-bad' : null], 'data-stat': k },
      h('dt', null, t(label)),
      h('dd', null, k.endsWith('_minutes') ? t('att.hours', { n: hours(s[k]) }) : String(s[k] || 0)))));
    const results = m.results || [];
    const first = results.find((r) => r.duty && r.duty.start);
    if (first) this.off = offsetOf(first.duty.start);
    const off = this.off;
    if (!results.length) { mount(this.days, h('p', { class: 'muted att-empty' }, t('att.empty'))); return; }
    // Today (in the hospital's zone) is marked.
    const now = off === null || off === undefined ? new Date() : new Date(Date.now() + off * 60000);
    const today = off === null || off === undefined
      ? now.getFullYear() + '-' + pad(now.getMonth() + 1) + '-' + pad(now.getDate())
      : now.getUTCFullYear() + '-' + pad(now.getUTCMonth() + 1) + '-' + pad(now.getUTCDate());
    const dayFmt = new Intl.DateTimeFormat(getLang(), { month: 'short', day: 'numeric', weekday: 'short' });
    mount(this.days, h('ul', { class: 'att-list', role: 'list' }, results.map((r) => {
      const d = r.duty || {};
      const [dy, dm, dd] = String(d.date || '').split('-').map(Number);
      const st = r.status || [];
      return h('li', { class: 'att-day', 'data-date': d.date, 'aria-current': d.date === today ? 'date' : null },
        h('div', { class: 'att-date' }, dy ? dayFmt.format(new Date(dy, dm - 1, dd)) : d.date),
        h('div', { class: 'att-duty' },
          h('div', null, h('span', { class: 'att-duty-name' }, d.name ? (has('att.dutyname.' + d.name) ? t('att.dutyname.' + d.name) : d.name) : t('att.duty')), ' ',
            h('span', { class: 'muted small-text' }, hm(d.start, off), '–', hm(d.end, off))),
          h('div', { class: 'small-text' },
            t('att.in.short'), ' ', r.in ? hm(r.in, off) : '—', ' · ', t('att.out.short'), ' ', r.out ? hm(r.out, off) : '—',
            r.late_minutes ? h('span', { class: 'muted' }, ' · ', t('att.late.min', { n: r.late_minutes })) : null,
            r.early_minutes ? h('span', { class: 'muted' }, ' · ', t('att.early.min', { n: r.early_minutes })) : null)),
        h('div', { class: 'att-tags' }, st.map((x) => h('span', { class: ['status', 'att-st-' + x] }, t('att.st.' + x)))));
    })));
  }
}
