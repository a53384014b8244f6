// DOM building without innerHTML: every piece of data becomes a text node,
// so message content, names and form values can never be run as markup.

/**
 * h('button', {class: 'primary', onclick: fn, 'aria-label': 'Send'}, 'Send')
 * Attributes starting with "on" become event listeners; `class` may be an
 * array (falsy entries dropped); boolean true sets an empty attribute, false
 * or null leaves it out; children may be strings, numbers, nodes, arrays or
 * null.
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k.startsWith('on') && typeof v === 'function') {
        el.addEventListener(k.slice(2).toLowerCase(), v);
      } else if (k === 'class') {
        el.className = Array.isArray(v) ? v.filter(Boolean).join(' ') : v;
      } else if (k === 'dataset') {
        Object.assign(el.dataset, v);
      } else if (k === 'value' || k === 'checked' || k === 'selected') {
        el[k] = v;
      } else {
        el.setAttribute(k, v === true ? '' : String(v));
      }
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c)));
  }
}

/** Replace all children of el. */
export function mount(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** Short initials for an avatar: the last two characters of a Chinese name, the first letters otherwise. */
export function initials(name, group = false) {
  const s = (name || '?').trim();
  if (group) {
    // A group reads best by the start of its name ("心内" for 心内科交班群).
    const letters = [...s].filter((ch) => /[\p{L}\p{N}]/u.test(ch));
    return (letters.slice(0, 2).join('') || '?').toUpperCase();
  }
  if (/[\u4e00-\u9fff]/.test(s)) return s.slice(-2);
  return s.split(/\s+/).map((w) => w[0]).join('').slice(0, 2).toUpperCase();
}

/** A stable calm colour per id for avatars. */
export function hue(id) {
  let n = 0;
  for (const ch of String(id)) n = (n * 31 + ch.charCodeAt(0)) >>> 0;
  return n % 360;
}

export function avatar(id, name, size = 36, group = false) {
  const el = h('span', { class: ['avatar', group && 'group'], 'aria-hidden': 'true' }, initials(name, group));
  el.style.setProperty('--hue', hue(id));
  el.style.width = el.style.height = size + 'px';
  return el;
}
