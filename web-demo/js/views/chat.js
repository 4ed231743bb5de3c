// Chat for every role: conversations with exact unread counts, history, live messages, delivery and read
// receipts, typing, the partner's presence; several tabs of one user stay in sync (the hub sends each tab
// the others' messages and receipts). Messages typed while offline wait in a sessionStorage outbox and go
// out after the reconnect with the same client_msg_id, so a retry never stores a message twice.
import { api, session } from '../api.js';
import * as hub from '../hub.js';
import * as store from '../store.js';
import { h, clear, showError, clearError, fmtInstant, localZone, announce, uuid, emptyState } from '../ui.js';

const RECEIPT = { sending: 'Sending…', queued: 'Waiting for the connection…', sent: 'Sent', delivered: 'Delivered', read: 'Read' };
const OUTBOX = 'sos.chat.outbox';

function outbox() { try { return JSON.parse(sessionStorage.getItem(OUTBOX)) || []; } catch { return []; } }
function saveOutbox(list) { sessionStorage.setItem(OUTBOX, JSON.stringify(list)); }

// Sends over the hub, or over REST when the hub is down; both are idempotent by client_msg_id.
async function deliver(item) {
  try {
    const ack = await hub.send('chat.send', { to: item.to, content: item.content, client_msg_id: item.client_msg_id });
    return ack.message;
  } catch (err) {
    if (err && err.code && !['unavailable', 'timeout', 'rate_limited'].includes(err.code)) throw { permanent: true, details: err.message };
    try {
      const r = await api('POST', '/chat/messages', { body: { recipient_id: item.to, content: item.content, client_msg_id: item.client_msg_id } });
      return r.message;
    } catch (e) {
      // 4xx: the message itself is refused (too long, no such partner): tell the user. Otherwise retry later.
      if (e.status >= 400 && e.status < 500 && e.status !== 429) throw { permanent: true, details: e.details };
      throw e;
    }
  }
}
let flushing = false;
async function flushOutbox() {
  if (flushing) return;
  flushing = true;
  try {
    for (const item of outbox()) {
      try {
        const m = await deliver(item);
        saveOutbox(outbox().filter((x) => x.client_msg_id !== item.client_msg_id));
        window.dispatchEvent(new CustomEvent('sos:sent', { detail: { client_msg_id: item.client_msg_id, message: m } }));
      } catch (err) {
        if (err && err.permanent) { saveOutbox(outbox().filter((x) => x.client_msg_id !== item.client_msg_id)); window.dispatchEvent(new CustomEvent('sos:sent', { detail: { client_msg_id: item.client_msg_id, error: err.details } })); } else break;
      }
    }
  } finally { flushing = false; }
}
hub.on('connected', () => { flushOutbox(); });

// Possible partners besides existing conversations: the other side of the user's appointments.
async function contacts(user) {
  const out = new Map();
  try {
    const r = await api('GET', '/appointments', { query: { limit: 100, sortBy: 'date', sortOrder: 'desc' } });
    for (const a of r.appointments) {
      if (a.status === 'cancelled') continue;
      if (user.role === 'patient' && a.doctor) out.set(a.doctor.id, a.doctor.name);
      else if (user.role === 'doctor' && a.patient) out.set(a.patient.id, a.patient.name);
      else if (a.patient && !['patient', 'doctor'].includes(user.role)) out.set(a.patient.id, a.patient.name);
    }
  } catch { /* conversations still work */ }
  return out;
}

