// Patient views: find a doctor, a doctor's profile with free slots and booking, appointments (live) with
// payment, cancel, accept/decline, video and rating, and the medical records shared with him.
import { api, doctor as doctorInfo } from '../api.js';
import * as hub from '../hub.js';
import {
  h, clear, field, select, showError, clearError, busy, statusLine, section, emptyState, todayIn, localZone,
  fmtInstant, bothTimes, money, CONSULTATION_TYPE, PAYMENT_METHOD, announce, uuid,
} from '../ui.js';
import { liveAppointments, bindList, appointmentSummary, byStartDesc, OPEN_STATUSES, putAppointment } from './appointments.js';
import { loadStripe } from '../payments.js';

export const LANGUAGES = [['', 'Any language'], ['en', 'English'], ['fr', 'French'], ['es', 'Spanish'], ['de', 'German'], ['it', 'Italian'], ['pt', 'Portuguese'], ['nl', 'Dutch'], ['ar', 'Arabic'], ['zh', 'Chinese'], ['ja', 'Japanese'], ['ru', 'Russian'], ['th', 'Thai']];
const LANGUAGE_NAME = Object.fromEntries(LANGUAGES.filter(([c]) => c));
const TYPES = ['video', 'online', 'chat', 'home'];

export function ratingText(p) {
  return p.rating_count ? `Rated ${Number(p.rating).toFixed(1)} of 5 (${p.rating_count} rating${p.rating_count === 1 ? '' : 's'})` : 'No ratings yet';
}

// ---- Find a doctor ----
export async function find(main, { params }) {
  const search = field('Search', h('input', { type: 'search', id: 'doctor-search', value: params.get('search') || '', placeholder: 'Name, specialisation or condition' }));
  const spec = field('Specialisation', h('input', { type: 'text', id: 'doctor-specialisation', list: 'specialisations', value: params.get('specialisation') || '' }), 'Exact name, e.g. Cardiology.');
  const lang = field('Speaks', select(LANGUAGES, params.get('language') || '', { id: 'doctor-language' }));
  const rating = field('Minimum rating', select([['', 'Any'], ['1', '1 or more'], ['2', '2 or more'], ['3', '3 or more'], ['4', '4 or more'], ['4.5', '4.5 or more']], params.get('minRating') || '', { id: 'doctor-rating' }));
  const sort = field('Sort by', select([['rating:desc', 'Best rated'], ['rating_count:desc', 'Most rated'], ['created_at:desc', 'Newest']], params.get('sort') || 'rating:desc', { id: 'doctor-sort' }));
  const error = h('p', { class: 'field-error', role: 'alert', hidden: true, id: 'find-error' });
  const status = statusLine();
  status.id = 'find-status';
  const results = h('ul', { class: 'list', id: 'doctor-results', 'aria-labelledby': 'results-title' });
  const datalist = h('datalist', { id: 'specialisations' });
  const submit = h('button', { type: 'submit', id: 'find-submit', text: 'Search' });
  const form = h('form', { class: 'card form', role: 'search', 'aria-label': 'Find a doctor' },
    h('div', { class: 'form-grid' }, search.wrap, spec.wrap, lang.wrap, rating.wrap, sort.wrap), datalist, error, submit);

  async function run() {
    clearError(error);
    const [sortBy, sortOrder] = sort.input.value.split(':');
    status.textContent = 'Searching…';
    try {
      const r = await api('GET', '/doctors', {
        query: { search: search.input.value.trim(), specialisation: spec.input.value.trim(), language: lang.input.value, minRating: rating.input.value, sortBy, sortOrder, limit: 50 },
      });
      clear(results);
      for (const d of r.doctors) results.append(doctorCard(d));
      if (!r.doctors.length) results.append(h('li', { class: 'empty', text: 'No doctor matches. Try fewer words or another language.' }));
      status.textContent = `${r.pagination.total} doctor${r.pagination.total === 1 ? '' : 's'} found.`;
      const specs = new Set([...datalist.options].map((o) => o.value));
      for (const d of r.doctors) if (!specs.has(d.doctor_profile.specialisation)) { specs.add(d.doctor_profile.specialisation); datalist.append(h('option', { value: d.doctor_profile.specialisation })); }
    } catch (err) { showError(error, err); status.textContent = ''; }
  }
  form.addEventListener('submit', (e) => { e.preventDefault(); busy(submit, run); });
  clear(main, h('h1', { text: 'Find a doctor' }), form, h('section', { class: 'panel', 'aria-labelledby': 'results-title' }, h('h2', { id: 'results-title', text: 'Doctors' }), status, results));
  await run();
}

