// Views every role has: notifications and the profile (picture, details, notification preferences,
// calendar subscription link).
import { api, session } from '../api.js';
import * as hub from '../hub.js';
import * as store from '../store.js';
import { h, clear, field, showError, clearError, busy, statusLine, section, fmtInstant, localZone, emptyState, announce } from '../ui.js';

export async function notifications(main) {
  const list = h('ul', { class: 'list', id: 'notification-list', 'aria-live': 'polite' });
  const error = h('p', { class: 'field-error', role: 'alert', hidden: true });
  const allRead = h('button', { type: 'button', class: 'secondary', id: 'notifications-read-all', text: 'Mark all as read' });
  clear(main, h('h1', { text: 'Notifications' }), error, h('div', { class: 'actions' }, allRead), h('section', { class: 'panel', 'aria-label': 'Notifications' }, list));
  const item = (n) => {
    const read = h('button', { type: 'button', class: 'secondary', text: 'Mark as read', hidden: n.is_read });
    const li = h('li', { dataset: { notificationId: n.id, read: String(n.is_read) } },
      h('h3', {}, n.is_read ? '' : h('span', { class: 'badge', dataset: { status: 'pending' }, text: 'New' }), ' ', n.title),
      h('p', { text: n.body }), h('p', { class: 'meta', text: fmtInstant(n.created_at, localZone()) }), read);
    read.onclick = () => busy(read, async () => {
      try { await api('PUT', `/notifications/${n.id}/read`); li.replaceWith(item({ ...n, is_read: true })); store.setNotificationsUnread(Math.max(0, store.notifications.unread - 1)); } catch (err) { showError(error, err); }
    });
    return li;
  };
  const load = async () => {
    try {
      const r = await api('GET', '/notifications', { query: { limit: 50 } });
      clear(list);
      if (!r.notifications.length) list.append(h('li', { class: 'empty', text: 'Nothing yet.' }));
      for (const n of r.notifications) list.append(item(n));
      store.setNotificationsUnread(r.notifications.filter((n) => !n.is_read).length);
    } catch (err) { showError(error, err); }
  };
  allRead.onclick = () => busy(allRead, async () => {
    for (const li of [...list.querySelectorAll('[data-read="false"]')]) {
      try { await api('PUT', `/notifications/${li.dataset.notificationId}/read`); } catch (err) { showError(error, err); break; }
    }
    await load();
  });
  await load();
  const offs = [
    hub.on('notification.created', (n) => { const empty = list.querySelector('.empty'); if (empty) empty.remove(); list.prepend(item(n)); }),
    hub.on('resume_gap', load),
  ];
  return () => offs.forEach((f) => f());
}

export async function profile(main, ctx = {}) {
  const me = (await api('GET', '/users/me')).user;
  session.setUser(me);
  const panels = [personal(me), preferences(), calendar()];
  clear(main, h('h1', { text: 'My profile' }), ...(ctx.before || []), h('div', { class: 'grid two' }, ...panels));
  return null;
}

function personal(me) {
  const img = h('img', { class: 'avatar', id: 'avatar', alt: 'Your profile picture', src: me.profile_picture || '/img/icon.svg' });
  const file = field('New picture (PNG, JPEG or WebP, at most 5 MB)', h('input', { type: 'file', id: 'picture-file', accept: 'image/png,image/jpeg,image/webp' }));
  const upload = h('button', { type: 'button', id: 'picture-upload', class: 'secondary', text: 'Upload picture' });
  const pictureStatus = statusLine();
  upload.onclick = () => busy(upload, async () => {
    clearError(file.error);
    const f = file.input.files[0];
    if (!f) { showError(file.error, 'Choose a picture first.'); return; }
    const form = new FormData();
    form.append('file', f, f.name);
    try {
      const r = await api('POST', '/upload/profile-picture', { form });
      img.src = r.url;
      session.setUser({ profile_picture: r.url });
      pictureStatus.textContent = 'Picture saved.';
    } catch (err) { showError(file.error, err); }
  });
  const name = field('Name', h('input', { type: 'text', id: 'profile-name', value: me.name, maxlength: 100, autocomplete: 'name' }));
  const phone = field('Phone', h('input', { type: 'tel', id: 'profile-phone', value: me.phone, autocomplete: 'tel', placeholder: '+14155550123' }), 'International format, or empty.');
  const email = h('p', { class: 'meta', text: `Email: ${me.email || '—'}${me.email ? (me.is_email_verified ? ' (verified)' : ' (not verified)') : ''}` });
  const error = h('p', { class: 'field-error', role: 'alert', hidden: true, id: 'profile-error' });
  const status = statusLine();
  const save = h('button', { type: 'submit', id: 'profile-save', text: 'Save details' });
  const form = h('form', { class: 'form' }, name.wrap, phone.wrap, email, error, save, status);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    clearError(error);
    busy(save, async () => {
      try {
        const r = await api('PUT', '/users/me', { body: { name: name.input.value.trim(), phone: phone.input.value.trim() } });
        session.setUser(r.user);
        status.textContent = 'Saved.';
        const who = document.querySelector('.who-name');
        if (who) who.textContent = r.user.name;
      } catch (err) { showError(error, err); }
    });
  });
  return section('Your details', h('div', { class: 'actions' }, img), file.wrap, upload, pictureStatus, form);
}

