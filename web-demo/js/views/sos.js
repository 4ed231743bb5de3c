// SOS dispatch: the patient's SOS button and live status screen; the doctor's on-call switch and offer cards; the
// staff's live list of open requests.
// States and rules: protocol/sos-states.md; hub messages: protocol/websocket.md (sos.*).
import { api } from '../api.js';
import * as hub from '../hub.js';
import { h, clear, field, select, showError, clearError, busy, statusLine, section, announce, fmtInstant, badge } from '../ui.js';
import { LANGUAGES as SEARCH_LANGUAGES } from './patient.js';

const SEVERITY = [['moderate', 'Moderate: I need a doctor today'], ['low', 'Low: it can wait a little'], ['high', 'High: it is getting worse fast'], ['critical', 'Critical: I fear for my life']];
const LANGUAGES = SEARCH_LANGUAGES.filter(([code]) => code);
const KIND = { home: 'Home or hotel visit', video: 'Video consultation' };
const STATE = {
  searching: 'Looking for a doctor', video_fallback: 'Looking for a video consultation', accepted: 'A doctor accepted',
  on_the_way: 'The doctor is on the way', arrived: 'The doctor has arrived', closed: 'Closed', cancelled: 'Cancelled', no_doctor: 'No doctor available',
};
const OPEN = new Set(['searching', 'video_fallback', 'accepted', 'on_the_way', 'arrived']);
const requestKey = 'sos.request';
const caseKey = 'sos.case';

// Reads the browser's position; resolves null when refused or unavailable (the form then asks for coordinates).
function locate() {
  return new Promise((resolve) => {
    if (!navigator.geolocation) { resolve(null); return; }
    navigator.geolocation.getCurrentPosition((p) => resolve({ latitude: p.coords.latitude, longitude: p.coords.longitude }), () => resolve(null), { timeout: 10000, maximumAge: 60000 });
  });
}

function coordinateFields(prefix) {
  const lat = field('Latitude', h('input', { type: 'number', id: `${prefix}-lat`, step: 'any', min: -90, max: 90, inputmode: 'decimal' }));
  const lon = field('Longitude', h('input', { type: 'number', id: `${prefix}-lon`, step: 'any', min: -180, max: 180, inputmode: 'decimal' }));
  const status = statusLine();
  const button = h('button', { type: 'button', class: 'secondary', id: `${prefix}-locate`, text: 'Use my location' });
  button.addEventListener('click', () => busy(button, async () => {
    status.textContent = 'Finding your position…';
    const p = await locate();
    if (p) { lat.input.value = p.latitude.toFixed(5); lon.input.value = p.longitude.toFixed(5); status.textContent = 'Position found.'; }
    else status.textContent = 'Your browser did not give a position: type the coordinates (a maps app shows them).';
  }));
  return { lat, lon, status, button, value: () => ({ latitude: Number(lat.input.value), longitude: Number(lon.input.value) }), filled: () => lat.input.value !== '' && lon.input.value !== '' };
}

function kindChecks(prefix, checked) {
  const boxes = Object.entries(KIND).map(([k, label]) => [k, h('input', { type: 'checkbox', id: `${prefix}-kind-${k}`, value: k, checked: checked.includes(k) }), label]);
  const wrap = h('fieldset', { class: 'checks' }, h('legend', { text: 'How' }), boxes.map(([, box, label]) => h('label', { for: box.id }, box, label)));
  return { wrap, value: () => boxes.filter(([, box]) => box.checked).map(([k]) => k) };
}

// The emergency number, shown before anything else when the server sends one.
function emergencyBanner(number) {
  if (!number) return null;
  const also = number.alternatives.length ? ` (also ${number.alternatives.join(', ')})` : '';
  return h('p', { class: 'emergency', role: 'alert', id: 'sos-emergency' }, 'If this is life-threatening, call ', h('a', { href: `tel:${number.number}`, text: number.number }), ` now${also}.`);
}