function doctorCard(d) {
  const p = d.doctor_profile;
  const langs = (p.supported_languages || []).map((c) => LANGUAGE_NAME[c] || c).join(', ');
  return h('li', { class: 'doctor-card', dataset: { doctorId: d.id } },
    h('h3', {}, h('a', { href: `#/doctor/${d.id}`, text: d.name })),
    h('p', { class: 'meta' }, `${p.specialisation} · ${ratingText(p)}`),
    h('p', { class: 'meta' }, langs ? `Speaks ${langs}` : '', p.address ? ` · ${p.address}` : '', ` · Local time zone ${p.time_zone}`),
    p.fees && Object.keys(p.fees).length ? h('p', { class: 'meta' }, 'Fees: ', Object.entries(p.fees).map(([t, a]) => `${CONSULTATION_TYPE[t] || t} ${money({ amount: a, currency: p.currency })}`).join(', ')) : null,
    p.bio ? h('p', { text: p.bio }) : null,
    h('a', { class: 'button secondary', href: `#/doctor/${d.id}`, text: `See profile and book ${d.name}` }));
}

// ---- A doctor's profile: free slots and booking ----
export async function doctorPage(main, { args, params }) {
  const id = args[0];
  let d;
  try { d = await doctorInfo(id); } catch (err) {
    clear(main, h('h1', { text: 'Doctor' }), h('p', { class: 'field-error', role: 'alert', text: err.details }));
    return null;
  }
  const p = d.doctor_profile;
  const zone = p.time_zone;
  const feeTypes = p.fees ? TYPES.filter((t) => p.fees[t] !== undefined && p.fees[t] !== null) : TYPES;
  const date = field('Date', h('input', { type: 'date', id: 'slot-date', value: params.get('date') || todayIn(zone), min: todayIn(zone), required: true }), `The doctor's calendar (${zone}).`);
  const type = field('Consultation type', select(feeTypes.map((t) => [t, `${CONSULTATION_TYPE[t]}${p.fees && p.fees[t] !== undefined ? ` — ${money({ amount: p.fees[t], currency: p.currency })}` : ''}`]), params.get('type') || feeTypes[0], { id: 'slot-type' }));
  const slotError = h('p', { class: 'field-error', role: 'alert', hidden: true, id: 'slot-error' });
  const slotStatus = statusLine();
  slotStatus.id = 'slot-status';
  const slotBox = h('fieldset', { class: 'slots', id: 'slots' }, h('legend', { text: 'Free times' }));
  const showBtn = h('button', { type: 'submit', id: 'show-slots', text: 'Show free times' });
  const slotForm = h('form', { class: 'form' }, h('div', { class: 'form-grid' }, date.wrap, type.wrap), showBtn, slotError, slotStatus);

  const symptoms = field('Symptoms', h('input', { type: 'text', id: 'book-symptoms', maxlength: 1000, placeholder: 'e.g. fever, sore throat' }), 'Separate several with commas.');
  const note = field('Anything the doctor should know (optional)', h('textarea', { id: 'book-note', maxlength: 5000 }));
  const location = field('Where should the doctor come? (home visits)', h('input', { type: 'text', id: 'book-location', maxlength: 500, placeholder: 'Hotel, room, address' }));
  const bookError = h('p', { class: 'field-error', role: 'alert', hidden: true, id: 'book-error' });
  const bookStatus = h('div', { role: 'status', 'aria-live': 'polite', id: 'book-status' });
  const bookBtn = h('button', { type: 'submit', id: 'book-submit', text: 'Book this time' });
  const bookForm = h('form', { class: 'form', hidden: true, id: 'book-form' }, slotBox, symptoms.wrap, note.wrap, location.wrap, bookError, bookBtn);
  const updateLocation = () => { location.wrap.hidden = type.input.value !== 'home'; };
  type.input.addEventListener('change', updateLocation);
  updateLocation();

  let lastSlots = null;
  async function loadSlots() {
    clearError(slotError);
    slotStatus.textContent = 'Looking for free times…';
    try {
      const r = await api('GET', '/availabilities/slots', { query: { doctorId: id, date: date.input.value, consultationType: type.input.value } });
      lastSlots = r;
      clear(slotBox, h('legend', { text: `Free times on ${date.input.value} (${r.slots.length})` }));
      r.slots.forEach((s, i) => {
        const input = h('input', { type: 'radio', name: 'slot', value: String(i), id: `slot-${i}`, required: true, dataset: { start: s.start } });
        slotBox.append(h('label', { class: 'slot', for: input.id }, input,
          h('span', {}, h('strong', { text: `${fmtInstant(s.start, localZone(), { hour: '2-digit', minute: '2-digit' })} your time (${localZone()})` }), h('br'),
            h('span', { class: 'meta', text: r.timeZone !== localZone() ? `${fmtInstant(s.start, r.timeZone, { hour: '2-digit', minute: '2-digit' })} doctor's time (${r.timeZone})` : "the doctor's time too" }),
            (s.fee || r.fee) ? [h('br'), h('span', { class: 'meta', text: `Price ${money(s.fee || r.fee)}` })] : null)));
      });
      bookForm.hidden = r.slots.length === 0;
      slotStatus.textContent = r.slots.length ? `${r.slots.length} free time${r.slots.length === 1 ? '' : 's'}. Choose one below.` : 'No free time that day. Try another date.';
    } catch (err) { showError(slotError, err); slotStatus.textContent = ''; bookForm.hidden = true; }
  }
  slotForm.addEventListener('submit', (e) => { e.preventDefault(); busy(showBtn, loadSlots); });
  bookForm.addEventListener('submit', (e) => {
    e.preventDefault();
    clearError(bookError);
    const chosen = bookForm.querySelector('input[name="slot"]:checked');
    if (!chosen || !lastSlots) { showError(bookError, 'Choose a time first.'); return; }
    const s = lastSlots.slots[Number(chosen.value)];
    busy(bookBtn, async () => {
      const body = {
        doctor_id: id, date: lastSlots.date, start_time: s.start_time, end_time: s.end_time, consultation_type: lastSlots.consultationType,
        symptoms: symptoms.input.value.split(',').map((x) => x.trim()).filter(Boolean),
      };
      if (note.input.value.trim()) body.additional_note = note.input.value.trim();
      if (lastSlots.consultationType === 'home' && location.input.value.trim()) body.visit_location = { address: location.input.value.trim() };
      try {
        const r = await api('POST', '/appointments', { body });
        clear(bookStatus, h('p', { class: 'success', id: 'booked' }, `Booked: ${bothTimes(s.start, lastSlots.timeZone)}. `,
          h('a', { href: `#/appointments/${r.appointment.id}`, id: 'go-pay', text: 'Pay and see your appointment' })));
        announce('Appointment booked.');
        bookForm.hidden = true;
        bookStatus.querySelector('a').focus();
      } catch (err) { showError(bookError, err); }
    });
  });

  const langs = (p.supported_languages || []).map((c) => LANGUAGE_NAME[c] || c).join(', ');
  clear(main,
    h('p', {}, h('a', { href: '#/find', text: '← Back to the search' })),
    h('h1', { text: d.name }),
    h('div', { class: 'grid two' },
      h('section', { class: 'panel', 'aria-labelledby': 'profile-title' }, h('h2', { id: 'profile-title', text: 'Profile' }),
        d.profile_picture ? h('img', { class: 'avatar', src: d.profile_picture, alt: `Photo of ${d.name}` }) : null,
        h('p', {}, `${p.specialisation} · ${ratingText(p)}`),
        p.bio ? h('p', { text: p.bio }) : null,
        h('p', { class: 'meta' }, langs ? `Speaks ${langs}` : 'Languages not given'),
        p.address ? h('p', { class: 'meta', text: `Address: ${p.address}` }) : null,
        h('p', { class: 'meta', text: `Time zone: ${zone}` }),
        p.working_hours ? h('p', { class: 'meta', text: `Working hours: ${Object.entries(p.working_hours).map(([k, v]) => `${k} ${v}`).join('; ')}` }) : null,
        p.fees ? h('p', { class: 'meta', text: `Fees: ${Object.entries(p.fees).map(([t, a]) => `${CONSULTATION_TYPE[t] || t} ${money({ amount: a, currency: p.currency })}`).join(', ') || 'none set'}` }) : null),
      h('section', { class: 'panel', 'aria-labelledby': 'book-title' }, h('h2', { id: 'book-title', text: 'Book a consultation' }),
        h('p', { class: 'hint', text: `Times are shown in your time zone (${localZone()}) and the doctor's (${zone}).` }),
        bookingRules(),
        slotForm, bookForm, bookStatus)));
  await loadSlots();
  return null;
}

