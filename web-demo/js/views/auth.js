// Sign-in: email + password, registration, one-time codes (email, SMS, WhatsApp) and the social providers
// listed in /api/v1/config (OAuth with a client_state kept in sessionStorage).
import { api, signedIn } from '../api.js';
import { h, clear, field, select, showError, clearError, busy, randomId } from '../ui.js';

const CHANNEL_LABEL = { email: 'Email', sms: 'SMS', whatsapp: 'WhatsApp' };
const PROVIDER_LABEL = { google: 'Google', facebook: 'Facebook', instagram: 'Instagram' };

export function renderSignIn(main, { message, onSignedIn }) {
  const cfg = window.SOS_CONFIG || {};
  const signIn = cfg.sign_in || { password: true, otp_channels: [], oauth_providers: [] };
  const done = (auth) => { signedIn(auth); onSignedIn(); };

  const panels = {};
  const switcher = h('div', { class: 'segmented', role: 'group', 'aria-label': 'How to sign in' });
  const body = h('div', { class: 'signin-body' });
  const show = (key) => {
    for (const [k, p] of Object.entries(panels)) { p.hidden = k !== key; }
    for (const b of switcher.querySelectorAll('button')) b.setAttribute('aria-pressed', String(b.dataset.panel === key));
  };
  const addPanel = (key, label, panel) => {
    panels[key] = panel;
    switcher.append(h('button', { type: 'button', dataset: { panel: key }, text: label, onclick: () => { show(key); const first = panel.querySelector('input'); if (first) first.focus(); } }));
    body.append(panel);
  };

  if (signIn.password !== false) addPanel('password', 'Password', passwordPanel(done));
  if ((signIn.otp_channels || []).length) addPanel('code', 'One-time code', codePanel(signIn.otp_channels, done));
  addPanel('register', 'Create account', registerPanel(done));

  const providers = (signIn.oauth_providers || []);
  const social = providers.length ? h('div', { class: 'social' }, h('h2', { text: 'Or continue with' }),
    h('div', { class: 'social-buttons' }, providers.map((p) => socialButton(p)))) : null;

  clear(main,
    h('div', { class: 'signin' },
      h('h1', { text: 'Sign in to SOS Tourist Doctor' }),
      h('p', { class: 'lead', text: 'Fell ill abroad? Find a local doctor who speaks your language, book, pay, chat and see them on video.' }),
      message ? h('p', { class: 'notice', role: 'alert', id: 'signin-message', text: message }) : null,
      switcher, body, social,
      cfg.mode === 'development' ? h('p', { class: 'hint', text: 'Development server: demo accounts use the password Demo1234! (e.g. patient1@demo.sos, doctor1@demo.sos, secretary@demo.sos); the admin is admin@test.com / Admin123!.' }) : null));
  show(Object.keys(panels)[0]);
}

function passwordPanel(done) {
  const email = field('Email', h('input', { type: 'email', name: 'email', autocomplete: 'username', required: true, id: 'login-email' }));
  const password = field('Password', h('input', { type: 'password', name: 'password', autocomplete: 'current-password', required: true, id: 'login-password' }));
  const error = h('p', { class: 'field-error', role: 'alert', hidden: true, id: 'login-error' });
  const submit = h('button', { type: 'submit', id: 'login-submit', text: 'Sign in' });
  const form = h('form', { class: 'card form', 'aria-labelledby': 'pw-title', novalidate: true }, h('h2', { id: 'pw-title', text: 'Sign in with your password' }), email.wrap, password.wrap, error, submit);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    clearError(error);
    busy(submit, async () => {
      try {
        done(await api('POST', '/auth/email/login', { anonymous: true, body: { email: email.input.value.trim(), password: password.input.value } }));
      } catch (err) { showError(error, err); password.input.focus(); }
    });
  });
  return h('div', {}, form);
}

function registerPanel(done) {
  const name = field('Full name', h('input', { type: 'text', autocomplete: 'name', required: true, id: 'reg-name', maxlength: 100 }));
  const email = field('Email', h('input', { type: 'email', autocomplete: 'email', required: true, id: 'reg-email' }));
  const phone = field('Phone (optional)', h('input', { type: 'tel', autocomplete: 'tel', id: 'reg-phone', placeholder: '+14155550123' }), 'International format, starting with +.');
  const password = field('Password', h('input', { type: 'password', autocomplete: 'new-password', required: true, id: 'reg-password', minlength: 8, maxlength: 72 }), '8 to 72 characters.');
  const error = h('p', { class: 'field-error', role: 'alert', hidden: true, id: 'reg-error' });
  const submit = h('button', { type: 'submit', id: 'reg-submit', text: 'Create my account' });
  const form = h('form', { class: 'card form', 'aria-labelledby': 'reg-title', novalidate: true }, h('h2', { id: 'reg-title', text: 'Create a patient account' }), name.wrap, email.wrap, phone.wrap, password.wrap, error, submit);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    clearError(error);
    busy(submit, async () => {
      try {
        const body = { name: name.input.value.trim(), email: email.input.value.trim(), password: password.input.value };
        if (phone.input.value.trim()) body.phone = phone.input.value.trim();
        done(await api('POST', '/auth/email/register', { anonymous: true, body }));
      } catch (err) { showError(error, err); }
    });
  });
  return h('div', { hidden: true }, form);
}

