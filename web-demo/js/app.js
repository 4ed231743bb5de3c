// Boot, routing and the page shell. Each role has its views; the route is the URL hash (#/section/arg).
import * as rest from './api.js';
import * as hub from './hub.js';
import * as store from './store.js';
import { h, clear, announce } from './ui.js';
import { renderSignIn } from './views/auth.js';
import * as patient from './views/patient.js';
import * as doctor from './views/doctor.js';
import * as secretary from './views/secretary.js';
import * as admin from './views/admin.js';
import * as chat from './views/chat.js';
import * as common from './views/common.js';
import * as video from './video.js';
import * as sos from './views/sos.js';

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const account = document.getElementById('account');
const connection = document.getElementById('connection');
let cleanup = null;
let started = false;

const ROUTES = {
  patient: {
    home: 'find',
    nav: [['sos', 'SOS'], ['find', 'Find a doctor'], ['appointments', 'Appointments'], ['chat', 'Messages'], ['records', 'Records'], ['notifications', 'Notifications'], ['profile', 'Profile']],
    views: { sos: sos.patient, find: patient.find, doctor: patient.doctorPage, appointments: patient.appointments, records: patient.records },
  },
  doctor: {
    home: 'dashboard',
    nav: [['dashboard', 'Dashboard'], ['sos', 'SOS on call'], ['chat', 'Messages'], ['records', 'Records'], ['availability', 'Availability'], ['notifications', 'Notifications'], ['profile', 'Profile']],
    views: { dashboard: doctor.dashboard, sos: sos.doctor, records: doctor.records, availability: doctor.availability, profile: doctor.profile },
  },
  secretary: {
    home: 'calendar',
    nav: [['calendar', 'Calendars'], ['book', 'Book for a patient'], ['payments', 'Payments'], ['sos', 'SOS requests'], ['chat', 'Messages'], ['notifications', 'Notifications'], ['profile', 'Profile']],
    views: { calendar: secretary.calendar, book: secretary.book, payments: admin.payments, sos: sos.staff },
  },
  admin: {
    home: 'dashboard',
    nav: [['dashboard', 'Dashboard'], ['users', 'Users'], ['appointments', 'Appointments'], ['payments', 'Payments'], ['sos', 'SOS requests'], ['chat', 'Messages'], ['profile', 'Profile']],
    views: { dashboard: admin.dashboard, users: admin.users, appointments: admin.appointments, payments: admin.payments, sos: sos.staff },
  },
};
ROUTES.superadmin = ROUTES.admin;

function routesFor(role) { return ROUTES[role] || ROUTES.patient; }

