// The sign-in page: login and password, the server's error shown where the
// person is looking, and the language switch before signing in.
import { h } from '../h.js';
import { t, getLang, setLang } from '../i18n.js';
import { post } from '../api.js';

export function renderLogin({ error, onSignedIn, onLang }) {
  const errorEl = h('p', { class: 'form-error', role: 'alert', id: 'login-error', hidden: !error }, error || '');
  const login = h('input', {
    id: 'login', name: 'login', type: 'text', autocomplete: 'username', required: true,
    autocapitalize: 'none', spellcheck: 'false', 'aria-describedby': 'login-error',
  });
  const password = h('input', {
    id: 'password', name: 'password', type: 'password', autocomplete: 'current-password', required: true,
    'aria-describedby': 'login-error',
  });
  const submit = h('button', { type: 'submit', class: 'primary wide' }, t('login.submit'));
  const form = h('form', {
    class: 'login-form', 'aria-labelledby': 'login-title', novalidate: true,
    onsubmit: async (e) => {
      e.preventDefault();
      if (!login.value.trim() || !password.value) {
        errorEl.textContent = t('login.missing');
        errorEl.hidden = false;
        (login.value.trim() ? password : login).focus();
        return;
      }
      submit.disabled = true;
      submit.textContent = t('login.signingin');
      try {
        const res = await post('/api/v1/sessions', { login: login.value.trim(), password: password.value }, { quiet401: true });
        onSignedIn(res.user);
      } catch (err) {
        errorEl.textContent = err.code === 'unauthenticated' ? t('login.wrong') : err.display;
        errorEl.hidden = false;
        password.select();
        password.focus();
      } finally {
        submit.disabled = false;
        submit.textContent = t('login.submit');
      }
    },
  },
  h('h1', { id: 'login-title' }, t('login.title')),
  h('p', { class: 'muted' }, t('login.subtitle')),
  h('label', { for: 'login' }, t('login.login')),
  login,
  h('label', { for: 'password' }, t('login.password')),
  password,
  errorEl,
  submit);
  queueMicrotask(() => login.focus());
  return h('div', { class: 'login-page' },
    h('main', { class: 'login-card' },
      h('div', { class: 'login-brand' }, h('span', { class: 'brand', 'aria-hidden': 'true' }, 'R'), h('span', null, t('app.title'))),
      form,
      h('div', { class: 'login-foot' },
        h('button', {
          type: 'button', class: 'link', 'data-testid': 'lang-switch',
          onclick: () => { setLang(getLang() === 'en' ? 'zh-CN' : 'en'); onLang(); },
        }, getLang() === 'en' ? '切换到中文' : 'English'),
        h('span', { class: 'muted' }, t('login.intranet')))));
}
