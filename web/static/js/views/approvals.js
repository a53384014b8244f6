// Approvals: start a request from a template, my lists, decide, timeline.
// Until the approvals API is served this screen says so.
import { h } from '../h.js';
import { t } from '../i18n.js';

export class ApprovalsView {
  constructor() {
    this.el = h('section', { class: 'placeholder', 'aria-labelledby': 'ap-title' },
      h('h1', { id: 'ap-title' }, t('nav.approvals')),
      h('p', { class: 'muted' }, t('placeholder.soon')));
  }
  show() {}
}