// ---- Appointments ----
export async function appointments(main, { args }) {
  const focusId = args[0];
  const ul = h('ul', { class: 'list', id: 'appointment-list' });
  const error = h('p', { class: 'field-error', role: 'alert', hidden: true });
  const cfg = window.SOS_CONFIG || {};
  let render;
  const live = liveAppointments({
    load: async () => (await api('GET', '/appointments', { query: { limit: 100, sortBy: 'date', sortOrder: 'desc' } })).appointments,
    onChange: (c) => render(c),
  });
  render = bindList(ul, live, { sort: byStartDesc, item: (a) => patientItem(a, live, cfg), empty: 'You have no appointments yet. Find a doctor to book one.',
    announceNew: (a) => `New appointment with ${a.doctor ? a.doctor.name : 'your doctor'}.` });
  const offStatus = [
    hub.on('appointment.updated', (a) => announce(`An appointment changed: now ${a.status.replace(/_/g, ' ')}.`)),
    hub.on('payment.updated', (p) => announce(`Payment ${p.status}.`)),
    hub.on('video.status', (c) => { if (c.status === 'in_progress') announce('Your doctor has opened the video call. Join it from your appointment.', { assertive: true }); }),
  ];
  clear(main, h('h1', { text: 'My appointments' }), error, h('section', { class: 'panel', 'aria-label': 'Appointments' }, ul));
  try { await live.refetch(); } catch (err) { showError(error, err); }
  // Video consultations already open (e.g. after a reload).
  for (const a of live.items.values()) {
    if (['video', 'online'].includes(a.consultation_type) && ['payment_completed', 'confirmed', 'in_progress'].includes(a.status)) {
      api('GET', `/video-consultations/status/${a.id}`).then((r) => { live.consultations.set(a.id, r.consultation); render({ id: a.id, kind: 'updated' }); }).catch(() => {});
    }
  }
  if (focusId) {
    const el = ul.querySelector(`[data-appointment-id="${focusId}"]`);
    if (el) { el.classList.add('new-item'); el.scrollIntoView({ block: 'center' }); const f = el.querySelector('button, select'); if (f) f.focus(); }
  }
  return () => { live.dispose(); offStatus.forEach((f) => f()); };
}

