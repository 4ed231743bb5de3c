// DOM and formatting helpers shared by every view. Nothing here touches the network.
// Elements are built with h() — never innerHTML with data — so server text can never become markup.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') el.className = value;
    else if (key === 'text') el.textContent = value;
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (key === 'value') el.value = value;
    else if (key === 'checked' || key === 'selected' || key === 'disabled' || key === 'multiple' || key === 'required') el[key] = !!value;
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function clear(el, ...children) { el.replaceChildren(); append(el, children); return el; }

let uid = 0;
export function nextId(prefix = 'f') { uid += 1; return `${prefix}-${uid}`; }

// A labelled form field. Returns {wrap, input, error}; errors go in the field's own message slot.
export function field(label, input, hint) {
  const id = input.id || nextId('in');
  input.id = id;
  const error = h('p', { class: 'field-error', id: `${id}-err`, role: 'alert', hidden: true });
  const hintEl = hint ? h('p', { class: 'hint', id: `${id}-hint`, text: hint }) : null;
  input.setAttribute('aria-describedby', [hintEl && hintEl.id, error.id].filter(Boolean).join(' '));
  const wrap = h('div', { class: 'field' }, h('label', { for: id, text: label }), input, hintEl, error);
  return { wrap, input, error };
}

export function select(options, value, attrs = {}) {
  const el = h('select', attrs);
  for (const opt of options) {
    const [v, label] = Array.isArray(opt) ? opt : [opt, opt];
    el.append(h('option', { value: v, text: label, selected: String(v) === String(value ?? '') }));
  }
  return el;
}

// Shows an error next to the control (or block) that caused it: the server's `details`, never raw JSON.
export function showError(slot, err) {
  if (!slot) return;
  const text = errorText(err);
  slot.textContent = text;
  slot.hidden = !text;
}
export function clearError(slot) { if (slot) { slot.textContent = ''; slot.hidden = true; } }
export function errorText(err) {
  if (!err) return '';
  if (typeof err === 'string') return err;
  if (err.details) return err.details;
  if (err.message) return err.message;
  return 'Something went wrong. Please try again.';
}

// A status line for a block: role=status announces it politely.
export function statusLine(cls = 'status-line') { return h('p', { class: cls, role: 'status', 'aria-live': 'polite' }); }

// The page-wide announcer (aria-live) and toast for events that happen elsewhere.
export function announce(text, { assertive = false } = {}) {
  const region = document.getElementById(assertive ? 'announcer-assertive' : 'announcer');
  if (!region) return;
  region.textContent = '';
  setTimeout(() => { region.textContent = text; }, 30);
  const toasts = document.getElementById('toasts');
  if (toasts) {
    const t = h('div', { class: 'toast', text });
    toasts.append(t);
    while (toasts.children.length > 3) toasts.firstElementChild.remove();
    setTimeout(() => t.remove(), 6000);
  }
}

// Busy state for a button while its request runs; restores it afterwards.
export async function busy(button, fn) {
  const label = button.textContent;
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  try { return await fn(); } finally {
    button.disabled = false;
    button.removeAttribute('aria-busy');
    button.textContent = label;
  }
}

// ---- time ----
export const localZone = () => Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';

export function fmtInstant(iso, timeZone, opts = { dateStyle: 'medium', timeStyle: 'short' }) {
  if (!iso) return '';
  const d = iso instanceof Date ? iso : new Date(iso);
  try { return new Intl.DateTimeFormat(undefined, { ...opts, timeZone }).format(d); } catch { return d.toISOString(); }
}
export const fmtTime = (iso, timeZone) => fmtInstant(iso, timeZone, { hour: '2-digit', minute: '2-digit' });
export const fmtDate = (iso, timeZone) => fmtInstant(iso, timeZone, { weekday: 'short', day: 'numeric', month: 'short', year: 'numeric' });

// Offset (ms) of a time zone at an instant: wall clock there minus UTC.
function zoneOffset(ms, timeZone) {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
  }).formatToParts(new Date(ms));
  const get = (t) => Number(parts.find((p) => p.type === t).value);
  return Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second')) - ms;
}
// The instant of a wall-clock date and time (YYYY-MM-DD, HH:MM[:SS]) in an IANA zone.
export function zonedInstant(date, time, timeZone) {
  const [y, m, d] = date.split('-').map(Number);
  const [hh, mm, ss] = time.split(':').map(Number);
  const wall = Date.UTC(y, m - 1, d, hh, mm, ss || 0);
  if (!timeZone) return new Date(wall);
  try {
    let guess = wall - zoneOffset(wall, timeZone);
    guess = wall - zoneOffset(guess, timeZone);
    return new Date(guess);
  } catch { return new Date(wall); }
}
// Today's date (YYYY-MM-DD) in a zone.
export function todayIn(timeZone, plusDays = 0) {
  const ms = Date.now() + plusDays * 86400000;
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone: timeZone || undefined, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(ms));
  return parts; // en-CA formats as YYYY-MM-DD
}
export function addDays(date, n) {
  const [y, m, d] = date.split('-').map(Number);
  return new Date(Date.UTC(y, m - 1, d + n)).toISOString().slice(0, 10);
}

// "10:00 your time (Europe/Paris) · 09:00 doctor's time (Europe/Lisbon)"
export function bothTimes(instant, doctorZone) {
  const mine = localZone();
  const parts = [`${fmtInstant(instant, mine)} your time (${mine})`];
  if (doctorZone && doctorZone !== mine) parts.push(`${fmtInstant(instant, doctorZone)} doctor's time (${doctorZone})`);
  return parts.join(' · ');
}

export function money(fee) {
  if (!fee || fee.amount === undefined || fee.amount === null) return '';
  try { return new Intl.NumberFormat(undefined, { style: 'currency', currency: fee.currency || 'USD' }).format(fee.amount); } catch { return `${fee.amount} ${fee.currency || ''}`; }
}

export function randomId(bytes = 16) {
  const a = new Uint8Array(bytes);
  crypto.getRandomValues(a);
  return Array.from(a, (b) => b.toString(16).padStart(2, '0')).join('');
}
export function uuid() { return crypto.randomUUID ? crypto.randomUUID() : randomId(16); }

// ---- labels (status words are always shown as text; colour only repeats them) ----
export const APPOINTMENT_STATUS = {
  pending_payment: 'Awaiting payment', payment_completed: 'Paid', payment_failed: 'Payment failed', confirmed: 'Confirmed',
  in_progress: 'In progress', completed: 'Completed', cancelled: 'Cancelled',
};
export const PAYMENT_STATUS = {
  pending: 'Payment pending', processing: 'Payment processing', succeeded: 'Payment received', failed: 'Payment failed',
  refunded: 'Refunded', partially_refunded: 'Partly refunded',
};
export const CONSULTATION_TYPE = { video: 'Video call', online: 'Online', chat: 'Chat', home: 'Home visit' };
export const PAYMENT_METHOD = { card: 'Card', bank_transfer: 'Bank transfer', mobile_money: 'Mobile money' };
export const ROLE = { patient: 'Patient', doctor: 'Doctor', secretary: 'Secretary', admin: 'Admin', superadmin: 'Superadmin', guest: 'Guest' };

export function badge(kind, value, labels) {
  return h('span', { class: `badge badge-${kind}-${value}`, dataset: { status: value }, text: (labels && labels[value]) || value });
}

export function emptyState(text) { return h('p', { class: 'empty', text }); }

export function section(title, ...children) {
  const id = nextId('sec');
  return h('section', { class: 'panel', 'aria-labelledby': id }, h('h2', { id, text: title }), ...children);
}
