// Doctor views: a live dashboard (today and upcoming, with each patient's presence), video calls,
// medical records with attachments, weekly availability and the doctor's own profile.
import { api, session, forgetDoctor } from '../api.js';
import * as hub from '../hub.js';
import {
  h, clear, field, select, showError, clearError, busy, statusLine, section, todayIn, addDays, announce, CONSULTATION_TYPE, money,
} from '../ui.js';
import { liveAppointments, appointmentSummary, byStart, zoneOf, putAppointment } from './appointments.js';
import { recordItem } from './patient.js';
import { profile as commonProfile } from './common.js';

const WEEKDAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'];
const TYPES = ['video', 'online', 'chat', 'home'];
const PRESENCE = { online: 'Online', away: 'Away', offline: 'Offline' };

export function showPresence(el, status) {
  el.dataset.presence = status || 'unknown';
  el.textContent = status ? `Patient ${PRESENCE[status] || status}` : '';
}

// Re-renders lists but keeps keyboard focus on the same control of the same appointment.
export function keepFocus(root, fn) {
  const active = document.activeElement;
  const holder = active && active.closest ? active.closest('[data-appointment-id]') : null;
  const key = holder && root.contains(holder) ? [holder.dataset.appointmentId, active.dataset.action] : null;
  // What the user typed in a row (a reason, an amount) survives the re-render.
  const typed = [...root.querySelectorAll('[data-appointment-id] input[data-action], [data-appointment-id] textarea[data-action]')]
    .filter((i) => i.value).map((i) => [i.closest('[data-appointment-id]').dataset.appointmentId, i.dataset.action, i.value]);
  fn();
  for (const [id, action, value] of typed) {
    const i = root.querySelector(`[data-appointment-id="${id}"] [data-action="${action}"]`);
    if (i && !i.value) i.value = value;
  }
  if (key) {
    const el = root.querySelector(`[data-appointment-id="${key[0]}"] [data-action="${key[1]}"]`);
    if (el) el.focus();
  }
}

export async function dashboard(main) {
  const me = session.user;
  const zone = (await zoneOf(me.id)) || undefined;
  const today = todayIn(zone);
  const until = addDays(today, 14);
  const todayList = h('ul', { class: 'list', id: 'today-list' });
  const upcomingList = h('ul', { class: 'list', id: 'upcoming-list' });
  const error = h('p', { class: 'field-error', role: 'alert', hidden: true });
  const presence = new Map();
  const live = liveAppointments({
    load: async () => (await api('GET', '/appointments', { query: { startDate: today, endDate: until, limit: 100, sortBy: 'date', sortOrder: 'asc' } })).appointments,
    accept: (a) => a.date >= today && a.date <= until && a.doctor_id === me.id,
    onChange: () => { render(); queryPresence(); },
  });
  function render() {
    keepFocus(main, () => {
      const all = [...live.items.values()].sort(byStart);
      const fill = (ul, list, empty) => { clear(ul); if (!list.length) ul.append(h('li', { class: 'empty', text: empty })); for (const a of list) ul.append(doctorItem(a, live, presence)); };
      fill(todayList, all.filter((a) => a.date === today), 'Nothing today.');
      fill(upcomingList, all.filter((a) => a.date !== today), 'Nothing else in the next two weeks.');
    });
  }
  async function queryPresence() {
    const ids = [...new Set([...live.items.values()].map((a) => a.user_id))];
    if (!ids.length || !hub.isOnline()) return;
    try {
      const r = await hub.send('presence.query', { user_ids: ids.slice(0, 500) });
      for (const p of r.presence) setPresence(p.user_id, p.status);
    } catch { /* offline */ }
  }
  function setPresence(id, status) {
    presence.set(id, status);
    for (const el of main.querySelectorAll(`[data-presence-of="${id}"]`)) showPresence(el, status);
  }
  const offs = [
    hub.on('appointment.created', (a) => { if (a.doctor_id === me.id) announce(`New booking on ${a.date} at ${a.start_time.slice(0, 5)}.`); }),
    hub.on('presence.changed', (p) => setPresence(p.user_id, p.status)),
    hub.on('connected', () => queryPresence()),
  ];
  clear(main, h('h1', { text: `${me.name}: dashboard` }), error,
    h('p', { class: 'meta', text: `Dates follow your calendar (${zone || 'UTC'}); times are shown in this browser's zone and yours. This page updates by itself.` }),
    h('div', { class: 'grid two' }, section(`Today (${today})`, todayList), section('Next two weeks', upcomingList)));
  try { await live.refetch(); } catch (err) { showError(error, err); }
  return () => { live.dispose(); offs.forEach((f) => f()); };
}

