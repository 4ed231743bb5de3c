// One WebSocket per tab to the hub (protocol/websocket.md): auth as the first message, reconnect with
// exponential backoff and jitter, `resume {last_seq, epoch}` from sessionStorage after every (re)connect,
// `resume_gap` → views refetch over REST, events deduplicated by `seq`, presence `away` while the tab is hidden.
import * as rest from './api.js';

const listeners = new Map(); // type → Set(fn); '*' gets every event; 'state' gets connection states
let ws = null;
let state = 'offline'; // offline | connecting | online | reconnecting | stopped
let attempt = 0;
let retryTimer = null;
let counter = 0;
const pending = new Map(); // id → {resolve, reject, timer}
let authed = false;
let stopped = true;
let userId = null;

const storeKey = () => `sos.hub.${userId}`;
function cursor() { try { return JSON.parse(sessionStorage.getItem(storeKey())) || null; } catch { return null; } }
function saveCursor(c) { sessionStorage.setItem(storeKey(), JSON.stringify(c)); }

export function on(type, fn) {
  if (!listeners.has(type)) listeners.set(type, new Set());
  listeners.get(type).add(fn);
  return () => listeners.get(type).delete(fn);
}
function emit(type, data, frame) {
  for (const key of [type, '*']) {
    const set = listeners.get(key);
    if (!set) continue;
    for (const fn of [...set]) { try { fn(data, frame); } catch (e) { console.error('hub listener', type, e); } }
  }
}
export function getState() { return state; }
function setState(s, detail) {
  state = s;
  document.documentElement.dataset.hub = s;
  emit('state', { state: s, detail });
}

export function start(user) {
  userId = user.id;
  stopped = false;
  connect();
}

export function stop() {
  stopped = true;
  clearTimeout(retryTimer);
  if (ws) { try { ws.close(1000, 'signed out'); } catch { /* ignore */ } }
  ws = null;
  authed = false;
  for (const p of pending.values()) { clearTimeout(p.timer); p.reject({ code: 'unavailable', message: 'Disconnected' }); }
  pending.clear();
  setState('stopped');
}

function url() {
  const path = (window.SOS_CONFIG && window.SOS_CONFIG.realtime && window.SOS_CONFIG.realtime.path) || '/api/v1/ws';
  return `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}${path}`;
}

function connect() {
  if (stopped) return;
  clearTimeout(retryTimer);
  setState(attempt === 0 && state !== 'reconnecting' ? 'connecting' : 'reconnecting');
  let socket;
  try { socket = new WebSocket(url()); } catch { scheduleReconnect(); return; }
  ws = socket;
  authed = false;
  socket.onopen = () => {
    if (socket !== ws) return;
    rawSend({ type: 'auth', id: 'auth', data: { token: rest.session.token || '' } });
  };
  socket.onmessage = (ev) => { if (socket === ws) onFrame(ev.data); };
  socket.onclose = (ev) => {
    if (socket !== ws) return;
    ws = null;
    authed = false;
    for (const p of pending.values()) { clearTimeout(p.timer); p.reject({ code: 'unavailable', message: 'The connection was lost; try again.' }); }
    pending.clear();
    if (stopped) return;
    if (ev.code === 4001) {
      // Not authenticated / revoked / expired: a fresh token first (refresh), else back to sign-in.
      setState('reconnecting', ev.reason);
      rest.noteCloseReason(ev.reason);
      rest.refreshNow().then(() => { attempt = 0; connect(); }).catch((err) => {
        // refreshNow() has usually ended the session with the server's details already; add the close reason.
        rest.endSession(`Your session has ended${ev.reason ? ` (${ev.reason})` : ''}: ${(err && err.details) || 'please sign in again.'}`);
      });
      return;
    }
    scheduleReconnect();
  };
}

function scheduleReconnect() {
  if (stopped) return;
  setState('reconnecting');
  const base = Math.min(30000, 500 * 2 ** attempt);
  attempt += 1;
  const delay = base / 2 + Math.random() * base / 2;
  retryTimer = setTimeout(connect, delay);
}

// For a debugging console and the browser tests: closes the socket as a dropped network would.
export function drop() { if (ws) ws.close(4000, 'dropped by client'); }

