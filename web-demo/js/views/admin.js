// Admin views: dashboard (stats, recent activity, analytics chart), users (search, create staff, block,
// change role), all appointments (mark paid, confirm, cancel) and payments (confirm, refund). The
// secretary's payments view is the same one, scoped by the server to her doctors.
import { api, session } from '../api.js';
import * as hub from '../hub.js';
import {
  h, clear, field, select, showError, clearError, busy, statusLine, section, fmtInstant, localZone, money, badge,
  PAYMENT_STATUS, APPOINTMENT_STATUS, PAYMENT_METHOD, ROLE, todayIn, addDays, announce,
} from '../ui.js';
import { liveAppointments, byStartDesc } from './appointments.js';
import { staffItem, bookForPatient } from './staff.js';
import { keepFocus } from './doctor.js';

const SVG = 'http://www.w3.org/2000/svg';
function s(tag, attrs = {}, ...kids) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  for (const k of kids) el.append(k instanceof Node ? k : document.createTextNode(String(k)));
  return el;
}

export async function dashboard(main) {
  const error = h('p', { class: 'field-error', role: 'alert', hidden: true });
  const stats = h('div', { class: 'stats', id: 'stats' });
  const recent = h('div', { class: 'grid two', id: 'recent' });
  const chart = h('div', { class: 'chart', id: 'analytics-chart' });
  const summary = h('p', { class: 'meta', id: 'analytics-summary', role: 'status' });
  const period = field('Period', select([['day', 'By day'], ['week', 'By week'], ['month', 'By month'], ['year', 'By year']], 'day', { id: 'analytics-period' }));
  const start = field('From', h('input', { type: 'date', id: 'analytics-start', value: addDays(todayIn(), -30) }));
  const end = field('To', h('input', { type: 'date', id: 'analytics-end', value: addDays(todayIn(), 30) }));
  const chartError = h('p', { class: 'field-error', role: 'alert', hidden: true, id: 'analytics-error' });
  const show = h('button', { type: 'submit', id: 'analytics-show', text: 'Show' });
  const form = h('form', { class: 'form' }, h('div', { class: 'form-grid' }, period.wrap, start.wrap, end.wrap), show, chartError);
  const cfg = window.SOS_CONFIG || {};
  let seed = null;
  if (cfg.mode === 'development') {
    const seedStatus = statusLine();
    const seedError = h('p', { class: 'field-error', role: 'alert', hidden: true });
    const btn = h('button', { type: 'button', id: 'seed-demo', class: 'secondary', text: 'Load demo data' });
    btn.onclick = () => busy(btn, async () => { clearError(seedError); try { const r = await api('POST', '/dev/seed-demo'); seedStatus.textContent = r.message; await loadAll(); } catch (err) { showError(seedError, err); } });
    seed = section('Development', h('p', { class: 'hint', text: 'Creates demo doctors, patients, a secretary and appointments (password Demo1234!).' }), btn, seedStatus, seedError);
  }
  clear(main, h('h1', { text: 'Admin dashboard' }), error, seed, section('Now', stats), section('Payments over time', form, chart, summary), recent);

  async function loadStats() {
    const r = (await api('GET', '/admin/dashboard/stats')).stats;
    const card = (label, value, detail) => h('div', { class: 'stat' }, h('span', { class: 'value', text: value }), h('span', { text: label }), detail ? h('p', { class: 'meta', text: detail }) : null);
    clear(stats,
      card('Users', r.users.total, `${r.users.active} active, ${r.users.blocked} blocked, ${r.users.pending} pending`),
      card('Doctors', r.doctors.total, `${r.doctors.listed} listed`),
      card('Appointments', r.appointments.total, `${r.appointments.pending} awaiting payment, ${r.appointments.confirmed} confirmed, ${r.appointments.completed} completed, ${r.appointments.cancelled} cancelled`),
      card('Revenue', Object.keys(r.payments.revenueByCurrency || {}).length
        ? Object.entries(r.payments.revenueByCurrency).map(([c, v]) => money({ amount: v, currency: c })).join(' + ')
        : money({ amount: r.payments.totalRevenue, currency: r.payments.currency }),
      `${r.payments.successful} paid, ${r.payments.failed} failed, ${r.payments.refunded} refunded · ${money({ amount: r.payments.totalRevenue, currency: r.payments.currency })} in ${r.payments.currency}`));
  }
  async function loadRecent() {
    const r = await api('GET', '/admin/dashboard/recent-activity', { query: { limit: 8 } });
    clear(recent,
      section('New users', h('ul', { class: 'list' }, r.recentUsers.map((u) => h('li', {}, `${u.name} (${ROLE[u.role] || u.role})`, h('p', { class: 'meta', text: `${u.email} · ${fmtInstant(u.created_at, localZone())}` }))))),
      section('Latest bookings', h('ul', { class: 'list' }, r.recentAppointments.map((a) => h('li', {}, `${a.patient.name} with ${a.doctor.name}`, h('p', { class: 'meta' }, `${a.date} ${a.start_time.slice(0, 5)} · `, badge('appt', a.status, APPOINTMENT_STATUS)))))),
      section('Latest payments', h('ul', { class: 'list' }, r.recentPayments.map((p) => h('li', {}, `${money({ amount: p.amount, currency: p.currency })} from ${p.user.name}`, h('p', { class: 'meta' }, badge('pay', p.status, PAYMENT_STATUS), ` · ${fmtInstant(p.created_at, localZone())}`))))));
  }
  async function loadChart() {
    clearError(chartError);
    try {
      const r = await api('GET', '/admin/dashboard/analytics', { query: { period: period.input.value, startDate: start.input.value, endDate: end.input.value } });
      drawChart(chart, r);
      const cur = Object.entries(r.summary.currencies || {}).map(([c, v]) => money({ amount: v.total, currency: c })).join(', ');
      summary.textContent = `${r.summary.totalPayments} payments (${r.summary.successfulPayments} paid, ${r.summary.pendingPayments} pending, ${r.summary.failedPayments} failed)${cur ? `: ${cur}` : ''}.`;
    } catch (err) { showError(chartError, err); }
  }
  async function loadAll() {
    clearError(error);
    try { await Promise.all([loadStats(), loadRecent()]); } catch (err) { showError(error, err); }
    await loadChart();
  }
  form.addEventListener('submit', (e) => { e.preventDefault(); busy(show, loadChart); });
  await loadAll();
  let timer = null;
  const soon = () => { clearTimeout(timer); timer = setTimeout(loadAll, 800); };
  const offs = [hub.on('payment.updated', soon), hub.on('appointment.created', soon), hub.on('appointment.updated', soon), hub.on('resume_gap', soon)];
  return () => { clearTimeout(timer); offs.forEach((f) => f()); };
}

