// Live appointment lists shared by the patient, doctor, secretary and admin views: REST first, then
// appointment.*, payment.updated and video.status from the hub; a resume_gap refetches everything.
import { api, doctor as doctorInfo, session } from '../api.js';
import * as hub from '../hub.js';
import {
  h, clear, badge, fmtInstant, bothTimes, zonedInstant, money, APPOINTMENT_STATUS, PAYMENT_STATUS, CONSULTATION_TYPE,
  PAYMENT_METHOD, announce, localZone,
} from '../ui.js';

export const OPEN_STATUSES = ['pending_payment', 'payment_failed', 'payment_completed', 'confirmed', 'in_progress'];
export const ACCEPTANCE = { accepted: 'Accepted', pending: 'Waiting for the patient to accept', declined: 'Declined by the patient' };

// Time zones of doctors (appointments carry the doctor's wall-clock date and time only).
const zones = new Map();
export async function zoneOf(doctorId) {
  if (zones.has(doctorId)) return zones.get(doctorId);
  try { const d = await doctorInfo(doctorId); zones.set(doctorId, d.doctor_profile.time_zone); } catch { zones.set(doctorId, null); }
  return zones.get(doctorId);
}
export function startOf(appt, zone) { return zonedInstant(appt.date, appt.start_time, zone || 'UTC'); }

export function whenText(appt, zone) {
  if (!zone) return `${appt.date} ${appt.start_time.slice(0, 5)} (doctor's time)`;
  return bothTimes(startOf(appt, zone), zone);
}

// A live, keyed collection of appointments. `load` returns detailed appointments; `accept(a)` keeps some.
export function liveAppointments({ load, accept = () => true, onChange, loadPayments = true }) {
  const items = new Map();
  const payments = new Map(); // appointment_id → newest payment
  const consultations = new Map(); // appointment_id → consultation
  const fresh = new Set();
  let disposed = false;

  const notify = (id, kind) => { if (!disposed) onChange({ id, kind }); };
  async function refetch() {
    const list = await load();
    items.clear();
    await Promise.all([...new Set(list.map((a) => a.doctor_id))].map(zoneOf));
    for (const a of list) items.set(a.id, a);
    if (loadPayments) {
      try {
        const r = await api('GET', '/payments', { query: { limit: 100, sortBy: 'created_at', sortOrder: 'asc' } });
        payments.clear();
        for (const p of r.payments) payments.set(p.appointment_id, p);
      } catch { /* payments are optional for this view */ }
    }
    notify(null, 'all');
  }
  async function upsert(data, kind) {
    let a = data;
    if (!data.doctor || !data.patient) {
      try { a = (await api('GET', `/appointments/${data.id}`)).appointment; } catch {
        const old = items.get(data.id);
        a = old ? { ...old, ...data } : data;
      }
    }
    await zoneOf(a.doctor_id);
    // Answers to overlapping refetches may come back out of order: never go back to an older version.
    const prev = items.get(a.id);
    if (prev && ((a.version !== undefined && prev.version !== undefined && a.version < prev.version) || (a.updated_at && prev.updated_at && a.updated_at < prev.updated_at))) return;
    if (!accept(a)) { if (items.delete(a.id)) notify(a.id, 'removed'); return; }
    const isNew = !items.has(a.id);
    items.set(a.id, a);
    if (isNew && kind === 'created') fresh.add(a.id);
    notify(a.id, isNew ? 'added' : 'updated');
  }
  const offs = [
    hub.on('appointment.created', (d) => upsert(d, 'created')),
    hub.on('appointment.updated', (d) => upsert(d, 'updated')),
    hub.on('appointment.deleted', (d) => { if (items.delete(d.id)) notify(d.id, 'removed'); }),
    hub.on('payment.updated', (p) => { payments.set(p.appointment_id, p); if (items.has(p.appointment_id)) notify(p.appointment_id, 'updated'); }),
    hub.on('video.status', (c) => { consultations.set(c.appointment_id, c); if (items.has(c.appointment_id)) notify(c.appointment_id, 'updated'); }),
    hub.on('resume_gap', () => { refetch().catch(() => {}); }),
  ];
  return {
    items, payments, consultations, fresh, refetch, upsert,
    dispose() { disposed = true; offs.forEach((f) => f()); },
  };
}

