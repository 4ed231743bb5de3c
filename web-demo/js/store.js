// App-wide live state that more than one view shows: unread chat counts and unread notifications.
// Fed by REST on start and on resume_gap, then by hub events.
import { api, session } from './api.js';
import * as hub from './hub.js';

const subs = new Set();
export function subscribe(fn) { subs.add(fn); fn(); return () => subs.delete(fn); }
function changed() { for (const fn of [...subs]) { try { fn(); } catch (e) { console.error(e); } } }

export const chat = { conversations: new Map(), openPartner: null, loaded: false };
export const notifications = { unread: 0 };

export function totalUnread() { let n = 0; for (const c of chat.conversations.values()) n += c.unreadCount || 0; return n; }

let refetchTimer = null;
export function refetchConversations(delay = 200) {
  clearTimeout(refetchTimer);
  refetchTimer = setTimeout(loadConversations, delay);
}
export async function loadConversations() {
  try {
    const r = await api('GET', '/chat/conversations', { query: { limit: 100 } });
    chat.conversations = new Map(r.conversations.map((c) => [c.partnerId, c]));
    chat.loaded = true;
    changed();
  } catch { /* shown by the chat view when it loads */ }
}
export async function loadNotificationCount() {
  try {
    const r = await api('GET', '/notifications', { query: { unread: true, limit: 1 } });
    notifications.unread = r.pagination.total;
    changed();
  } catch { /* ignore */ }
}

function me() { return session.user && session.user.id; }

export function init() {
  loadConversations();
  loadNotificationCount();
  hub.on('chat.message', (m) => {
    const partner = m.sender_id === me() ? m.recipient_id : m.sender_id;
    const c = chat.conversations.get(partner) || { partnerId: partner, partnerName: '', partnerAvatar: '', unreadCount: 0 };
    c.lastMessage = m.content;
    c.lastMessageAt = m.created_at;
    if (m.recipient_id === me()) {
      const visible = chat.openPartner === partner && document.visibilityState === 'visible';
      if (!visible && m.status !== 'read') c.unreadCount = (c.unreadCount || 0) + 1;
      if (!visible) hub.send('chat.delivered', { message_ids: [m.id] }).catch(() => {});
    }
    chat.conversations.set(partner, c);
    if (!c.partnerName) refetchConversations();
    changed();
  });
  hub.on('chat.receipt', (m) => {
    // A receipt for a message I received: another tab of mine (or this one) read it — recount exactly.
    if (m.recipient_id === me()) refetchConversations();
  });
  hub.on('notification.created', () => { notifications.unread += 1; changed(); });
  hub.on('resume_gap', () => { loadConversations(); loadNotificationCount(); });
}
export function setNotificationsUnread(n) { notifications.unread = n; changed(); }
export function markConversationRead(partner) {
  const c = chat.conversations.get(partner);
  if (c && c.unreadCount) { c.unreadCount = 0; changed(); }
}
export function notify() { changed(); }