// An inline SVG bar chart: payment count per bucket, with a text table for screen readers.
function drawChart(box, r) {
  const data = r.data;
  const W = 640; const H = 260; const pad = { l: 40, r: 10, t: 10, b: 70 };
  const max = Math.max(1, ...data.map((d) => d.count));
  const bw = data.length ? Math.min(48, (W - pad.l - pad.r) / data.length) : 0;
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-labelledby': 'chart-title' },
    s('title', { id: 'chart-title' }, `Number of payments per ${r.period}`),
    s('line', { class: 'axis', x1: pad.l, y1: H - pad.b, x2: W - pad.r, y2: H - pad.b }),
    s('line', { class: 'axis', x1: pad.l, y1: pad.t, x2: pad.l, y2: H - pad.b }),
    s('text', { x: 4, y: pad.t + 10 }, String(max)), s('text', { x: 4, y: H - pad.b }, '0'));
  data.forEach((d, i) => {
    const bh = ((H - pad.t - pad.b) * d.count) / max;
    const x = pad.l + i * bw + bw * 0.1;
    svg.append(s('rect', { class: 'bar', x, y: H - pad.b - bh, width: Math.max(1, bw * 0.8), height: bh }, s('title', {}, `${d.date}: ${d.count} payments, ${d.totalAmount}`)));
    if (data.length <= 16 || i % Math.ceil(data.length / 16) === 0) svg.append(s('text', { x, y: H - pad.b + 14, transform: `rotate(30 ${x} ${H - pad.b + 14})` }, d.date));
  });
  const table = h('table', { class: 'sr-only' }, h('caption', { text: 'Payments per period' }), h('thead', {}, h('tr', {}, h('th', { scope: 'col', text: 'Period' }), h('th', { scope: 'col', text: 'Payments' }), h('th', { scope: 'col', text: 'Total' }))),
    h('tbody', {}, data.map((d) => h('tr', {}, h('td', { text: d.date }), h('td', { text: d.count }), h('td', { text: d.totalAmount })))));
  clear(box, data.length ? svg : h('p', { class: 'empty', text: 'No payments in this range.' }), table);
}

