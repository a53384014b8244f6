// Every string the client shows goes through t(). Simplified Chinese is the
// default; English is one click away and remembered in localStorage.
import { zh } from './i18n/zh-CN.js';
import { en } from './i18n/en.js';

export const dictionaries = { 'zh-CN': zh, en };
const KEY = 'rounds.lang';

let lang = (() => {
  try {
    const saved = localStorage.getItem(KEY);
    if (saved && dictionaries[saved]) return saved;
  } catch { /* storage may be off */ }
  return 'zh-CN';
})();

export function getLang() { return lang; }

export function setLang(l) {
  if (!dictionaries[l]) return;
  lang = l;
  try { localStorage.setItem(KEY, l); } catch { /* ignore */ }
  document.documentElement.lang = l;
}

export function has(key) { return key in dictionaries[lang]; }

/** t(key, {n: 3}) fills {n} in the string. Unknown keys show the key, so a gap is visible in review. */
export function t(key, vars) {
  let s = dictionaries[lang][key];
  if (s === undefined) s = dictionaries['zh-CN'][key];
  if (s === undefined) return key;
  if (vars) s = s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));
  return s;
}

/** Time of a message: today "14:05", this year "11月3日 14:05" / "Nov 3 14:05", else with the year. */
export function fmtTime(iso, withTime = true) {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const now = new Date();
  const opts = {};
  const today = d.toDateString() === now.toDateString();
  // In lists a message from today shows its time, an older one its date.
  if (today) withTime = true;
  if (!today) {
    opts.month = 'short'; opts.day = 'numeric';
    if (d.getFullYear() !== now.getFullYear()) opts.year = 'numeric';
  }
  if (withTime) { opts.hour = '2-digit'; opts.minute = '2-digit'; opts.hour12 = false; }
  return new Intl.DateTimeFormat(lang, opts).format(d);
}

document.documentElement.lang = lang;
