// REST client for /api/v1 (protocol/openapi.yaml): bearer tokens, refresh before expiry, one retry after a 401,
// and errors as ApiError {status, error, details} so views can show `details` next to the control.
//
// Tokens live in sessionStorage, not localStorage: refresh tokens rotate and a reused one revokes the whole
// family, so two tabs sharing one refresh token would race and sign each other out. Each tab is its own
// session (its own refresh chain); a reload keeps the tab's session. Nothing else can read them (CSP: no
// inline or third-party script).

const BASE = '/api/v1';
const KEY = 'sos.session';

export class ApiError extends Error {
  constructor(status, error, details) {
    super(details || error || `HTTP ${status}`);
    this.status = status;
    this.error = error || '';
    this.details = details || error || (status ? `The server answered ${status}.` : 'The server could not be reached. Check your connection and try again.');
  }
}

const listeners = { token: new Set(), signout: new Set() };
export function on(event, fn) { listeners[event].add(fn); return () => listeners[event].delete(fn); }
function emit(event, arg) { for (const fn of listeners[event]) { try { fn(arg); } catch (e) { console.error(e); } } }

let current = load();
let refreshTimer = null;
let refreshing = null;
let closeReason = null; // why the hub closed the socket (4001), shown with the sign-in message
export function noteCloseReason(reason) { closeReason = reason || null; }

function load() {
  try { return JSON.parse(sessionStorage.getItem(KEY)) || null; } catch { return null; }
}
function save() {
  if (current) sessionStorage.setItem(KEY, JSON.stringify(current)); else sessionStorage.removeItem(KEY);
}

export function jwtClaims(token) {
  try {
    const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    return JSON.parse(atob(part.padEnd(part.length + ((4 - (part.length % 4)) % 4), '=')));
  } catch { return {}; }
}

export const session = {
  get token() { return current && current.access_token; },
  get user() { return current && current.user; },
  get signedIn() { return !!(current && current.access_token); },
  setUser(user) { if (current) { current.user = { ...current.user, ...user }; save(); } },
};

// Stores a sign-in answer (AuthResponse) and schedules the next refresh.
export function signedIn(auth) {
  current = { access_token: auth.access_token, refresh_token: auth.refresh_token, user: auth.user };
  save();
  scheduleRefresh();
  emit('token', current.access_token);
}

function scheduleRefresh() {
  clearTimeout(refreshTimer);
  if (!current) return;
  const { exp, iat } = jwtClaims(current.access_token);
  if (!exp) return;
  const lifetime = exp - (iat || exp - 900);
  // Refresh when 80% of the lifetime has passed, and at least 20 s before expiry.
  const at = Math.min(exp - 20, (iat || exp - lifetime) + lifetime * 0.8) * 1000;
  refreshTimer = setTimeout(() => { refreshNow().catch(() => {}); }, Math.max(1000, at - Date.now()));
}

// Exchanges the refresh token (rotation). On failure the session is over: signout listeners get the reason.
export function refreshNow() {
  if (refreshing) return refreshing;
  if (!current || !current.refresh_token) return Promise.reject(new ApiError(401, 'Unauthorized', 'Please sign in.'));
  refreshing = (async () => {
    try {
      const res = await fetch(`${BASE}/auth/refresh`, {
        method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ refresh_token: current.refresh_token }),
      });
      const body = await res.json().catch(() => ({}));
      if (!res.ok) {
        const err = new ApiError(res.status, body.error, body.details);
        if (res.status === 401 || res.status === 403) endSession(`Your session has ended${closeReason ? ` (${closeReason})` : ''}: ${err.details}`);
        throw err;
      }
      closeReason = null;
      signedIn(body);
      return body.access_token;
    } catch (err) {
      if (err instanceof ApiError) throw err;
      throw new ApiError(0, 'Network error');
    } finally { refreshing = null; }
  })();
  return refreshing;
}

// Clears the session locally and tells the app (which shows sign-in with this message).
export function endSession(message) {
  if (!current) return;
  current = null;
  save();
  clearTimeout(refreshTimer);
  emit('signout', message);
}

export async function signOut() {
  const s = current;
  if (s) {
    try {
      await fetch(`${BASE}/auth/logout`, {
        method: 'POST', headers: { Authorization: `Bearer ${s.access_token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ refresh_token: s.refresh_token }),
      });
    } catch { /* signed out locally anyway */ }
  }
  endSession('You have signed out.');
}

export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

// api('GET', '/doctors', {query: {...}}) → parsed JSON. Options: body (JSON), form (FormData), query, headers, blob.
export async function api(method, path, opts = {}) {
  const url = `${path.startsWith('/api/') ? '' : BASE}${path}${query(opts.query)}`;
  const doFetch = () => {
    const headers = { Accept: 'application/json', ...(opts.headers || {}) };
    if (current && current.access_token && !opts.anonymous) headers.Authorization = `Bearer ${current.access_token}`;
    let body;
    if (opts.form) body = opts.form;
    else if (opts.body !== undefined) { headers['Content-Type'] = 'application/json'; body = JSON.stringify(opts.body); }
    return fetch(url, { method, headers, body });
  };
  let res;
  try { res = await doFetch(); } catch { throw new ApiError(0, 'Network error'); }
  if (res.status === 401 && current && !opts.anonymous && !opts.noRetry) {
    const body = await res.clone().json().catch(() => ({}));
    try { await refreshNow(); } catch {
      endSession(`Your session has ended: ${body.details || 'please sign in again.'}`);
      throw new ApiError(401, body.error, body.details);
    }
    try { res = await doFetch(); } catch { throw new ApiError(0, 'Network error'); }
    if (res.status === 401) {
      const b = await res.clone().json().catch(() => ({}));
      endSession(`Your session has ended: ${b.details || 'please sign in again.'}`);
    }
  }
  if (opts.blob && res.ok) return res.blob();
  const text = await res.text();
  let data = null;
  if (text) { try { data = JSON.parse(text); } catch { data = null; } }
  if (!res.ok) {
    throw new ApiError(res.status, data && data.error, data && data.details);
  }
  return data;
}

if (current) scheduleRefresh();

let configPromise = null;
export function config() {
  if (!configPromise) configPromise = api('GET', '/config', { anonymous: true }).catch(() => ({ mode: 'production', sign_in: { password: true, otp_channels: [], oauth_providers: [] }, payments: { providers: ['manual'], stripe_publishable_key: null }, realtime: { path: '/api/v1/ws' } }));
  return configPromise;
}

// Small per-id cache of doctor profiles (time zones and fees are needed to show appointment times).
const doctorCache = new Map();
export function doctor(id) {
  if (!doctorCache.has(id)) {
    const p = api('GET', `/doctors/${id}`).then((r) => r.doctor).catch((e) => { doctorCache.delete(id); throw e; });
    doctorCache.set(id, p);
  }
  return doctorCache.get(id);
}
export function forgetDoctor(id) { doctorCache.delete(id); }