export async function render(main, { args, user }) {
  const me = user.id;
  let partner = args[0] || null;
  const convList = h('ul', { class: 'list conversations', id: 'conversations', 'aria-label': 'Conversations' });
  const thread = h('section', { class: 'panel thread', 'aria-labelledby': 'thread-title', id: 'thread' });
  clear(main, h('h1', { text: 'Messages' }), h('div', { class: 'chat' }, h('nav', { class: 'panel', 'aria-label': 'Conversations' }, h('h2', { text: 'Conversations' }), convList), thread));
  const known = await contacts(user);
  const offs = [];

  const drawConversations = () => {
    const items = new Map(store.chat.conversations);
    for (const [id, name] of known) if (!items.has(id)) items.set(id, { partnerId: id, partnerName: name, unreadCount: 0, lastMessage: '' });
    clear(convList);
    if (!items.size) convList.append(h('li', { class: 'empty', text: 'No conversations yet. Book an appointment to talk with a doctor.' }));
    for (const c of items.values()) {
      const name = c.partnerName || known.get(c.partnerId) || 'Unknown';
      const unread = c.unreadCount ? h('span', { class: 'unread', dataset: { unread: c.unreadCount }, text: `${c.unreadCount} unread` }) : null;
      convList.append(h('li', {}, h('button', {
        type: 'button', 'aria-current': c.partnerId === partner ? 'true' : null, dataset: { partner: c.partnerId },
        onclick: () => { location.hash = `#/chat/${c.partnerId}`; },
      }, h('span', {}, h('strong', { text: name }), c.lastMessage ? h('span', { class: 'meta', text: ` — ${c.lastMessage.slice(0, 40)}` }) : null), unread)));
    }
  };
  offs.push(store.subscribe(drawConversations));

  if (!partner) {
    clear(thread, h('h2', { id: 'thread-title', text: 'Choose a conversation' }), emptyState('Pick someone on the left to see your messages.'));
    store.chat.openPartner = null;
    return () => offs.forEach((f) => f());
  }
  store.chat.openPartner = partner;
  const partnerName = () => (store.chat.conversations.get(partner) || {}).partnerName || known.get(partner) || 'your contact';
  const title = h('h2', { id: 'thread-title', text: `Conversation with ${partnerName()}` });
  const presence = h('span', { class: 'presence', id: 'partner-presence', dataset: { presence: 'unknown' } });
  const list = h('ol', { class: 'messages', id: 'messages', 'aria-label': 'Messages' }); // new messages are announced by the page's live region
  const typing = h('p', { class: 'typing', id: 'typing', 'aria-live': 'polite' });
  const error = h('p', { class: 'field-error', role: 'alert', hidden: true, id: 'chat-error' });
  const input = h('textarea', { id: 'chat-input', maxlength: 4000, rows: 1, placeholder: 'Write a message' });
  const send = h('button', { type: 'submit', id: 'chat-send', text: 'Send' });
  const older = h('button', { type: 'button', class: 'secondary', id: 'chat-older', text: 'Show older messages', hidden: true });
  const form = h('form', { class: 'composer' }, h('label', { for: input.id, class: 'sr-only', text: 'Message' }), input, send);
  clear(thread, title, h('p', { class: 'meta' }, 'Status: ', presence), older, list, typing, form, error);

  const byId = new Map(); // message id → element
  const byClient = new Map(); // client_msg_id → element
  let nextBefore = null;

  const receiptText = (m) => RECEIPT[m.status] || m.status;
  function messageEl(m) {
    const mine = m.sender_id === me;
    const el = h('li', { class: `message${mine ? ' mine' : ''}`, dataset: { id: m.id || '', clientMsgId: m.client_msg_id || '', status: m.status } },
      h('span', { class: 'sr-only', text: mine ? 'You: ' : `${partnerName()}: ` }),
      h('span', { class: 'text', text: m.content }),
      h('span', { class: 'receipt' }, ` ${fmtInstant(m.created_at || new Date(), localZone(), { hour: '2-digit', minute: '2-digit' })}`, mine ? h('span', { class: 'receipt-status', text: ` · ${receiptText(m)}` }) : null));
    return el;
  }
  function place(m, { prepend = false } = {}) {
    if (m.id && byId.has(m.id)) { update(m); return; }
    if (m.client_msg_id && byClient.has(m.client_msg_id)) { update(m); return; }
    const el = messageEl(m);
    if (m.id) byId.set(m.id, el);
    if (m.client_msg_id) byClient.set(m.client_msg_id, el);
    if (prepend) list.prepend(el); else { list.append(el); list.scrollTop = list.scrollHeight; }
  }
  function update(m) {
    const el = (m.id && byId.get(m.id)) || (m.client_msg_id && byClient.get(m.client_msg_id));
    if (!el) return;
    if (m.id) { el.dataset.id = m.id; byId.set(m.id, el); }
    const order = ['queued', 'sending', 'sent', 'delivered', 'read'];
    if (order.indexOf(m.status) >= order.indexOf(el.dataset.status)) {
      el.dataset.status = m.status;
      const rs = el.querySelector('.receipt-status');
      if (rs) rs.textContent = ` · ${receiptText(m)}`;
    }
  }

  const unreadIds = () => [...list.querySelectorAll('.message:not(.mine)')].filter((el) => el.dataset.id && el.dataset.status !== 'read').map((el) => el.dataset.id);
  async function markRead() {
    if (document.visibilityState !== 'visible') return;
    const ids = unreadIds();
    if (!ids.length) return;
    store.markConversationRead(partner);
    try { await hub.send('chat.read', { message_ids: ids.slice(-500) }); } catch {
      for (const id of ids.slice(-20)) { try { await api('PUT', `/chat/messages/${id}/read`); } catch { /* ignore */ } }
    }
    for (const id of ids) { const el = byId.get(id); if (el) el.dataset.status = 'read'; }
  }

  async function loadHistory(before) {
    clearError(error);
    try {
      const r = await api('GET', `/chat/conversations/${partner}/messages`, { query: { limit: 50, before } });
      const msgs = r.messages; // newest first
      if (before) { for (const m of msgs) place(m, { prepend: true }); } else {
        clear(list); byId.clear(); byClient.clear();
        for (const m of [...msgs].reverse()) place(m);
        for (const item of outbox().filter((x) => x.to === partner)) place({ client_msg_id: item.client_msg_id, content: item.content, sender_id: me, status: 'queued', created_at: item.created_at });
      }
      nextBefore = r.next_before;
      older.hidden = !nextBefore;
      markRead();
    } catch (err) { showError(error, err); }
  }
  older.onclick = () => loadHistory(nextBefore);

  async function queryPresence() {
    try {
      const r = await hub.send('presence.query', { user_ids: [partner] });
      const p = r.presence.find((x) => x.user_id === partner);
      showPresence(p ? p.status : null);
    } catch { /* not connected: keep the last one */ }
  }
  function showPresence(status) {
    presence.dataset.presence = status || 'unknown';
    presence.textContent = status ? { online: 'Online', away: 'Away', offline: 'Offline' }[status] : 'Not shown';
  }

  let typingTimer = null;
  offs.push(hub.on('chat.message', (m) => {
    const other = m.sender_id === me ? m.recipient_id : m.sender_id;
    if (other !== partner) return;
    place(m);
    if (m.sender_id !== me) {
      typing.textContent = '';
      announce(`New message from ${partnerName()}: ${m.content.slice(0, 80)}`);
      markRead();
    }
  }));
  offs.push(hub.on('chat.receipt', (m) => { if (m.sender_id === partner || m.recipient_id === partner) update(m); }));
  offs.push(hub.on('chat.typing', (d) => {
    if (d.from !== partner) return;
    clearTimeout(typingTimer);
    if (d.typing === false) { typing.textContent = ''; return; }
    typing.textContent = `${partnerName()} is typing…`;
    typingTimer = setTimeout(() => { typing.textContent = ''; }, 5000);
  }));
  offs.push(hub.on('presence.changed', (p) => { if (p.user_id === partner) showPresence(p.status); }));
  offs.push(hub.on('resume_gap', () => loadHistory()));
  offs.push(hub.on('connected', () => queryPresence()));
  const onSent = (e) => {
    const { client_msg_id: cid, message, error: err } = e.detail;
    if (message) update({ ...message, client_msg_id: cid });
    if (err) showError(error, err);
  };
  window.addEventListener('sos:sent', onSent);
  offs.push(() => window.removeEventListener('sos:sent', onSent));
  const onVisible = () => { if (document.visibilityState === 'visible') markRead(); };
  document.addEventListener('visibilitychange', onVisible);
  offs.push(() => document.removeEventListener('visibilitychange', onVisible));

  let lastTyping = 0;
  let typingOn = false;
  input.addEventListener('input', () => {
    const now = Date.now();
    if (input.value.trim() && now - lastTyping > 2500) {
      lastTyping = now; typingOn = true;
      hub.send('chat.typing', { to: partner, typing: true }).catch(() => {});
    } else if (!input.value.trim() && typingOn) {
      typingOn = false; lastTyping = 0;
      hub.send('chat.typing', { to: partner, typing: false }).catch(() => {});
    }
  });
  input.addEventListener('keydown', (e) => { if (e.key === 'Enter' && !e.shiftKey) { e.preventDefault(); form.requestSubmit(); } });
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearError(error);
    const content = input.value.trim();
    if (!content) { showError(error, 'Write something first.'); return; }
    const item = { to: partner, content, client_msg_id: `web-${uuid()}`, created_at: new Date().toISOString() };
    input.value = '';
    if (typingOn) { typingOn = false; lastTyping = 0; hub.send('chat.typing', { to: partner, typing: false }).catch(() => {}); }
    saveOutbox([...outbox(), item]);
    place({ client_msg_id: item.client_msg_id, content, sender_id: me, status: hub.isOnline() ? 'sending' : 'queued', created_at: item.created_at });
    flushOutbox();
    input.focus();
  });

  await loadHistory();
  queryPresence();
  input.focus();
  return () => { store.chat.openPartner = null; offs.forEach((f) => f()); clearTimeout(typingTimer); };
}
