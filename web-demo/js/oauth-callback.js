// Where the OAuth provider sends the browser back (point the provider's redirect URI here). Completes only a
// sign-in this tab started (its client_state is in sessionStorage); anything else is ignored (login CSRF).
import { api, signedIn } from './api.js';

const status = document.getElementById('oauth-status');
const params = new URLSearchParams(location.search);
let started = null;
try { started = JSON.parse(sessionStorage.getItem('sos.oauth')); } catch { started = null; }
sessionStorage.removeItem('sos.oauth');

async function finish() {
  if (!started || !started.client_state || !started.provider) {
    status.textContent = 'This sign-in was not started from this browser tab, so it was ignored. Start again from the sign-in page.';
    return;
  }
  if (params.get('error')) {
    status.textContent = `The provider did not sign you in: ${params.get('error_description') || params.get('error')}.`;
    return;
  }
  try {
    const auth = await api('GET', `/auth/${started.provider}/callback`, {
      anonymous: true, query: { code: params.get('code'), state: params.get('state'), client_state: started.client_state },
    });
    signedIn(auth);
    status.textContent = 'Signed in. Opening the app…';
    location.replace('/');
  } catch (err) {
    status.textContent = `Sign-in failed: ${err.details}`;
  }
}
finish();