function doctorItem(a, live, presence) {
  const li = h('li', { dataset: { appointmentId: a.id, status: a.status }, class: live.fresh.has(a.id) ? 'new-item' : '' });
  const error = h('p', { class: 'field-error', role: 'alert', hidden: true });
  const actions = h('div', { class: 'actions' });
  const run = (btn, fn) => busy(btn, async () => { clearError(error); try { await fn(); } catch (err) { showError(error, err); } });
  const presenceEl = h('span', { class: 'presence', dataset: { presenceOf: a.user_id } });
  showPresence(presenceEl, presence.get(a.user_id));
  const button = (label, action, fn, cls = '') => { const b = h('button', { type: 'button', class: cls, dataset: { action }, text: label }); b.onclick = () => run(b, fn); actions.append(b); return b; };
  const consult = live.consultations.get(a.id);
  if (a.status === 'payment_completed') button('Confirm', 'confirm', () => putAppointment(a, { status: 'confirmed' }));
  if (['video', 'online'].includes(a.consultation_type) && ['payment_completed', 'confirmed', 'in_progress'].includes(a.status)) {
    if (consult && consult.status === 'in_progress') actions.append(h('a', { class: 'button', href: `#/call/${a.id}`, dataset: { action: 'open-call' }, text: 'Back to the video call' }));
    else button('Start video call', 'start-call', async () => { await api('POST', `/video-consultations/${a.id}/start`); location.hash = `#/call/${a.id}`; });
  } else if (a.status === 'confirmed') {
    button('Start visit', 'start-visit', () => putAppointment(a, { status: 'in_progress' }));
  }
  if (a.status === 'in_progress') button('Mark visit completed', 'complete', () => putAppointment(a, { status: 'completed' }));
  if (['in_progress', 'completed', 'confirmed', 'payment_completed'].includes(a.status)) {
    actions.append(h('a', { class: 'button secondary', href: `#/records/new?patient=${a.user_id}&appointment=${a.id}`, dataset: { action: 'write-record' }, text: 'Write a record' }));
  }
  if (a.status !== 'cancelled') actions.append(h('a', { class: 'button secondary', href: `#/chat/${a.user_id}`, dataset: { action: 'chat' }, text: 'Message the patient' }));
  li.append(...appointmentSummary(a, live, { showDoctor: false }), h('p', {}, presenceEl), actions, error);
  if (live.fresh.has(a.id)) li.prepend(h('span', { class: 'badge', dataset: { status: 'pending' }, text: 'New booking' }));
  return li;
}