// ---- Users ----
export async function users(main) {
  const search = field('Search', h('input', { type: 'search', id: 'users-search', placeholder: 'Name or email' }));
  const role = field('Role', select([['', 'Any role'], ...Object.entries(ROLE)], '', { id: 'users-role' }));
  const status = field('Status', select([['', 'Any status'], ['active', 'Active'], ['blocked', 'Blocked'], ['pending', 'Pending']], '', { id: 'users-status' }));
  const error = h('p', { class: 'field-error', role: 'alert', hidden: true, id: 'users-error' });
  const tbody = h('tbody', { id: 'users-body' });
  const find = h('button', { type: 'submit', id: 'users-find', text: 'Search' });
  const form = h('form', { class: 'card form', role: 'search', 'aria-label': 'Find users' }, h('div', { class: 'form-grid' }, search.wrap, role.wrap, status.wrap), find, error);
  const load = async () => {
    clearError(error);
    try {
      const r = await api('GET', '/users', { query: { search: search.input.value.trim(), role: role.input.value, status: status.input.value, limit: 50 } });
      clear(tbody, r.users.map((u) => userRow(u, load)));
      if (!r.users.length) tbody.append(h('tr', {}, h('td', { colspan: 5, class: 'empty', text: 'No user matches.' })));
    } catch (err) { showError(error, err); }
  };
  form.addEventListener('submit', (e) => { e.preventDefault(); busy(find, load); });
  const table = h('div', { class: 'table-wrap' }, h('table', {}, h('caption', { class: 'sr-only', text: 'Users' }),
    h('thead', {}, h('tr', {}, ['Name', 'Email', 'Role', 'Status', 'Actions'].map((t) => h('th', { scope: 'col', text: t })))), tbody));
  clear(main, h('h1', { text: 'Users' }), form, section('Users', table), section('Create a staff account', await createForm(load)));
  await load();
  return null;
}

function userRow(u, reload) {
  const error = h('p', { class: 'field-error', role: 'alert', hidden: true });
  const roleSel = select(Object.entries(ROLE), u.role, { 'aria-label': `Role of ${u.name}`, dataset: { action: 'role' } });
  const setRole = h('button', { type: 'button', class: 'secondary', dataset: { action: 'set-role' }, text: 'Change role' });
  const self = session.user && session.user.id === u.id;
  setRole.onclick = () => busy(setRole, async () => { clearError(error); try { await api('PUT', `/users/${u.id}`, { body: { role: roleSel.value } }); announce(`${u.name} is now ${roleSel.value}.`); await reload(); } catch (err) { showError(error, err); } });
  const blocked = u.is_status === 'blocked';
  const block = h('button', { type: 'button', class: blocked ? 'secondary' : 'danger', dataset: { action: 'block' }, text: blocked ? 'Unblock' : 'Block' });
  block.onclick = () => busy(block, async () => { clearError(error); try { await api('PUT', `/users/${u.id}`, { body: { is_status: blocked ? 'active' : 'blocked' } }); announce(`${u.name} ${blocked ? 'unblocked' : 'blocked'}.`); await reload(); } catch (err) { showError(error, err); } });
  return h('tr', { dataset: { userId: u.id, email: u.email } },
    h('td', { text: u.name }), h('td', { text: u.email || u.phone }),
    h('td', {}, self ? (ROLE[u.role] || u.role) : roleSel),
    h('td', {}, h('span', { class: 'badge', dataset: { status: u.is_status === 'active' ? 'accepted' : u.is_status === 'blocked' ? 'declined' : 'pending' }, text: u.is_status })),
    h('td', {}, self ? h('span', { class: 'meta', text: 'You' }) : h('div', { class: 'actions' }, setRole, block), error));
}