function patientItem(a, live, cfg) {
  const li = h('li', { dataset: { appointmentId: a.id, status: a.status }, class: live.fresh.has(a.id) ? 'new-item' : '' });
  const error = h('p', { class: 'field-error', role: 'alert', hidden: true });
  const actions = h('div', { class: 'actions' });
  const extra = h('div');
  const pay = live.payments.get(a.id);
  const consult = live.consultations.get(a.id);
  const run = (btn, fn) => busy(btn, async () => { clearError(error); try { await fn(); } catch (err) { showError(error, err); } });

  if (a.patient_acceptance === 'pending' && a.status !== 'cancelled') {
    const reason = field('Reason (optional)', h('input', { type: 'text', maxlength: 500, dataset: { action: 'decline-reason' } }));
    const accept = h('button', { type: 'button', dataset: { action: 'accept' }, text: 'Accept this booking' });
    const decline = h('button', { type: 'button', class: 'danger', dataset: { action: 'decline' }, text: 'Decline' });
    accept.onclick = () => run(accept, async () => { await api('POST', `/appointments/${a.id}/accept`); });
    decline.onclick = () => run(decline, async () => {
      const body = reason.input.value.trim() ? { reason: reason.input.value.trim() } : undefined;
      await api('POST', `/appointments/${a.id}/decline`, { body });
    });
    extra.append(h('div', { class: 'notice' }, h('p', { text: 'The clinic booked this for you. Please accept or decline it.' }), reason.wrap, h('div', { class: 'actions' }, accept, decline)));
  }

  const payable = ['pending_payment', 'payment_failed'].includes(a.status) && a.patient_acceptance !== 'pending';
  const payOpen = pay && ['pending', 'processing'].includes(pay.status);
  const stripeOn = ((cfg.payments && cfg.payments.providers) || []).includes('stripe');
  if (payOpen && !(stripeOn && pay.payment_method === 'card')) {
    extra.append(h('div', { class: 'notice pay-at-clinic', dataset: { payment: pay.status } },
      h('p', {}, h('strong', { text: 'Pay at the clinic: ' }), `${money({ amount: pay.amount, currency: pay.currency })} (${PAYMENT_METHOD[pay.payment_method] || pay.payment_method}).`),
      h('p', { text: a.hold_expires_at ? `The clinic must confirm your payment by ${fmtInstant(a.hold_expires_at, localZone())}, or the time is released.` : 'The clinic confirms the payment when it receives it; this page updates by itself.' })));
    const cancelPay = h('button', { type: 'button', class: 'secondary', dataset: { action: 'cancel-payment' }, text: 'Cancel this payment' });
    cancelPay.onclick = () => run(cancelPay, async () => { await api('POST', `/payments/${pay.id}/cancel`); });
    actions.append(cancelPay);
  } else if (payable && !payOpen) {
    extra.append(payForm(a, cfg, error));
  }

  if (['video', 'online'].includes(a.consultation_type) && ['payment_completed', 'confirmed', 'in_progress'].includes(a.status)) {
    const open = consult && consult.status === 'in_progress';
    actions.append(h('a', { class: open ? 'button' : 'button secondary', href: `#/call/${a.id}`, dataset: { action: 'join-call' }, text: open ? 'Join the video call now' : 'Open the video call page' }));
  }
  if (a.status !== 'cancelled') actions.append(h('a', { class: 'button secondary', href: `#/chat/${a.doctor_id}`, dataset: { action: 'chat' }, text: 'Message the doctor' }));
  if (OPEN_STATUSES.includes(a.status) && a.status !== 'in_progress') {
    const cancel = h('button', { type: 'button', class: 'secondary', dataset: { action: 'cancel' }, text: 'Cancel appointment' });
    cancel.onclick = () => {
      if (cancel.dataset.confirming) {
        run(cancel, async () => { await putAppointment(a, { status: 'cancelled' }); });
      } else { cancel.dataset.confirming = '1'; cancel.textContent = 'Yes, cancel it'; cancel.classList.add('danger'); }
    };
    actions.append(cancel);
  }
  if (a.status === 'completed') extra.append(rateForm(a));
  li.append(...appointmentSummary(a, live, { showPatient: false }), extra, actions, error);
  return li;
}

