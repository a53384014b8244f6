// Modal dialogs on the native <dialog>: focus is trapped, Esc closes, and
// focus returns to what opened it.
import { h } from './h.js';
import { t } from './i18n.js';
import { icon } from './icons.js';

export function openDialog(title, body, { onClose, wide } = {}) {
  const opener = document.activeElement;
  const titleId = 'dlg-' + Math.random().toString(36).slice(2);
  const dlg = h('dialog', { class: ['dialog', wide && 'wide'], 'aria-labelledby': titleId },
    h('header', { class: 'dialog-head' },
      h('h2', { id: titleId }, title),
      h('button', { type: 'button', class: 'icon-btn', 'aria-label': t('common.close'), onclick: () => dlg.close() }, icon('close', 18))),
    h('div', { class: 'dialog-body' }, body));
  dlg.addEventListener('close', () => {
    dlg.remove();
    if (onClose) onClose();
    if (opener && opener.focus) opener.focus();
  });
  dlg.addEventListener('click', (e) => { if (e.target === dlg) dlg.close(); });
  document.body.appendChild(dlg);
  dlg.showModal();
  return dlg;
}