async function createForm(reload) {
  let doctors = [];
  try { doctors = (await api('GET', '/doctors', { query: { limit: 100 } })).doctors; } catch { doctors = []; }
  const name = field('Name', h('input', { type: 'text', id: 'new-name', required: true, maxlength: 100 }));
  const email = field('Email', h('input', { type: 'email', id: 'new-email', required: true }));
  const password = field('Temporary password', h('input', { type: 'password', id: 'new-password', required: true, minlength: 8, autocomplete: 'new-password' }), '8 to 72 characters; tell it to the person.');
  const role = field('Role', select([['secretary', 'Secretary'], ['doctor', 'Doctor'], ['admin', 'Admin'], ['patient', 'Patient']], 'secretary', { id: 'new-role' }));
  const assoc = h('fieldset', { class: 'checks' }, h('legend', { text: 'Works for (secretaries)' }),
    doctors.map((d) => { const i = h('input', { type: 'checkbox', id: `new-doc-${d.id}`, value: d.id }); return h('label', { for: i.id }, i, d.name); }));
  role.input.addEventListener('change', () => { assoc.hidden = role.input.value !== 'secretary'; });
  const error = h('p', { class: 'field-error', role: 'alert', hidden: true, id: 'new-error' });
  const status = statusLine();
  const save = h('button', { type: 'submit', id: 'new-save', text: 'Create account' });
  const form = h('form', { class: 'form' }, name.wrap, email.wrap, password.wrap, role.wrap, assoc, error, save, status);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    clearError(error);
    busy(save, async () => {
      const body = { name: name.input.value.trim(), email: email.input.value.trim(), password: password.input.value, role: role.input.value };
      if (role.input.value === 'secretary') body.associated_doctors = [...assoc.querySelectorAll('input:checked')].map((i) => i.value);
      try { const r = await api('POST', '/users', { body }); status.textContent = `Created ${r.user.name} (${r.user.role}).`; form.reset(); await reload(); } catch (err) { showError(error, err); }
    });
  });
  return form;
}

// ---- All appointments (admin) ----
export async function appointments(main, { params }) {
  const statusSel = field('Status', select([['', 'Any status'], ...Object.entries(APPOINTMENT_STATUS)], params.get('status') || '', { id: 'appts-status' }));
  const ul = h('ul', { class: 'list', id: 'admin-appointments' });
  const error = h('p', { class: 'field-error', role: 'alert', hidden: true });
  const form = h('form', { class: 'card form' }, statusSel.wrap, h('button', { type: 'submit', text: 'Show' }));
  let live = null;
  const render = () => keepFocus(ul, () => {
    clear(ul);
    const list = [...live.items.values()].sort((a, b) => (b.created_at > a.created_at ? 1 : -1));
    if (!list.length) ul.append(h('li', { class: 'empty', text: 'No appointments.' }));
    for (const a of list) ul.append(staffItem(a, live));
  });
  const load = async () => {
    if (live) live.dispose();
    live = liveAppointments({
      load: async () => (await api('GET', '/appointments/all', { query: { status: statusSel.input.value, limit: 50, sortBy: 'created_at', sortOrder: 'desc' } })).appointments,
      accept: (a) => !statusSel.input.value || a.status === statusSel.input.value,
      onChange: render,
    });
    try { await live.refetch(); } catch (err) { showError(error, err); }
  };
  form.addEventListener('submit', (e) => { e.preventDefault(); load(); });
  const bookBox = h('div');
  clear(main, h('h1', { text: 'Appointments' }), form, error, section('Newest first (updates live)', ul), bookBox);
  await load();
  return () => { if (live) live.dispose(); };
}

export async function bookAdmin(main) {
  const doctors = (await api('GET', '/doctors', { query: { limit: 100 } })).doctors;
  await bookForPatient(main, { doctors });
  return null;
}