// ---- Records: the ones the doctor wrote, and a form for a new one (with an attachment) ----
export async function records(main, { args, params }) {
  const list = h('ul', { class: 'list', id: 'record-list' });
  const error = h('p', { class: 'field-error', role: 'alert', hidden: true });
  const formBox = h('div');
  clear(main, h('h1', { text: 'Medical records' }), error, h('div', { class: 'grid two' }, section('Write a record', formBox), section('Records', list)));
  const load = async () => {
    try {
      const r = await api('GET', '/medical-records', { query: { limit: 30 } });
      clear(list);
      if (!r.records.length) list.append(h('li', { class: 'empty', text: 'No records yet.' }));
      for (const rec of r.records) list.append(recordItem(rec));
    } catch (err) { showError(error, err); }
  };
  // Patients and visits to attach a record to: from the doctor's appointments.
  let appts = [];
  try { appts = (await api('GET', '/appointments', { query: { limit: 100, sortBy: 'date', sortOrder: 'desc' } })).appointments.filter((a) => a.status !== 'cancelled'); } catch (err) { showError(error, err); }
  const patients = new Map(appts.map((a) => [a.user_id, a.patient ? a.patient.name : a.user_id]));
  const patient = field('Patient', select([['', 'Choose a patient'], ...patients], params.get('patient') || '', { id: 'record-patient', required: true }));
  const appointment = field('Visit', select([['', 'Not linked to a visit']], '', { id: 'record-appointment' }));
  const fillAppts = () => {
    const opts = appts.filter((a) => a.user_id === patient.input.value).map((a) => [a.id, `${a.date} ${a.start_time.slice(0, 5)} — ${CONSULTATION_TYPE[a.consultation_type]} (${a.status.replace(/_/g, ' ')})`]);
    const wanted = params.get('appointment') || '';
    clear(appointment.input, h('option', { value: '', text: 'Not linked to a visit' }), opts.map(([v, l]) => h('option', { value: v, text: l, selected: v === wanted })));
  };
  patient.input.addEventListener('change', fillAppts);
  fillAppts();
  const type = field('Type', select([['note', 'Note'], ['diagnosis', 'Diagnosis'], ['prescription', 'Prescription'], ['lab_result', 'Lab result'], ['imaging', 'Imaging'], ['other', 'Other']], 'note', { id: 'record-type' }));
  const title = field('Title', h('input', { type: 'text', id: 'record-title', maxlength: 200, required: true }));
  const description = field('Description', h('textarea', { id: 'record-description', maxlength: 20000 }));
  const diagnosis = field('Diagnosis', h('textarea', { id: 'record-diagnosis', maxlength: 20000 }));
  const medications = field('Medications', h('textarea', { id: 'record-medications', maxlength: 20000 }), 'One per line.');
  const notes = field('Private notes', h('textarea', { id: 'record-notes', maxlength: 20000 }));
  const shared = h('input', { type: 'checkbox', id: 'record-shared', checked: true });
  const file = field('Attachment (PDF, PNG, JPEG or WebP, at most 10 MB)', h('input', { type: 'file', id: 'record-file', accept: 'application/pdf,image/png,image/jpeg,image/webp' }));
  const formError = h('p', { class: 'field-error', role: 'alert', hidden: true, id: 'record-error' });
  const status = statusLine();
  status.id = 'record-status';
  const save = h('button', { type: 'submit', id: 'record-save', text: 'Save record' });
  const form = h('form', { class: 'form' }, patient.wrap, appointment.wrap, type.wrap, title.wrap, description.wrap, diagnosis.wrap, medications.wrap, notes.wrap,
    h('p', {}, h('label', { for: shared.id }, shared, 'Share with the patient')), file.wrap, formError, save, status);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    clearError(formError);
    busy(save, async () => {
      try {
        const body = { user_id: patient.input.value || null, record_type: type.input.value, title: title.input.value.trim(), is_shared_with_patient: shared.checked };
        if (appointment.input.value) body.appointment_id = appointment.input.value;
        for (const [k, f] of [['description', description], ['diagnosis', diagnosis], ['notes', notes]]) if (f.input.value.trim()) body[k] = f.input.value.trim();
        if (medications.input.value.trim()) body.medications = medications.input.value.split('\n').map((x) => x.trim()).filter(Boolean);
        const r = await api('POST', '/medical-records', { body });
        const f = file.input.files[0];
        if (f) {
          const fd = new FormData();
          fd.append('file', f, f.name);
          try { await api('POST', `/medical-records/${r.record.id}/attachments`, { form: fd }); } catch (err) { showError(file.error, err); }
        }
        status.textContent = `Record "${r.record.title}" saved${f ? ' with its attachment' : ''}.`;
        form.reset();
        await load();
      } catch (err) { showError(formError, err); }
    });
  });
  clear(formBox, form);
  await load();
  return null;
}