const PREFS = [
  ['email', 'Email messages'], ['sms', 'Text messages (SMS)'], ['push', 'Push notifications'], ['appointmentReminders', 'Appointment reminders'],
  ['appointmentConfirmations', 'Booking confirmations'], ['paymentNotifications', 'Payment updates'],
];
function preferences() {
  const box = h('div');
  const error = h('p', { class: 'field-error', role: 'alert', hidden: true, id: 'prefs-error' });
  const status = statusLine();
  api('GET', '/notifications/preferences').then((r) => {
    const p = r.preferences;
    const checks = PREFS.map(([k, label]) => {
      const input = h('input', { type: 'checkbox', id: `pref-${k}`, checked: p[k] });
      return { k, input, el: h('label', { for: input.id }, input, label) };
    });
    const reminder = field('Remind me this many minutes before', h('input', { type: 'number', id: 'pref-reminderTime', min: 0, max: 10080, value: p.reminderTime }));
    const save = h('button', { type: 'submit', id: 'prefs-save', text: 'Save preferences' });
    const form = h('form', { class: 'form' }, h('fieldset', { class: 'checks' }, h('legend', { text: 'Tell me about' }), checks.map((c) => c.el)), reminder.wrap, error, save, status);
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      clearError(error);
      busy(save, async () => {
        const preferences = Object.fromEntries(checks.map((c) => [c.k, c.input.checked]));
        preferences.reminderTime = Number(reminder.input.value);
        try { await api('PUT', '/notifications/preferences', { body: { preferences } }); status.textContent = 'Preferences saved.'; } catch (err) { showError(error, err); }
      });
    });
    clear(box, form);
  }).catch((err) => showError(error, err));
  return section('Notification preferences', box, error);
}

function calendar() {
  const out = h('div');
  const error = h('p', { class: 'field-error', role: 'alert', hidden: true });
  const status = statusLine();
  const show = (r) => {
    const input = h('input', { type: 'text', id: 'calendar-url', readonly: true, value: new URL(r.url, location.origin).href });
    const copy = h('button', { type: 'button', class: 'secondary', text: 'Copy link' });
    copy.onclick = async () => { try { await navigator.clipboard.writeText(input.value); status.textContent = 'Link copied.'; } catch { input.select(); status.textContent = 'Select the link and copy it.'; } };
    const rotate = h('button', { type: 'button', class: 'secondary', id: 'calendar-rotate', text: 'Make a new link (the old one stops working)' });
    rotate.onclick = () => busy(rotate, async () => { try { show(await api('GET', '/calendar/token', { query: { rotate: true } })); status.textContent = 'New link made.'; } catch (err) { showError(error, err); } });
    clear(out, h('label', { for: input.id, text: 'Subscription link (iCalendar)' }), input, h('p', { class: 'hint', text: 'Add it to Google Calendar, Apple Calendar or Outlook as a calendar subscription: your appointments appear and stay up to date.' }), h('div', { class: 'actions' }, copy, rotate));
  };
  api('GET', '/calendar/token').then(show).catch((err) => showError(error, err));
  return section('Calendar subscription', out, error, status);
}

export { announce, emptyState };