// The booking rules the server announces in /api/v1/config (when it does).
function bookingRules() {
  const b = (window.SOS_CONFIG || {}).booking;
  if (!b) return null;
  const parts = [];
  if (b.unpaid_hold_minutes) parts.push(`an unpaid online booking keeps its time for ${b.unpaid_hold_minutes} minutes`);
  if (b.clinic_confirm_hours) parts.push(`a pay-at-the-clinic booking must be confirmed by the clinic ${b.clinic_confirm_hours} hours before it starts`);
  if (b.max_unpaid_bookings) parts.push(`you can hold at most ${b.max_unpaid_bookings} unpaid bookings at a time`);
  return parts.length ? h('p', { class: 'hint', id: 'booking-rules', text: `Good to know: ${parts.join('; ')}.` }) : null;
}

function payForm(a, cfg, error) {
  const providers = (cfg.payments && cfg.payments.providers) || ['manual'];
  const stripeKey = cfg.payments && cfg.payments.stripe_publishable_key;
  // Without Stripe every method is the manual provider: "pay at the clinic", confirmed there by staff.
  const stripeOn = providers.includes('stripe') && !!stripeKey;
  const methods = stripeOn
    ? [['card', 'Card, now (online)'], ['bank_transfer', 'Pay at the clinic: bank transfer'], ['mobile_money', 'Pay at the clinic: mobile money']]
    : [['bank_transfer', 'Pay at the clinic: bank transfer'], ['mobile_money', 'Pay at the clinic: mobile money'], ['card', 'Pay at the clinic: card']];
  const wrap = h('div', { class: 'pay' });
  if (!a.fee) {
    wrap.append(h('p', { class: 'notice', text: 'The price of this consultation is not set yet, so it cannot be paid here. The clinic will confirm it.' }));
    return wrap;
  }
  const method = field(`Pay ${money(a.fee)} by`, select(methods, methods[0][0], { dataset: { action: 'pay-method' } }));
  const cardSlot = h('div', { class: 'card-element', hidden: true });
  const button = h('button', { type: 'button', dataset: { action: 'pay' }, text: `Pay ${money(a.fee)}` });
  let card = null;
  const update = async () => {
    const isCard = stripeOn && method.input.value === 'card';
    cardSlot.hidden = !isCard;
    button.textContent = isCard ? `Pay ${money(a.fee)} now` : `Pay ${money(a.fee)} at the clinic`;
    if (isCard && !card) {
      try { card = await loadStripe(stripeKey, cardSlot); } catch (err) { showError(error, err); }
    }
  };
  method.input.addEventListener('change', update);
  update();
  button.onclick = () => busy(button, async () => {
    clearError(error);
    try {
      const created = await api('POST', '/payments', { body: { appointment_id: a.id, amount: a.fee.amount, currency: a.fee.currency, payment_method: method.input.value } });
      if (stripeOn && method.input.value === 'card' && card) {
        const pm = await card.createPaymentMethod();
        await api('POST', `/payments/${created.paymentId}/confirm`, { body: { providerPayload: { payment_method: pm }, returnUrl: `${location.origin}/#/appointments/${a.id}` } });
      }
      announce('Payment started.');
    } catch (err) { showError(error, err); }
  });
  wrap.append(method.wrap, cardSlot, button);
  return wrap;
}