function parseHash() {
  const raw = location.hash.replace(/^#\/?/, '');
  const [path, qs] = raw.split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  return { section: parts[0] || '', args: parts.slice(1), params: new URLSearchParams(qs || '') };
}

function renderNav(role) {
  const r = routesFor(role);
  const { section } = parseHash();
  const current = section || r.home;
  const list = h('ul');
  for (const [key, label] of r.nav) {
    const badge = h('span', { class: 'count', dataset: { count: key } });
    list.append(h('li', {}, h('a', { href: `#/${key}`, 'aria-current': key === current ? 'page' : null, dataset: { nav: key } }, label, badge)));
  }
  clear(nav, h('button', { class: 'menu-toggle', type: 'button', 'aria-expanded': 'false', 'aria-controls': 'nav-list', text: 'Menu',
    onclick: (e) => { const open = e.currentTarget.getAttribute('aria-expanded') !== 'true'; e.currentTarget.setAttribute('aria-expanded', String(open)); list.classList.toggle('open', open); } }), list);
  list.id = 'nav-list';
  updateCounts();
}

function updateCounts() {
  const set = (key, n, word) => {
    const el = nav.querySelector(`[data-count="${key}"]`);
    if (!el) return;
    el.textContent = n ? ` (${n} ${word})` : '';
  };
  set('chat', store.totalUnread(), 'unread');
  set('notifications', store.notifications.unread, 'new');
}

function renderAccount(user) {
  clear(account,
    h('span', { class: 'who' }, h('span', { class: 'who-name', text: user.name || user.email }), ' ', h('span', { class: 'who-role', text: `(${user.role})` })),
    h('button', { type: 'button', class: 'secondary', id: 'sign-out', text: 'Sign out', onclick: async (e) => { e.currentTarget.disabled = true; await rest.signOut(); } }));
}

async function route() {
  if (!rest.session.signedIn) return;
  const user = rest.session.user;
  const r = routesFor(user.role);
  const { section, args, params } = parseHash();
  const key = section || r.home;
  if (cleanup) { try { cleanup(); } catch (e) { console.error(e); } cleanup = null; }
  renderNav(user.role);
  let view = r.views[key];
  if (!view) {
    if (key === 'chat') view = chat.render;
    else if (key === 'call') view = video.render;
    else if (key === 'notifications') view = common.notifications;
    else if (key === 'profile') view = common.profile;
    else { location.hash = `#/${r.home}`; return; }
  }
  clear(main);
  main.dataset.view = key;
  document.body.dataset.role = user.role;
  try {
    cleanup = (await view(main, { args, params, user })) || null;
  } catch (err) {
    console.error(err);
    clear(main, h('p', { class: 'field-error', role: 'alert', text: `This page could not be shown: ${err.details || err.message}` }));
  }
  const heading = main.querySelector('h1');
  const title = heading ? heading.textContent : 'SOS Tourist Doctor';
  document.title = `${title} · SOS Tourist Doctor`;
}

function showConnection({ state, detail }) {
  if (state === 'reconnecting') {
    connection.hidden = false;
    connection.className = 'connection reconnecting';
    connection.textContent = 'Reconnecting… Live updates will resume by themselves.';
  } else if (state === 'online') {
    if (!connection.hidden && connection.classList.contains('reconnecting')) {
      connection.className = 'connection online';
      connection.textContent = 'Connected again.';
      setTimeout(() => { if (hub.getState() === 'online') connection.hidden = true; }, 2500);
    }
  } else if (state === 'connecting') {
    connection.hidden = true;
  }
  if (detail) console.info('hub', state, detail);
}

async function startSession() {
  if (started) return;
  started = true;
  try {
    const me = await rest.api('GET', '/auth/me');
    rest.session.setUser(me.user);
  } catch (err) {
    started = false;
    if (err.status === 401 || !rest.session.signedIn) { rest.endSession(`Please sign in again: ${err.details}`); return; }
  }
  if (!rest.session.signedIn) { started = false; return; }
  renderAccount(rest.session.user);
  hub.start(rest.session.user);
  store.init();
  await route();
}

function showSignIn(message) {
  started = false;
  if (cleanup) { try { cleanup(); } catch { /* ignore */ } cleanup = null; }
  clear(nav);
  clear(account);
  connection.hidden = true;
  document.body.dataset.role = '';
  main.dataset.view = 'signin';
  renderSignIn(main, { message, onSignedIn: () => { if (location.hash && !location.hash.startsWith('#/')) location.hash = ''; startSession(); } });
  document.title = 'Sign in · SOS Tourist Doctor';
}

async function boot() {
  window.SOS_CONFIG = await rest.config();
  window.sosHub = hub; // for debugging from the console (and the browser tests' dropped-socket check)
  hub.on('state', showConnection);
  store.subscribe(updateCounts);
  rest.on('signout', (message) => {
    hub.stop();
    clear(document.getElementById('toasts'));
    // A new sign-in in this tab starts from a fresh page state.
    showSignIn(message);
    if (message) announce(message, { assertive: true });
  });
  window.addEventListener('hashchange', () => { if (rest.session.signedIn) route(); });
  const flash = sessionStorage.getItem('sos.flash');
  sessionStorage.removeItem('sos.flash');
  if (rest.session.signedIn) startSession(); else showSignIn(flash);
}

boot();