function codePanel(channels, done) {
  const channel = field('Send the code by', select(channels.map((c) => [c, CHANNEL_LABEL[c] || c]), channels[0], { id: 'otp-channel' }));
  const dest = field('Email', h('input', { type: 'email', id: 'otp-destination', autocomplete: 'email', required: true }));
  const destLabel = dest.wrap.querySelector('label');
  const sendError = h('p', { class: 'field-error', role: 'alert', hidden: true, id: 'otp-send-error' });
  const sendStatus = h('p', { class: 'status-line', role: 'status', id: 'otp-status' });
  const sendBtn = h('button', { type: 'submit', id: 'otp-send', text: 'Send me a code' });
  const code = field('6-digit code', h('input', { type: 'text', inputmode: 'numeric', autocomplete: 'one-time-code', pattern: '[0-9]{6}', maxlength: 6, id: 'otp-code' }));
  const verifyError = h('p', { class: 'field-error', role: 'alert', hidden: true, id: 'otp-verify-error' });
  const verifyBtn = h('button', { type: 'submit', id: 'otp-verify', text: 'Sign in with the code' });
  const verifyForm = h('form', { class: 'form', hidden: true, novalidate: true }, code.wrap, verifyError, verifyBtn);
  const update = () => {
    const c = channel.input.value;
    const isEmail = c === 'email';
    dest.input.type = isEmail ? 'email' : 'tel';
    dest.input.autocomplete = isEmail ? 'email' : 'tel';
    dest.input.placeholder = isEmail ? '' : '+14155550123';
    destLabel.textContent = isEmail ? 'Email' : 'Phone number (international format, starting with +)';
  };
  channel.input.addEventListener('change', update);
  const sendForm = h('form', { class: 'form', novalidate: true }, channel.wrap, dest.wrap, sendError, sendBtn, sendStatus);
  let sentTo = null;
  sendForm.addEventListener('submit', (e) => {
    e.preventDefault();
    clearError(sendError);
    busy(sendBtn, async () => {
      const c = channel.input.value;
      const value = dest.input.value.trim();
      const path = c === 'email' ? '/auth/email/send-otp' : c === 'sms' ? '/auth/phone/send-otp' : '/auth/whatsapp/send-otp';
      try {
        const r = await api('POST', path, { anonymous: true, body: c === 'email' ? { email: value } : { phone: value } });
        sentTo = { channel: c, value };
        sendStatus.textContent = r.message || 'Code sent.';
        verifyForm.hidden = false;
        code.input.focus();
      } catch (err) { showError(sendError, err); }
    });
  });
  verifyForm.addEventListener('submit', (e) => {
    e.preventDefault();
    clearError(verifyError);
    if (!sentTo) return;
    busy(verifyBtn, async () => {
      const path = sentTo.channel === 'email' ? '/auth/email/verify-otp' : sentTo.channel === 'sms' ? '/auth/phone/verify-otp' : '/auth/whatsapp/verify-otp';
      const body = sentTo.channel === 'email' ? { email: sentTo.value, token: code.input.value.trim() } : { phone: sentTo.value, token: code.input.value.trim() };
      try { done(await api('POST', path, { anonymous: true, body })); } catch (err) { showError(verifyError, err); }
    });
  });
  update();
  return h('div', { hidden: true }, h('div', { class: 'card', 'aria-labelledby': 'otp-title', role: 'region' }, h('h2', { id: 'otp-title', text: 'Sign in with a one-time code' }), sendForm, verifyForm));
}

function socialButton(provider) {
  const error = h('p', { class: 'field-error', role: 'alert', hidden: true });
  const button = h('button', { type: 'button', class: 'secondary social-button', dataset: { provider }, text: `Continue with ${PROVIDER_LABEL[provider] || provider}` });
  button.addEventListener('click', () => busy(button, async () => {
    clearError(error);
    const clientState = randomId(24);
    try {
      const r = await api('GET', `/auth/${provider}`, { anonymous: true, query: { client_state: clientState } });
      sessionStorage.setItem('sos.oauth', JSON.stringify({ provider, client_state: clientState, started_at: Date.now() }));
      window.location.assign(r.auth_url);
    } catch (err) { showError(error, err); }
  }));
  return h('div', { class: 'social-item' }, button, error);
}