// ---- Patient: the SOS button, then the live status ----
export async function patient(main) {
  const stored = sessionStorage.getItem(requestKey);
  if (stored) {
    try {
      const r = await api('GET', `/sos/${stored}`);
      if (OPEN.has(r.request.state)) return liveStatus(main, r.request);
    } catch { /* gone: ask again */ }
    sessionStorage.removeItem(requestKey);
  }
  return requestForm(main);
}

function requestForm(main) {
  const symptoms = field('What is wrong?', h('textarea', { id: 'sos-symptoms', required: true, placeholder: 'One symptom per line, e.g. high fever' }));
  const severity = field('How bad is it?', select(SEVERITY, 'moderate', { id: 'sos-severity' }));
  const language = field('Your language', select(LANGUAGES, (navigator.language || 'en').slice(0, 2), { id: 'sos-language' }));
  const country = field('Country you are in', h('input', { type: 'text', id: 'sos-country', maxlength: 2, required: true, placeholder: 'FR', autocomplete: 'country' }), 'Two letters, e.g. FR, ES, GB, US: it decides the emergency number.');
  const place = field('Where exactly', h('input', { type: 'text', id: 'sos-place', maxlength: 500, placeholder: 'Hotel Miramar, room 12' }), 'Only the doctor who accepts sees this.');
  const where = coordinateFields('sos');
  const kinds = kindChecks('sos', ['home', 'video']);
  const error = h('p', { class: 'field-error', role: 'alert', hidden: true, id: 'sos-error' });
  const submit = h('button', { type: 'submit', class: 'sos-button', id: 'sos-submit', text: 'SOS: get a doctor now' });
  const form = h('form', { class: 'card form', 'aria-label': 'SOS request' }, symptoms.wrap, severity.wrap, language.wrap, country.wrap, place.wrap,
    h('div', { class: 'form-grid' }, where.lat.wrap, where.lon.wrap), where.button, where.status, kinds.wrap, error, submit);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    busy(submit, async () => {
      clearError(error);
      if (!where.filled()) {
        const p = await locate();
        if (p) { where.lat.input.value = p.latitude.toFixed(5); where.lon.input.value = p.longitude.toFixed(5); }
        else { showError(error, 'We need your position: allow location or type the coordinates.'); return; }
      }
      try {
        const r = await api('POST', '/sos', { body: {
          symptoms: symptoms.input.value.split('\n').map((s) => s.trim()).filter(Boolean), severity: severity.input.value,
          ...where.value(), place: place.input.value.trim(), country: country.input.value.trim(), language: language.input.value, kinds: kinds.value(),
        } });
        sessionStorage.setItem(requestKey, r.request.id);
        await liveStatus(main, r.request);
      } catch (err) { showError(error, err); }
    });
  });
  clear(main, h('h1', { text: 'SOS: a doctor now' }),
    h('p', { class: 'meta', text: 'On-call doctors near you who speak your language are asked at once; the first to accept comes to you or calls you by video.' }), form);
  locate().then((p) => { if (p && !where.filled()) { where.lat.input.value = p.latitude.toFixed(5); where.lon.input.value = p.longitude.toFixed(5); where.status.textContent = 'Position found.'; } });
  return null;
}

