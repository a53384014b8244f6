// Screens whose pages come in a later release say so plainly.
import { h } from '../h.js';
import { t } from '../i18n.js';

export class PlaceholderView {
  constructor(tab) {
    this.el = h('section', { class: 'placeholder', 'aria-labelledby': 'ph-title' },
      h('h1', { id: 'ph-title' }, t('nav.' + tab)),
      h('p', { class: 'muted' }, t('placeholder.soon')));
  }
  show() {}
}