function rateForm(a) {
  const rating = field('Your rating', select([['5', '5 — excellent'], ['4', '4 — good'], ['3', '3 — fair'], ['2', '2 — poor'], ['1', '1 — bad']], '5', { dataset: { action: 'rating' } }));
  const comment = field('Comment (optional)', h('textarea', { maxlength: 2000, dataset: { action: 'rating-comment' } }));
  const error = h('p', { class: 'field-error', role: 'alert', hidden: true });
  const status = statusLine();
  const button = h('button', { type: 'submit', dataset: { action: 'rate' }, text: 'Rate this visit' });
  const form = h('form', { class: 'form rate' }, h('h4', { text: `Rate ${a.doctor ? a.doctor.name : 'the doctor'}` }), rating.wrap, comment.wrap, button, error, status);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    clearError(error);
    busy(button, async () => {
      try {
        const body = { rating: Number(rating.input.value), appointment_id: a.id };
        if (comment.input.value.trim()) body.comment = comment.input.value.trim();
        await api('POST', `/doctors/${a.doctor_id}/ratings`, { body });
        status.textContent = 'Thank you: your rating is saved.';
        button.disabled = true;
      } catch (err) { showError(error, err); }
    });
  });
  return form;
}

// ---- Medical records shared with the patient, their attachments, and who read them ----
export async function records(main) {
  const list = h('ul', { class: 'list', id: 'record-list' });
  const error = h('p', { class: 'field-error', role: 'alert', hidden: true });
  const log = h('div', { id: 'access-log' });
  clear(main, h('h1', { text: 'My medical records' }), error, section('Records shared with you', list), section('Who read your records', log));
  const load = async () => {
    try {
      const r = await api('GET', '/medical-records', { query: { limit: 50 } });
      clear(list);
      if (!r.records.length) list.append(h('li', { class: 'empty', text: 'No records have been shared with you yet.' }));
      for (const rec of r.records) list.append(recordItem(rec));
    } catch (err) { showError(error, err); }
  };
  await load();
  try {
    const r = await api('GET', '/medical-records/access-log', { query: { limit: 20 } });
    const rows = r.entries.map((e) => h('tr', {}, h('td', { text: fmtInstant(e.at, localZone()) }), h('td', { text: `${e.actor.name} (${e.actor.role})` }), h('td', { text: e.action.replace(/_/g, ' ') }), h('td', { text: e.record_title })));
    clear(log, rows.length ? h('div', { class: 'table-wrap' }, h('table', {}, h('caption', { class: 'sr-only', text: 'Access to your records' }),
      h('thead', {}, h('tr', {}, ['When', 'Who', 'What', 'Record'].map((t) => h('th', { scope: 'col', text: t })))), h('tbody', {}, rows))) : emptyState('Nobody has read your records yet.'));
  } catch (err) {
    clear(log, emptyState([400, 404, 405].includes(err.status) ? 'This server does not report who read your records yet.' : err.details));
  }
  const off = [hub.on('medical_record.created', load), hub.on('medical_record.updated', load), hub.on('resume_gap', load)];
  return () => off.forEach((f) => f());
}