let offStatus = [];
function liveStatus(main, request) {
  const banner = h('div', { id: 'sos-banner' });
  const state = h('p', { class: 'sos-state', id: 'sos-state', role: 'status', 'aria-live': 'polite' });
  const message = h('p', { id: 'sos-message' });
  const doctor = h('div', { id: 'sos-doctor' });
  const position = h('p', { class: 'meta', id: 'sos-position', hidden: true });
  const error = h('p', { class: 'field-error', role: 'alert', hidden: true });
  const cancel = h('button', { type: 'button', class: 'danger', id: 'sos-cancel', text: 'Cancel my request' });
  const again = h('button', { type: 'button', class: 'secondary', id: 'sos-again', text: 'New SOS request', hidden: true });
  function show(status) {
    clear(banner, emergencyBanner(status.emergency_number));
    state.textContent = STATE[status.state] || status.state;
    state.dataset.state = status.state;
    message.textContent = status.message;
    clear(doctor, status.doctor ? h('div', { class: 'card' },
      status.doctor.profile_picture ? h('img', { src: status.doctor.profile_picture, alt: '', width: 64, height: 64 }) : null,
      h('p', {}, h('strong', { text: status.doctor.name }), ` · ${status.doctor.distance_km} km away · speaks ${status.doctor.languages.join(', ') || '—'}`),
      status.appointment_id ? h('p', {}, h('a', { href: '#/appointments', text: 'See the appointment' }), ' · ', h('a', { href: `#/chat/${status.doctor.id}`, text: 'Message the doctor' })) : null) : null);
    const over = !OPEN.has(status.state);
    cancel.hidden = over || status.state === 'arrived';
    again.hidden = !over;
    if (over) sessionStorage.removeItem(requestKey);
  }
  cancel.addEventListener('click', () => busy(cancel, async () => {
    try { const r = await api('POST', `/sos/${request.id}/cancel`, { body: {} }); show(r.request.status); } catch (err) { showError(error, err); }
  }));
  again.addEventListener('click', () => { for (const off of offStatus) off(); requestForm(main); });
  for (const off of offStatus) off();
  offStatus = [
    hub.on('sos.status', (s) => { if (s.request_id === request.id) { show(s); announce(s.message, { assertive: s.state === 'no_doctor' }); } }),
    hub.on('sos.position', (p) => { if (p.request_id === request.id) { position.hidden = false; position.textContent = `Doctor's position: ${p.latitude.toFixed(4)}, ${p.longitude.toFixed(4)}`; } }),
    hub.on('connected', async () => { try { show((await api('GET', `/sos/${request.id}`)).request.status); } catch { /* keep */ } }),
  ];
  clear(main, h('h1', { text: 'Your SOS request' }), banner, state, message, doctor, position, error, h('div', { class: 'actions' }, cancel, again));
  show(request.status);
  return () => { for (const off of offStatus) off(); offStatus = []; };
}

