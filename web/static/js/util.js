// Small helpers shared by the views.

/**
 * A random UUID. crypto.randomUUID exists only in secure contexts, and many
 * hospital intranets serve Rounds over plain http on a private address, so
 * fall back to getRandomValues, which works everywhere.
 */
export function uuid() {
  if (window.isSecureContext && crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export function debounce(fn, ms) {
  let timer;
  return (...args) => { clearTimeout(timer); timer = setTimeout(() => fn(...args), ms); };
}

/** Is the layout in one-pane phone mode? Kept in step with the CSS breakpoint. */
export const phone = () => window.matchMedia('(max-width: 640px)').matches;