// ---- Weekly availability ----
export async function availability(main) {
  const me = session.user;
  const list = h('ul', { class: 'list', id: 'availability-list' });
  const error = h('p', { class: 'field-error', role: 'alert', hidden: true });
  const load = async () => {
    try {
      const r = await api('GET', '/availabilities', { query: { doctorId: me.id } });
      clear(list);
      if (!r.availabilities.length) list.append(h('li', { class: 'empty', text: 'No availability yet: patients cannot book you.' }));
      for (const rule of r.availabilities) list.append(ruleItem(rule, load));
    } catch (err) { showError(error, err); }
  };
  clear(main, h('h1', { text: 'My availability' }), error, h('div', { class: 'grid two' }, section('Current rules', list), section('Add weekly hours', ruleForm(null, me.id, load))));
  await load();
  return null;
}

function ruleText(r) {
  const days = r.recurrence === 'weekly' ? r.recurrence_days.map((d) => d.slice(0, 3)).join(', ') : r.recurrence === 'daily' ? 'every day' : `${r.start_date} to ${r.end_date}`;
  return `${days}, ${r.start_time.slice(0, 5)}–${r.end_time.slice(0, 5)} · ${r.consultation_types.map((t) => CONSULTATION_TYPE[t] || t).join(', ')}${r.recurrence_end_date ? ` · until ${r.recurrence_end_date}` : ''}`;
}

function ruleItem(rule, reload) {
  const li = h('li', { dataset: { ruleId: rule.id } });
  const error = h('p', { class: 'field-error', role: 'alert', hidden: true });
  const edit = h('button', { type: 'button', class: 'secondary', text: 'Change' });
  const del = h('button', { type: 'button', class: 'danger', text: 'Delete' });
  del.onclick = () => busy(del, async () => { try { await api('DELETE', `/availabilities/${rule.id}`); await reload(); } catch (err) { showError(error, err); } });
  edit.onclick = () => { li.append(ruleForm(rule, rule.user_id, reload)); edit.disabled = true; };
  li.append(h('p', { text: ruleText(rule) }), h('p', { class: 'meta', text: `From ${rule.start_date}` }), h('div', { class: 'actions' }, edit, del), error);
  return li;
}

function ruleForm(rule, doctorId, reload) {
  const prefix = rule ? `rule-${rule.id.slice(0, 8)}` : 'rule-new';
  const days = WEEKDAYS.map((d) => { const input = h('input', { type: 'checkbox', id: `${prefix}-${d}`, value: d, checked: rule ? (rule.recurrence_days || []).includes(d) : !['saturday', 'sunday'].includes(d) }); return { d, input, el: h('label', { for: input.id }, input, d[0].toUpperCase() + d.slice(1, 3)) }; });
  const types = TYPES.map((t) => { const input = h('input', { type: 'checkbox', id: `${prefix}-type-${t}`, value: t, checked: rule ? rule.consultation_types.includes(t) : true }); return { t, input, el: h('label', { for: input.id }, input, CONSULTATION_TYPE[t]) }; });
  const start = field('From', h('input', { type: 'time', id: `${prefix}-start`, value: rule ? rule.start_time.slice(0, 5) : '09:00', required: true }));
  const end = field('To', h('input', { type: 'time', id: `${prefix}-end`, value: rule ? rule.end_time.slice(0, 5) : '17:00', required: true }));
  const from = field('Starting on', h('input', { type: 'date', id: `${prefix}-from`, value: rule ? rule.start_date : todayIn(), required: true }));
  const error = h('p', { class: 'field-error', role: 'alert', hidden: true });
  const status = statusLine();
  const save = h('button', { type: 'submit', id: `${prefix}-submit`, text: rule ? 'Save changes' : 'Add these hours' });
  const form = h('form', { class: 'form' },
    h('fieldset', { class: 'checks' }, h('legend', { text: 'Days' }), days.map((x) => x.el)),
    h('div', { class: 'form-grid' }, start.wrap, end.wrap), from.wrap,
    h('fieldset', { class: 'checks' }, h('legend', { text: 'Consultation types' }), types.map((x) => x.el)), error, save, status);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    clearError(error);
    busy(save, async () => {
      const body = {
        user_id: doctorId, start_date: from.input.value, start_time: `${start.input.value}:00`, end_time: `${end.input.value}:00`, is_recurring: true, recurrence: 'weekly',
        recurrence_days: days.filter((x) => x.input.checked).map((x) => x.d), consultation_types: types.filter((x) => x.input.checked).map((x) => x.t),
      };
      try {
        if (rule) await api('PUT', `/availabilities/${rule.id}`, { body }); else await api('POST', '/availabilities', { body });
        status.textContent = 'Saved.';
        await reload();
      } catch (err) { showError(error, err); }
    });
  });
  return form;
}