// ---- Doctor: on call, offers, the case ----
export async function doctor(main) {
  const error = h('p', { class: 'field-error', role: 'alert', hidden: true, id: 'oncall-error' });
  const onCall = await api('GET', '/doctors/me/on-call');
  const toggle = h('input', { type: 'checkbox', id: 'oncall-switch', checked: onCall.on_call });
  const schedule = h('input', { type: 'checkbox', id: 'oncall-schedule', checked: onCall.by_schedule });
  const where = coordinateFields('oncall');
  if (onCall.latitude !== null) { where.lat.input.value = onCall.latitude; where.lon.input.value = onCall.longitude; }
  const radius = field('Coverage (km)', h('input', { type: 'number', id: 'oncall-radius', min: 0.5, max: 200, step: 0.5, value: onCall.radius_km }));
  const kinds = kindChecks('oncall', onCall.kinds);
  const save = h('button', { type: 'submit', id: 'oncall-save', text: 'Save' });
  const saved = statusLine();
  const form = h('form', { class: 'card form', 'aria-label': 'On call' },
    h('label', { for: toggle.id, class: 'switch' }, toggle, 'On call for SOS requests'),
    h('label', { for: schedule.id, class: 'switch' }, schedule, 'Also on call whenever my availability covers the moment'),
    h('p', { class: 'hint', text: `Languages come from your profile: ${onCall.languages.join(', ') || 'none set yet'}.` }),
    h('div', { class: 'form-grid' }, where.lat.wrap, where.lon.wrap), where.button, where.status, radius.wrap, kinds.wrap, error, save, saved);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    busy(save, async () => {
      clearError(error);
      try {
        const body = { on_call: toggle.checked, by_schedule: schedule.checked, radius_km: Number(radius.input.value), kinds: kinds.value() };
        if (where.filled()) Object.assign(body, where.value());
        const r = await api('PUT', '/doctors/me/on-call', { body });
        saved.textContent = r.on_call ? 'You are on call: SOS requests near you appear below.'
          : r.by_schedule ? (r.on_call_now ? 'You are on call by schedule, and your availability covers now: SOS requests near you appear below.' : 'You are on call by schedule: offers come while your availability covers the moment.')
            : 'You are off call.';
      } catch (err) { showError(error, err); }
    });
  });
  const offers = h('ul', { class: 'list', id: 'sos-offers' });
  const cases = h('div', { id: 'sos-case' });
  const cards = new Map();
  function empty() { if (!cards.size && !offers.querySelector('.empty')) offers.append(h('li', { class: 'empty', text: 'No SOS request for you right now.' })); }
  function remove(id, why) { const card = cards.get(id); if (card) { card.remove(); cards.delete(id); if (why) announce(why); } empty(); }
  function addOffer(o) {
    if (cards.has(o.request_id)) return;
    offers.querySelector('.empty')?.remove();
    const note = h('p', { class: 'field-error', role: 'alert', hidden: true });
    const accept = h('button', { type: 'button', dataset: { action: 'accept' }, text: 'Accept' });
    const decline = h('button', { type: 'button', class: 'secondary', dataset: { action: 'decline' }, text: 'Decline' });
    accept.addEventListener('click', () => busy(accept, async () => {
      try { const r = await hub.send('sos.accept', { request_id: o.request_id }); remove(o.request_id); await showCase(o.request_id, r.status); }
      catch (err) { showError(note, err); }
    }));
    decline.addEventListener('click', () => busy(decline, async () => {
      try { await hub.send('sos.decline', { request_id: o.request_id }); remove(o.request_id); } catch (err) { showError(note, err); }
    }));
    const card = h('li', { class: 'sos-offer', dataset: { requestId: o.request_id } },
      h('p', {}, h('strong', { text: `${o.severity.toUpperCase()} · ${KIND[o.kind]}` }), ` · about ${o.distance_km} km · ${o.area}`),
      h('p', { text: `Symptoms: ${o.symptoms.join(', ')} · language ${o.language}` }), note, h('div', { class: 'actions' }, accept, decline));
    cards.set(o.request_id, card);
    offers.prepend(card);
    announce(`SOS request about ${o.distance_km} km away: ${o.symptoms.join(', ')}`, { assertive: true });
  }
  let watch = null;
  async function showCase(id, status) {
    const r = await api('GET', `/sos/${id}`);
    const request = r.request;
    sessionStorage.setItem(caseKey, id);
    const note = h('p', { class: 'field-error', role: 'alert', hidden: true });
    const state = h('p', { class: 'sos-state', id: 'case-state', role: 'status', text: STATE[(status || request.status).state] });
    const eta = h('input', { type: 'number', id: 'case-eta', min: 1, max: 600, value: 15 });
    const report = (value) => async () => {
      try {
        const body = value === 'on_the_way' ? { status: value, eta_minutes: Number(eta.value) } : { status: value };
        const u = await api('POST', `/sos/${id}/status`, { body });
        state.textContent = STATE[u.request.state];
        if (value === 'on_the_way' && navigator.geolocation && watch === null) {
          watch = navigator.geolocation.watchPosition((p) => hub.send('sos.position', { request_id: id, latitude: p.coords.latitude, longitude: p.coords.longitude }).catch(() => {}), () => {}, { maximumAge: 15000 });
        }
        if (value !== 'on_the_way' && watch !== null) { navigator.geolocation.clearWatch(watch); watch = null; }
        if (value === 'closed') { clear(cases); sessionStorage.removeItem(caseKey); }
      } catch (err) { showError(note, err); }
    };
    const button = (text, value, cls) => { const b = h('button', { type: 'button', class: cls, dataset: { action: value }, text }); b.addEventListener('click', () => busy(b, report(value))); return b; };
    const handBack = h('button', { type: 'button', class: 'danger', dataset: { action: 'hand-back' }, text: 'Hand back' });
    handBack.addEventListener('click', () => busy(handBack, async () => {
      try { await api('POST', `/sos/${id}/hand-back`, { body: {} }); clear(cases); sessionStorage.removeItem(caseKey); } catch (err) { showError(note, err); }
    }));
    clear(cases, section('Your SOS case',
      state, h('p', { text: `${request.place || 'No place given'} · ${request.latitude.toFixed(5)}, ${request.longitude.toFixed(5)} (${request.country})` }),
      h('p', {}, h('a', { href: `https://www.openstreetmap.org/?mlat=${request.latitude}&mlon=${request.longitude}#map=17/${request.latitude}/${request.longitude}`, target: '_blank', rel: 'noopener', text: 'Open the map' })),
      h('p', { text: `Symptoms: ${request.symptoms.join(', ')}` }),
      h('div', { class: 'field' }, h('label', { for: eta.id, text: 'Minutes until you arrive' }), eta),
      h('div', { class: 'actions' }, button('On my way', 'on_the_way'), button('Arrived', 'arrived', 'secondary'), button('Close the case', 'closed', 'secondary'), handBack), note));
  }
  const offs = [
    hub.on('sos.offer', addOffer),
    hub.on('sos.taken', (t) => remove(t.request_id, 'Another doctor took an SOS request.')),
    hub.on('sos.withdrawn', (t) => remove(t.request_id, t.state === 'cancelled' ? 'The patient cancelled an SOS request.' : 'An SOS request ended.')),
  ];
  clear(main, h('h1', { text: 'SOS on call' }), form, section('SOS requests for you', offers), cases);
  try { for (const o of (await api('GET', '/sos/offers')).offers) addOffer(o); } catch (err) { showError(error, err); }
  empty();
  const open = sessionStorage.getItem(caseKey);
  if (open) await showCase(open).catch(() => sessionStorage.removeItem(caseKey));
  return () => { for (const off of offs) off(); if (watch !== null) navigator.geolocation.clearWatch(watch); };
}