export function recordItem(rec) {
  const files = h('ul', { class: 'files' });
  const error = h('p', { class: 'field-error', role: 'alert', hidden: true });
  const li = h('li', { dataset: { recordId: rec.id } },
    h('h3', { text: rec.title }),
    h('p', { class: 'meta' }, `${rec.record_type.replace('_', ' ')} · ${fmtInstant(rec.created_at, localZone())}`, rec.doctor ? ` · ${rec.doctor.name}` : '', rec.patient ? ` · Patient: ${rec.patient.name}` : '',
      rec.is_shared_with_patient ? ' · Shared with the patient' : ' · Not shared with the patient'),
    rec.description ? h('p', { text: rec.description }) : null,
    rec.diagnosis ? h('p', {}, h('strong', { text: 'Diagnosis: ' }), rec.diagnosis) : null,
    rec.medications ? h('p', {}, h('strong', { text: 'Medications: ' }), typeof rec.medications === 'string' ? rec.medications : JSON.stringify(rec.medications)) : null,
    rec.notes ? h('p', {}, h('strong', { text: 'Notes: ' }), rec.notes) : null,
    h('h4', { text: 'Attachments' }), files, error);
  api('GET', `/medical-records/${rec.id}/attachments`).then((r) => {
    if (!r.attachments.length) files.append(h('li', { class: 'empty', text: 'None' }));
    for (const f of r.attachments) {
      const btn = h('button', { type: 'button', class: 'secondary', dataset: { action: 'download' }, text: `Download ${f.file_name} (${Math.ceil(f.size / 1024)} KB)` });
      btn.onclick = () => busy(btn, async () => {
        clearError(error);
        try {
          const blob = await api('GET', `/medical-records/${rec.id}/attachments/${f.id}`, { blob: true });
          const url = URL.createObjectURL(blob);
          const a = h('a', { href: url, download: f.file_name });
          document.body.append(a);
          a.click();
          a.remove();
          setTimeout(() => URL.revokeObjectURL(url), 60000);
        } catch (err) { showError(error, err); }
      });
      files.append(h('li', {}, btn));
    }
  }).catch((err) => showError(error, err));
  return li;
}

export { uuid };