// Renders a list into `ul`, one <li data-appointment-id> per appointment, re-rendering only what changed.
export function bindList(ul, live, { sort, item, empty = 'No appointments.', announceNew }) {
  const render = ({ id, kind }) => {
    const sorted = [...live.items.values()].sort(sort);
    if (kind === 'all' || kind === 'added' || kind === 'removed' || !id) {
      clear(ul);
      if (!sorted.length) ul.append(h('li', { class: 'empty', text: empty }));
      for (const a of sorted) ul.append(item(a));
      if (kind === 'added' && announceNew) { const a = live.items.get(id); if (a && live.fresh.has(id)) announce(announceNew(a)); }
      return;
    }
    const old = ul.querySelector(`[data-appointment-id="${id}"]`);
    const a = live.items.get(id);
    if (old && a) {
      const hadFocus = old.contains(document.activeElement) ? document.activeElement.dataset.action : null;
      const next = item(a);
      for (const i of old.querySelectorAll('input[data-action], textarea[data-action]')) {
        const j = i.value && next.querySelector(`[data-action="${i.dataset.action}"]`);
        if (j && !j.value) j.value = i.value;
      }
      old.replaceWith(next);
      if (hadFocus) { const f = next.querySelector(`[data-action="${hadFocus}"]`); if (f) f.focus(); }
    }
  };
  return render;
}

export function byStart(a, b) {
  return startOf(a, zones.get(a.doctor_id)) - startOf(b, zones.get(b.doctor_id));
}
export const byStartDesc = (a, b) => byStart(b, a);

// The common part of an appointment row: who, when, what, status words.
export function appointmentSummary(a, live, { showPatient = true, showDoctor = true } = {}) {
  const zone = zones.get(a.doctor_id);
  const pay = live.payments.get(a.id);
  const consult = live.consultations.get(a.id);
  const who = [];
  if (showDoctor && a.doctor) who.push(a.doctor.name + (a.doctor.doctor_profiles && a.doctor.doctor_profiles[0] ? `, ${a.doctor.doctor_profiles[0].specialisation}` : ''));
  if (showPatient && a.patient) who.push(`Patient: ${a.patient.name}`);
  return [
    h('h3', {}, who.join(' · ') || CONSULTATION_TYPE[a.consultation_type]),
    h('p', { class: 'meta when' }, whenText(a, zone)),
    h('p', { class: 'meta' }, `${CONSULTATION_TYPE[a.consultation_type] || a.consultation_type}`,
      a.fee ? ` · ${money(a.fee)}` : '',
      a.symptoms && a.symptoms.length ? ` · Symptoms: ${a.symptoms.join(', ')}` : ''),
    h('p', { class: 'badges' },
      h('span', { class: 'sr-only', text: 'Status: ' }), badge('appt', a.status, APPOINTMENT_STATUS),
      pay ? [' ', badge('pay', pay.status, PAYMENT_STATUS), pay.payment_method ? h('span', { class: 'meta', text: ` (${PAYMENT_METHOD[pay.payment_method] || pay.payment_method}, ${money({ amount: pay.amount, currency: pay.currency })})` }) : null] : null,
      a.patient_acceptance && a.patient_acceptance !== 'accepted' ? [' ', h('span', { class: 'badge', dataset: { status: a.patient_acceptance }, text: ACCEPTANCE[a.patient_acceptance] || a.patient_acceptance })] : null,
      consult && consult.status === 'in_progress' ? [' ', h('span', { class: 'badge', dataset: { status: 'in_progress' }, text: 'Video call open' })] : null),
    a.hold_expires_at && ['pending_payment', 'payment_failed'].includes(a.status)
      ? h('p', { class: 'meta hold' }, `Held until ${fmtInstant(a.hold_expires_at, localZone())}; it is released automatically if not paid or confirmed by then.`) : null,
    a.cancellation_reason && a.status === 'cancelled' ? h('p', { class: 'meta', text: `Why: ${a.cancellation_reason}` }) : null,
    a.additional_note ? h('p', { class: 'meta', text: `Note: ${a.additional_note}` }) : null,
    a.visit_location ? h('p', { class: 'meta', text: `Visit at: ${typeof a.visit_location === 'string' ? a.visit_location : (a.visit_location.address || JSON.stringify(a.visit_location))}` }) : null,
  ].filter(Boolean);
}

export function isMine(a) { return session.user && (a.user_id === session.user.id || a.doctor_id === session.user.id); }

// PUT /appointments/:id with If-Match when the server gives a version: a stale write (someone changed the
// appointment meanwhile) is refused with 409 and its details, instead of silently overwriting.
export function putAppointment(a, body) {
  const headers = a.version !== undefined && a.version !== null ? { 'If-Match': `"${a.version}"` } : {};
  return api('PUT', `/appointments/${a.id}`, { body, headers });
}