// ---- Staff: open SOS requests, live (admins see every one; secretaries those of their doctors) ----
export async function staff(main) {
  const tbody = h('tbody', { id: 'sos-staff-body' });
  const error = h('p', { class: 'field-error', role: 'alert', hidden: true });
  const row = (r) => h('tr', { dataset: { requestId: r.id, state: r.status.state } },
    h('td', { text: fmtInstant(r.created_at) }),
    h('td', {}, badge('sos', r.status.state, STATE),
      r.red_flag ? h('span', { class: 'red-flag', text: ` Red flag${r.status.emergency_number ? `: ${r.status.emergency_number.number}` : ''}` }) : null),
    h('td', { text: `${r.severity}: ${r.symptoms.join(', ')}` }),
    h('td', { text: r.language }),
    h('td', { text: r.place || `${r.latitude.toFixed(4)}, ${r.longitude.toFixed(4)}` }),
    h('td', { text: r.status.doctor ? `${r.status.doctor.name}${r.status.eta_minutes ? ` · about ${r.status.eta_minutes} min` : ''}` : `${r.status.offered || 0} doctor(s) offered, wave ${r.wave}` }));
  const load = async () => {
    clearError(error);
    try {
      const r = await api('GET', '/sos');
      clear(tbody, r.requests.map(row));
      if (!r.requests.length) tbody.append(h('tr', {}, h('td', { colspan: 6, class: 'empty', text: 'No open SOS request.' })));
    } catch (err) { showError(error, err); }
  };
  const table = h('div', { class: 'table-wrap' }, h('table', {}, h('caption', { class: 'sr-only', text: 'Open SOS requests' }),
    h('thead', {}, h('tr', {}, ['Since', 'State', 'Symptoms', 'Language', 'Place', 'Doctor'].map((t) => h('th', { scope: 'col', text: t })))), tbody));
  clear(main, h('h1', { text: 'SOS requests' }), error, section('Open requests (update live)', table));
  await load();
  let timer = null;
  const soon = () => { clearTimeout(timer); timer = setTimeout(load, 200); };
  const offs = [hub.on('sos.status', soon), hub.on('resume_gap', load), hub.on('connected', soon)];
  return () => { clearTimeout(timer); offs.forEach((f) => f()); };
}
