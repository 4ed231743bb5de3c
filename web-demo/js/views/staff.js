// Pieces shared by the secretary and admin views: the staff actions on an appointment, and booking for a patient.
import { api, doctor as doctorInfo } from '../api.js';
import { h, clear, field, select, showError, clearError, busy, statusLine, todayIn, fmtInstant, localZone, bothTimes, CONSULTATION_TYPE, money, announce } from '../ui.js';
import { appointmentSummary, putAppointment } from './appointments.js';

export function staffItem(a, live) {
  const li = h('li', { dataset: { appointmentId: a.id, status: a.status }, class: live.fresh.has(a.id) ? 'new-item' : '' });
  const error = h('p', { class: 'field-error', role: 'alert', hidden: true });
  const actions = h('div', { class: 'actions' });
  const pay = live.payments.get(a.id);
  const button = (label, action, fn, cls = '') => {
    const b = h('button', { type: 'button', class: cls, dataset: { action }, text: label });
    b.onclick = () => busy(b, async () => { clearError(error); try { await fn(); } catch (err) { showError(error, err); } });
    actions.append(b);
  };
  const payOpen = pay && ['pending', 'processing'].includes(pay.status);
  if (payOpen) {
    button(`Confirm payment received (${money({ amount: pay.amount, currency: pay.currency })})`, 'confirm-payment', () => api('POST', `/payments/${pay.id}/confirm`));
  } else if (['pending_payment', 'payment_failed'].includes(a.status)) {
    button('Mark paid', 'mark-paid', () => putAppointment(a, { status: 'payment_completed' }));
    if (a.status === 'pending_payment') button('Confirm (pay at the clinic)', 'confirm-clinic', () => putAppointment(a, { status: 'confirmed' }), 'secondary');
  }
  if (a.status === 'payment_completed') button('Confirm', 'confirm', () => putAppointment(a, { status: 'confirmed' }));
  if (['pending_payment', 'payment_failed', 'payment_completed', 'confirmed'].includes(a.status)) {
    button('Cancel', 'cancel', () => putAppointment(a, { status: 'cancelled' }), 'secondary');
  }
  if (a.status !== 'cancelled') actions.append(h('a', { class: 'button secondary', href: `#/chat/${a.user_id}`, text: 'Message the patient' }));
  li.append(...appointmentSummary(a, live), actions, error);
  return li;
}

// Book for a patient: find the patient, choose doctor, date, type and a free slot. The patient then accepts or declines.
export async function bookForPatient(main, { doctors }) {
  const patientSearch = field('Find the patient', h('input', { type: 'search', id: 'bfp-patient-search', placeholder: 'Name or email' }));
  const findBtn = h('button', { type: 'button', class: 'secondary', id: 'bfp-find', text: 'Find' });
  const patient = field('Patient', select([['', 'Search first']], '', { id: 'bfp-patient', required: true }));
  const doctor = field('Doctor', select(doctors.map((d) => [d.id, `${d.name} — ${d.doctor_profile.specialisation}`]), doctors[0] && doctors[0].id, { id: 'bfp-doctor' }));
  const date = field('Date', h('input', { type: 'date', id: 'bfp-date', value: todayIn(), required: true }));
  const type = field('Consultation type', select(Object.entries(CONSULTATION_TYPE), 'video', { id: 'bfp-type' }));
  const slotBox = h('fieldset', { class: 'slots', id: 'bfp-slots' }, h('legend', { text: 'Free times' }));
  const error = h('p', { class: 'field-error', role: 'alert', hidden: true, id: 'bfp-error' });
  const status = h('div', { role: 'status', 'aria-live': 'polite', id: 'bfp-status' });
  const showSlots = h('button', { type: 'button', class: 'secondary', id: 'bfp-show', text: 'Show free times' });
  const book = h('button', { type: 'submit', id: 'bfp-submit', text: 'Book for this patient' });
  let slots = null;
  findBtn.onclick = () => busy(findBtn, async () => {
    clearError(patientSearch.error);
    try {
      const r = await api('GET', '/users', { query: { role: 'patient', search: patientSearch.input.value.trim(), limit: 50 } });
      clear(patient.input, r.users.length ? r.users.map((u) => h('option', { value: u.id, text: `${u.name} <${u.email || u.phone}>` })) : h('option', { value: '', text: 'No patient found' }));
    } catch (err) { showError(patientSearch.error, err); }
  });
  patientSearch.input.addEventListener('keydown', (e) => { if (e.key === 'Enter') { e.preventDefault(); findBtn.click(); } });
  showSlots.onclick = () => busy(showSlots, async () => {
    clearError(error);
    try {
      slots = await api('GET', '/availabilities/slots', { query: { doctorId: doctor.input.value, date: date.input.value, consultationType: type.input.value } });
      clear(slotBox, h('legend', { text: `Free times (${slots.slots.length})` }));
      slots.slots.forEach((s, i) => {
        const input = h('input', { type: 'radio', name: 'bfp-slot', id: `bfp-slot-${i}`, value: String(i) });
        slotBox.append(h('label', { class: 'slot', for: input.id }, input, h('span', { text: bothTimes(s.start, slots.timeZone) })));
      });
      if (!slots.slots.length) slotBox.append(h('p', { class: 'empty', text: 'No free time that day.' }));
    } catch (err) { showError(error, err); }
  });
  const form = h('form', { class: 'form card' }, h('div', { class: 'form-grid' }, h('div', {}, patientSearch.wrap, findBtn), patient.wrap, doctor.wrap, date.wrap, type.wrap),
    showSlots, slotBox, error, book, status);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    clearError(error);
    const chosen = form.querySelector('input[name="bfp-slot"]:checked');
    if (!patient.input.value) { showError(error, 'Find and choose the patient first.'); return; }
    if (!chosen || !slots) { showError(error, 'Show the free times and choose one.'); return; }
    const s = slots.slots[Number(chosen.value)];
    busy(book, async () => {
      try {
        const r = await api('POST', '/appointments', { body: { user_id: patient.input.value, doctor_id: slots.doctorId, date: slots.date, start_time: s.start_time, end_time: s.end_time, consultation_type: slots.consultationType } });
        const who = patient.input.selectedOptions[0] ? patient.input.selectedOptions[0].textContent : 'the patient';
        const acceptance = r.appointment.patient_acceptance;
        clear(status, h('p', { class: 'success', id: 'bfp-done', text: `Booked for ${who}: ${bothTimes(s.start, slots.timeZone)}.${acceptance === 'pending' ? ' Waiting for the patient to accept it.' : ''}` }));
        announce('Booked for the patient.');
        clear(slotBox, h('legend', { text: 'Free times' }));
      } catch (err) { showError(error, err); }
    });
  });
  clear(main, h('h1', { text: 'Book for a patient' }), h('p', { class: 'hint', text: 'The patient sees the booking at once and accepts or declines it.' }), form);
}

export async function doctorsById(ids) {
  const out = [];
  for (const id of ids) { try { out.push(await doctorInfo(id)); } catch { /* not visible */ } }
  return out;
}
export { fmtInstant, localZone };
