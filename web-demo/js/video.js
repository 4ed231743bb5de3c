// The video consultation: getUserMedia + RTCPeerConnection, signaling over the hub (`signal`), ICE servers
// from GET /video-consultations/ice-servers. The doctor is the caller: he sends an offer whenever the patient
// says (video.join) that his call page is open — on arrival, and again after either side reloads — so a
// reload re-joins and renegotiates. Each offer carries a generation tag in `sdp` ({type, sdp, gen}: the hub
// passes any JSON through) so answers and candidates of an older attempt are ignored.
import { api, session } from './api.js';
import * as hub from './hub.js';
import { h, clear, showError, announce, fmtInstant, localZone, uuid } from './ui.js';
import { zoneOf, whenText } from './views/appointments.js';

const STATE_TEXT = {
  waiting: 'Waiting for the other person to open the call…', starting: 'Connecting…', new: 'Connecting…', checking: 'Connecting…',
  connected: 'Connected', completed: 'Connected', disconnected: 'Connection interrupted; trying again…', failed: 'The connection failed.',
  closed: 'Call ended', ended: 'Call ended', notopen: 'The doctor has not opened the call yet.',
};

export async function render(main, { args, user }) {
  const appointmentId = args[0];
  const isDoctor = user.role === 'doctor';
  const error = h('p', { class: 'field-error', role: 'alert', hidden: true, id: 'call-error' });
  let appt;
  try { appt = (await api('GET', `/appointments/${appointmentId}`)).appointment; } catch (err) {
    clear(main, h('h1', { text: 'Video call' }), h('p', { class: 'field-error', role: 'alert', text: err.details }));
    return null;
  }
  const zone = await zoneOf(appt.doctor_id);
  const peerName = isDoctor ? (appt.patient && appt.patient.name) : (appt.doctor && appt.doctor.name);
  const remote = h('video', { id: 'remote-video', autoplay: true, playsinline: true, 'aria-label': `Video of ${peerName || 'the other person'}` });
  const local = h('video', { id: 'local-video', autoplay: true, playsinline: true, muted: true, 'aria-label': 'Your camera' });
  local.muted = true;
  const state = h('p', { class: 'call-state', id: 'call-state', role: 'status', 'aria-live': 'polite', dataset: { ice: 'new', call: 'waiting' } });
  const peerState = h('p', { class: 'meta', id: 'peer-state', 'aria-live': 'polite' });
  const mute = h('button', { type: 'button', class: 'secondary', id: 'call-mute', 'aria-pressed': 'false', text: 'Mute microphone' });
  const camera = h('button', { type: 'button', class: 'secondary', id: 'call-camera', 'aria-pressed': 'false', text: 'Turn camera off' });
  const hangup = h('button', { type: 'button', class: 'danger', id: 'call-hangup', text: isDoctor ? 'Hang up and end the consultation' : 'Hang up' });
  const startBtn = isDoctor ? h('button', { type: 'button', id: 'call-start', text: 'Open the consultation' }) : null;
  clear(main,
    h('p', {}, h('a', { href: isDoctor ? '#/dashboard' : '#/appointments', text: '← Back' })),
    h('h1', { text: `Video call with ${peerName || 'your contact'}` }),
    h('p', { class: 'meta', text: whenText(appt, zone) }),
    h('div', { class: 'call' },
      h('div', { class: 'videos' }, remote, local),
      h('section', { class: 'panel', 'aria-label': 'Call controls' }, state, peerState, h('div', { class: 'actions' }, startBtn, mute, camera, hangup), error)));

  let stream = null;
  let pc = null;
  let gen = null; // current generation (doctor: the last offer's; patient: the offer being answered)
  let pendingIce = [];
  let ended = false;
  let iceServers = [];
  const pageId = uuid().slice(0, 8);
  let counter = 0;

  const setState = (key, extra) => {
    state.dataset.call = key;
    state.textContent = (STATE_TEXT[key] || key) + (extra ? ` ${extra}` : '');
  };
  setState('waiting');

  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: true, audio: true });
    local.srcObject = stream;
  } catch (err) {
    showError(error, `Your camera or microphone could not be used (${err.name}). Allow them in the browser and reload.`);
    stream = new MediaStream();
  }
  try { iceServers = (await api('GET', '/video-consultations/ice-servers')).iceServers; } catch { iceServers = []; }

  function newPeer() {
    if (pc) { try { pc.close(); } catch { /* ignore */ } }
    pendingIce = [];
    const conn = new RTCPeerConnection({ iceServers });
    for (const track of stream.getTracks()) conn.addTrack(track, stream);
    conn.ontrack = (ev) => { if (remote.srcObject !== ev.streams[0]) remote.srcObject = ev.streams[0]; remote.play().catch(() => {}); };
    conn.onicecandidate = (ev) => {
      if (!ev.candidate || conn !== pc) return;
      signal('ice', { candidate: { ...ev.candidate.toJSON(), gen } });
    };
    conn.oniceconnectionstatechange = () => {
      if (conn !== pc) return;
      state.dataset.ice = conn.iceConnectionState;
      if (!ended) setState(conn.iceConnectionState);
      if (conn.iceConnectionState === 'connected') announce(`Connected with ${peerName || 'the other person'}.`);
    };
    pc = conn;
    return conn;
  }

  function signal(kind, extra = {}) {
    return hub.send('signal', { appointment_id: appointmentId, kind, ...extra }).catch((err) => {
      if (err.code === 'conflict') setState('notopen');
    });
  }

  async function offer() {
    if (ended) return;
    counter += 1;
    gen = `${pageId}-${counter}`;
    const conn = newPeer();
    const myGen = gen;
    const desc = await conn.createOffer();
    await conn.setLocalDescription(desc);
    if (myGen !== gen) return;
    setState('starting');
    await signal('offer', { sdp: { type: desc.type, sdp: desc.sdp, gen: myGen } });
  }

  async function onSignal(d) {
    if (d.appointment_id !== appointmentId || ended) return;
    const sdp = d.sdp && typeof d.sdp === 'object' ? d.sdp : { sdp: d.sdp, gen: null };
    try {
      if (d.kind === 'offer' && !isDoctor) {
        gen = sdp.gen;
        const conn = newPeer();
        await conn.setRemoteDescription({ type: 'offer', sdp: sdp.sdp });
        const answer = await conn.createAnswer();
        await conn.setLocalDescription(answer);
        for (const c of pendingIce) await conn.addIceCandidate(c).catch(() => {});
        pendingIce = [];
        setState('starting');
        await signal('answer', { sdp: { type: answer.type, sdp: answer.sdp, gen: sdp.gen } });
      } else if (d.kind === 'answer' && isDoctor) {
        if (!pc || sdp.gen !== gen || pc.signalingState !== 'have-local-offer') return;
        await pc.setRemoteDescription({ type: 'answer', sdp: sdp.sdp });
        for (const c of pendingIce) await pc.addIceCandidate(c).catch(() => {});
        pendingIce = [];
      } else if (d.kind === 'ice' && d.candidate) {
        const { gen: cgen, ...cand } = d.candidate;
        if (cgen !== undefined && cgen !== gen) return;
        if (!pc || !pc.remoteDescription) { pendingIce.push(cand); return; }
        await pc.addIceCandidate(cand).catch(() => {});
      } else if (d.kind === 'hangup') {
        finish(`${peerName || 'The other person'} hung up.`);
      }
    } catch (err) { showError(error, `The call could not be set up: ${err.message}`); }
  }

  function finish(message) {
    if (ended) return;
    ended = true;
    if (pc) { try { pc.close(); } catch { /* ignore */ } }
    state.dataset.ice = 'closed';
    setState('ended', message || '');
    remote.srcObject = null;
    for (const t of stream.getTracks()) t.stop();
    hangup.disabled = true;
    announce(`Call ended. ${message || ''}`, { assertive: true });
  }

  async function join() {
    try {
      const r = await hub.send('video.join', { appointment_id: appointmentId });
      peerState.textContent = r.peer_online ? `${peerName || 'The other person'} is online.` : `${peerName || 'The other person'} is not connected yet.`;
      if (state.dataset.call === 'notopen') setState('waiting');
      return true;
    } catch (err) {
      if (err.code === 'conflict' || err.code === 'not_found') { setState('notopen'); return false; }
      showError(error, err.message);
      return false;
    }
  }

  const offs = [
    hub.on('signal', onSignal),
    hub.on('video.join', (d) => {
      if (d.appointment_id !== appointmentId || ended) return;
      peerState.textContent = `${peerName || 'The other person'} opened the call.`;
      if (isDoctor) offer(); else join(); // the patient answers a (re)joined doctor with his own join: "offer me"
    }),
    hub.on('video.leave', (d) => { if (d.appointment_id === appointmentId) peerState.textContent = `${peerName || 'The other person'} left the call page.`; }),
    hub.on('video.status', (c) => {
      if (c.appointment_id !== appointmentId) return;
      if (c.status === 'in_progress' && !ended) { if (state.dataset.call === 'notopen') setState('waiting'); join(); }
      if (c.status === 'completed') finish(`The consultation is over${c.duration ? ` (${Math.round(c.duration / 60)} min)` : ''}.`);
    }),
    hub.on('connected', () => { if (!ended) join(); }),
  ];

  mute.onclick = () => {
    const on = mute.getAttribute('aria-pressed') !== 'true';
    for (const t of stream.getAudioTracks()) t.enabled = !on;
    mute.setAttribute('aria-pressed', String(on));
    mute.textContent = on ? 'Unmute microphone' : 'Mute microphone';
  };
  camera.onclick = () => {
    const off = camera.getAttribute('aria-pressed') !== 'true';
    for (const t of stream.getVideoTracks()) t.enabled = !off;
    camera.setAttribute('aria-pressed', String(off));
    camera.textContent = off ? 'Turn camera on' : 'Turn camera off';
  };
  hangup.onclick = async () => {
    await signal('hangup');
    if (isDoctor) {
      try { await api('POST', `/video-consultations/${appointmentId}/end`); } catch (err) { showError(error, err); }
    }
    finish('You hung up.');
  };
  if (startBtn) {
    startBtn.onclick = async () => {
      try { await api('POST', `/video-consultations/${appointmentId}/start`); startBtn.hidden = true; if (await join()) setState('waiting'); } catch (err) { showError(error, err); }
    };
  }

  // Current state: is the consultation open?
  try {
    const c = (await api('GET', `/video-consultations/status/${appointmentId}`)).consultation;
    if (c.status === 'in_progress') { if (startBtn) startBtn.hidden = true; if (hub.isOnline()) await join(); }
    else if (c.status === 'completed') finish('This consultation is over.');
    else setState('notopen');
  } catch (err) { showError(error, err); }

  const onUnload = () => { hub.send('video.leave', { appointment_id: appointmentId }).catch(() => {}); };
  window.addEventListener('pagehide', onUnload);
  return () => {
    window.removeEventListener('pagehide', onUnload);
    offs.forEach((f) => f());
    if (!ended) { hub.send('video.leave', { appointment_id: appointmentId }).catch(() => {}); }
    if (pc) { try { pc.close(); } catch { /* ignore */ } }
    for (const t of stream.getTracks()) t.stop();
  };
}
export { fmtInstant, localZone, session };