// ---- Payments (admin and secretary) ----
export async function payments(main) {
  const statusSel = field('Status', select([['', 'Any status'], ...Object.entries(PAYMENT_STATUS)], '', { id: 'payments-status' }));
  const tbody = h('tbody', { id: 'payments-body' });
  const error = h('p', { class: 'field-error', role: 'alert', hidden: true });
  const form = h('form', { class: 'card form' }, statusSel.wrap, h('button', { type: 'submit', text: 'Show' }));
  const load = async () => {
    clearError(error);
    try {
      const r = await api('GET', '/payments', { query: { status: statusSel.input.value, limit: 50, sortBy: 'created_at', sortOrder: 'desc' } });
      // Keep rows that did not change, so a live refresh never wipes what someone is typing in a row.
      const old = new Map([...tbody.querySelectorAll('tr[data-payment-id]')].map((tr) => [tr.dataset.paymentId, tr]));
      clear(tbody, r.payments.map((p) => {
        const tr = old.get(p.id);
        return tr && tr.dataset.version === `${p.status}:${p.refund_amount}:${p.updated_at}` ? tr : paymentRow(p, load);
      }));
      if (!r.payments.length) tbody.append(h('tr', {}, h('td', { colspan: 5, class: 'empty', text: 'No payments.' })));
    } catch (err) { showError(error, err); }
  };
  form.addEventListener('submit', (e) => { e.preventDefault(); load(); });
  const table = h('div', { class: 'table-wrap' }, h('table', {}, h('caption', { class: 'sr-only', text: 'Payments' }),
    h('thead', {}, h('tr', {}, ['Patient', 'Appointment', 'Amount', 'Status', 'Actions'].map((t) => h('th', { scope: 'col', text: t })))), tbody));
  clear(main, h('h1', { text: 'Payments' }), form, error, section('Payments (update live)', table));
  await load();
  let timer = null;
  const offs = [hub.on('payment.updated', () => { clearTimeout(timer); timer = setTimeout(load, 300); }), hub.on('resume_gap', load)];
  return () => { clearTimeout(timer); offs.forEach((f) => f()); };
}

function paymentRow(p, reload) {
  const error = h('p', { class: 'field-error', role: 'alert', hidden: true });
  const actions = h('div', { class: 'actions' });
  if (['pending', 'processing'].includes(p.status)) {
    const b = h('button', { type: 'button', dataset: { action: 'confirm-payment' }, text: 'Confirm received' });
    b.onclick = () => busy(b, async () => { clearError(error); try { await api('POST', `/payments/${p.id}/confirm`); await reload(); } catch (err) { showError(error, err); } });
    actions.append(b);
  }
  if (['succeeded', 'partially_refunded'].includes(p.status)) {
    const amount = h('input', { type: 'number', min: 0, step: '0.01', 'aria-label': `Refund amount for ${p.user.name} (empty: all that remains)`, placeholder: 'All', dataset: { action: 'refund-amount' } });
    const reason = h('input', { type: 'text', maxlength: 500, 'aria-label': 'Refund reason', placeholder: 'Reason', dataset: { action: 'refund-reason' } });
    const b = h('button', { type: 'button', class: 'danger', dataset: { action: 'refund' }, text: 'Refund' });
    b.onclick = () => busy(b, async () => {
      clearError(error);
      const body = {};
      if (amount.value) body.amount = Number(amount.value);
      if (reason.value.trim()) body.reason = reason.value.trim();
      try { const r = await api('POST', `/payments/${p.id}/refund`, { body }); announce(`Refunded ${money({ amount: r.refund.amount, currency: p.currency })}.`); await reload(); } catch (err) { showError(error, err); }
    });
    actions.append(amount, reason, b);
  }
  return h('tr', { dataset: { paymentId: p.id, status: p.status, version: `${p.status}:${p.refund_amount}:${p.updated_at}` } },
    h('td', { text: p.user.name }),
    h('td', { text: `${p.appointment.date} ${p.appointment.start_time.slice(0, 5)}` }),
    h('td', { text: `${money({ amount: p.amount, currency: p.currency })} · ${PAYMENT_METHOD[p.payment_method] || p.payment_method}${p.refund_amount ? ` · refunded ${money({ amount: p.refund_amount, currency: p.currency })}` : ''}` }),
    h('td', {}, badge('pay', p.status, PAYMENT_STATUS), p.error_message ? h('p', { class: 'meta', text: p.error_message }) : null),
    h('td', {}, actions, error));
}