function rawSend(frame) { if (ws && ws.readyState === WebSocket.OPEN) { ws.send(JSON.stringify(frame)); return true; } return false; }

// Sends a command; resolves with the ack's data, rejects with {code, message}.
export function send(type, data, { timeout = 10000 } = {}) {
  return new Promise((resolve, reject) => {
    if (!ws || ws.readyState !== WebSocket.OPEN || !authed) { reject({ code: 'unavailable', message: 'Not connected to the server right now.' }); return; }
    counter += 1;
    const id = `c${counter}`;
    const timer = setTimeout(() => { pending.delete(id); reject({ code: 'timeout', message: 'The server did not answer in time.' }); }, timeout);
    pending.set(id, { resolve, reject, timer });
    rawSend({ type, id, data });
  });
}
export const isOnline = () => state === 'online';

function onFrame(text) {
  let frame;
  try { frame = JSON.parse(text); } catch { return; }
  if (frame.type === 'ack' || frame.type === 'error' || frame.type === 'pong') {
    if (frame.id === 'auth') { onAuth(frame); return; }
    if (frame.id && frame.id.startsWith('resume')) { onResume(frame); return; }
    const p = pending.get(frame.id);
    if (!p) return;
    pending.delete(frame.id);
    clearTimeout(p.timer);
    if (frame.type === 'error') p.reject(frame.error || { code: 'server_error', message: 'Error' }); else p.resolve(frame.data || {});
    return;
  }
  if (frame.type === 'ready') { onAuth({ type: 'ack', data: frame.data }); return; }
  // The node may have missed events from other nodes: continue from its new cursor, and views refetch.
  if (frame.type === 'resume_gap') {
    const d = frame.data || {};
    saveCursor({ epoch: d.epoch, last_seq: d.last_seq || 0 });
    emit('resume_gap', d);
    return;
  }
  // A server event. Dedupe by seq; remember the highest one processed.
  if (typeof frame.seq === 'number') {
    const c = cursor();
    if (c && c.last_seq >= frame.seq) return;
    saveCursor({ epoch: c ? c.epoch : null, last_seq: frame.seq });
  }
  emit(frame.type, frame.data || {}, frame);
}

function onAuth(frame) {
  if (frame.type === 'error') { return; }
  const data = frame.data || {};
  const wasAuthed = authed;
  authed = true;
  if (wasAuthed) return; // a re-auth after a token refresh
  attempt = 0;
  const c = cursor();
  if (c && c.epoch) {
    rawSend({ type: 'resume', id: 'resume', data: { last_seq: c.last_seq, epoch: c.epoch } });
  } else {
    saveCursor({ epoch: data.epoch, last_seq: data.last_seq || 0 });
    setState('online');
    emit('connected', { resumed: false });
  }
  if (document.visibilityState === 'hidden') rawSend({ type: 'presence.update', id: 'presence', data: { status: 'away' } });
}

function onResume(frame) {
  if (frame.type === 'error') {
    // A resume the server refused: treat as a gap.
    saveCursor({ epoch: null, last_seq: 0 });
    setState('online');
    emit('resume_gap', {});
    emit('connected', { resumed: false, gap: true });
    return;
  }
  const d = frame.data || {};
  if (d.type === 'resume_gap') {
    saveCursor({ epoch: d.epoch, last_seq: d.last_seq || 0 });
    setState('online');
    emit('resume_gap', d);
    emit('connected', { resumed: false, gap: true });
  } else {
    const c = cursor() || {};
    saveCursor({ epoch: c.epoch, last_seq: Math.max(c.last_seq || 0, d.last_seq || 0) });
    setState('online');
    emit('connected', { resumed: true, replayed: d.replayed });
  }
}

// A refreshed access token goes to the open socket too, so it outlives the old token's 15 minutes.
rest.on('token', (token) => { if (authed) rawSend({ type: 'auth', id: 'reauth', data: { token } }); });

document.addEventListener('visibilitychange', () => {
  if (!authed) return;
  rawSend({ type: 'presence.update', id: 'presence', data: { status: document.visibilityState === 'hidden' ? 'away' : 'online' } });
});

window.addEventListener('online', () => { if (!ws && !stopped) { attempt = 0; connect(); } });