// ---- The doctor's own profile: the doctor part, then the common profile ----
export async function profile(main) {
  let d = null;
  try { d = (await api('GET', '/doctors/self')).doctor; } catch { d = null; }
  const p = (d && d.doctor_profile) || {};
  const spec = field('Specialisation', h('input', { type: 'text', id: 'dp-specialisation', value: p.specialisation || '', maxlength: 100, required: true }));
  const bio = field('About you', h('textarea', { id: 'dp-bio', maxlength: 5000, value: p.bio || '' }));
  const address = field('Practice address', h('input', { type: 'text', id: 'dp-address', maxlength: 500, value: p.address || '' }));
  const langs = field('Languages you speak', h('input', { type: 'text', id: 'dp-languages', value: (p.supported_languages || []).join(', ') }), 'Codes separated by commas, e.g. en, fr, es.');
  const zone = field('Time zone', h('input', { type: 'text', id: 'dp-timezone', value: p.time_zone || Intl.DateTimeFormat().resolvedOptions().timeZone, list: 'zones' }), 'IANA name, e.g. Europe/Paris.');
  const zones = h('datalist', { id: 'zones' }, (Intl.supportedValuesOf ? Intl.supportedValuesOf('timeZone') : []).map((z) => h('option', { value: z })));
  const listed = h('input', { type: 'checkbox', id: 'dp-listed', checked: p.is_listed !== false });
  const feeInputs = TYPES.map((t) => { const f = field(`${CONSULTATION_TYPE[t]} fee`, h('input', { type: 'number', min: 0, step: '0.01', id: `dp-fee-${t}`, value: p.fees && p.fees[t] !== undefined ? p.fees[t] : '' }), 'Empty: not offered.'); return { t, f }; });
  const currency = field('Currency', h('input', { type: 'text', id: 'dp-currency', maxlength: 3, value: p.currency || '' }), 'ISO code, e.g. EUR.');
  const supportsFees = p.fees !== undefined;
  const error = h('p', { class: 'field-error', role: 'alert', hidden: true, id: 'dp-error' });
  const status = statusLine();
  const save = h('button', { type: 'submit', id: 'dp-save', text: 'Save doctor profile' });
  const form = h('form', { class: 'form' }, spec.wrap, bio.wrap, address.wrap, langs.wrap, zone.wrap, zones, h('p', {}, h('label', { for: listed.id }, listed, 'Listed: patients can find and book me')),
    supportsFees ? h('fieldset', { class: 'checks' }, h('legend', { text: 'Fees' }), h('div', { class: 'form-grid' }, feeInputs.map((x) => x.f.wrap), currency.wrap)) : null, error, save, status);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    clearError(error);
    busy(save, async () => {
      const body = {
        specialisation: spec.input.value.trim(), bio: bio.input.value.trim() || null, address: address.input.value.trim() || null,
        supported_languages: langs.input.value.split(',').map((x) => x.trim()).filter(Boolean), time_zone: zone.input.value.trim(), is_listed: listed.checked,
      };
      if (supportsFees) {
        body.fees = Object.fromEntries(feeInputs.filter((x) => x.f.input.value !== '').map((x) => [x.t, Number(x.f.input.value)]));
        if (currency.input.value.trim()) body.currency = currency.input.value.trim().toUpperCase();
      }
      try {
        if (d) await api('PUT', `/doctors/${d.id}`, { body }); else await api('POST', '/doctors', { body });
        forgetDoctor(session.user.id);
        status.textContent = 'Doctor profile saved.';
      } catch (err) { showError(error, err); }
    });
  });
  await commonProfile(main, { before: [section('Doctor profile', form)] });
  return null;
}

export { money };
