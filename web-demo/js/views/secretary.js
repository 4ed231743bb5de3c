// Secretary views: the calendars of her doctors (live), booking for a patient, and manual payments.
import { api, session } from '../api.js';
import { h, clear, field, select, showError, section, todayIn, addDays } from '../ui.js';
import { liveAppointments, byStart, zoneOf } from './appointments.js';
import { staffItem, bookForPatient, doctorsById } from './staff.js';
import { keepFocus } from './doctor.js';

export async function calendar(main, { params }) {
  const doctors = await doctorsById(session.user.associated_doctors || []);
  const doctor = field('Doctor', select([['', 'All my doctors'], ...doctors.map((d) => [d.id, d.name])], params.get('doctor') || '', { id: 'cal-doctor' }));
  const from = field('From', h('input', { type: 'date', id: 'cal-from', value: params.get('from') || todayIn() }));
  const days = field('Days', select([['1', '1 day'], ['7', '1 week'], ['14', '2 weeks'], ['31', '1 month']], params.get('days') || '7', { id: 'cal-days' }));
  const error = h('p', { class: 'field-error', role: 'alert', hidden: true });
  const body = h('div', { id: 'calendar' });
  let live = null;
  const load = async () => {
    if (live) live.dispose();
    const start = from.input.value || todayIn();
    const end = addDays(start, Number(days.input.value) - 1);
    live = liveAppointments({
      load: async () => (await api('GET', '/appointments', { query: { doctorId: doctor.input.value, startDate: start, endDate: end, limit: 100, sortBy: 'date', sortOrder: 'asc' } })).appointments,
      accept: (a) => a.date >= start && a.date <= end && (!doctor.input.value || a.doctor_id === doctor.input.value),
      onChange: () => render(),
    });
    try { await live.refetch(); } catch (err) { showError(error, err); }
  };
  function render() {
    keepFocus(body, () => {
      const byDoctor = new Map(doctors.map((d) => [d.id, []]));
      for (const a of [...live.items.values()].sort(byStart)) { if (!byDoctor.has(a.doctor_id)) byDoctor.set(a.doctor_id, []); byDoctor.get(a.doctor_id).push(a); }
      clear(body);
      for (const [id, list] of byDoctor) {
        if (doctor.input.value && id !== doctor.input.value) continue;
        const d = doctors.find((x) => x.id === id);
        const ul = h('ul', { class: 'list', dataset: { doctorCalendar: id } });
        if (!list.length) ul.append(h('li', { class: 'empty', text: 'No appointments in this period.' }));
        let day = null;
        for (const a of list) {
          if (a.date !== day) { day = a.date; ul.append(h('li', { class: 'day' }, h('h3', { text: day }))); }
          ul.append(staffItem(a, live));
        }
        body.append(section(`${d ? d.name : 'Doctor'}${d ? ` (${d.doctor_profile.time_zone})` : ''}`, ul));
      }
      if (!byDoctor.size) body.append(h('p', { class: 'empty', text: 'You do not work for any doctor yet. An admin can add your doctors.' }));
    });
  }
  const form = h('form', { class: 'card form' }, h('div', { class: 'form-grid' }, doctor.wrap, from.wrap, days.wrap), h('button', { type: 'submit', text: 'Show' }));
  form.addEventListener('submit', (e) => { e.preventDefault(); load(); });
  clear(main, h('h1', { text: 'Calendars' }), form, error, body);
  await Promise.all(doctors.map((d) => zoneOf(d.id)));
  await load();
  return () => { if (live) live.dispose(); };
}

export async function book(main) {
  const doctors = await doctorsById(session.user.associated_doctors || []);
  await bookForPatient(main, { doctors });
  return null;
}
