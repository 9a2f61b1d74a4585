// Session gate: first-run setup, sign-in, the two-step verification an administrator requires, or
// the console shell.

import { Spinner } from '@fluentui/react-components';
import { useCallback, useEffect, useLayoutEffect, useState } from 'react';
import { MfaRequired } from './account/MfaRequired';
import { api, ApiError, setCsrfToken, setUnauthenticatedHandler, type Session } from './api';
import { Shell } from './Shell';
import { SignIn } from './SignIn';

type State =
  | { kind: 'loading' }
  | { kind: 'signed-out'; setupRequired: boolean; entraSignIn: boolean }
  | { kind: 'signed-in'; session: Session };

/** A failed Entra sign-in comes back as `/?signInError=<code>&message=<text>`: read it once, then tidy the address bar. */
function takeEntraError(): { code: string; message: string } | null {
  const query = new URLSearchParams(window.location.search);
  const code = query.get('signInError');
  if (!code) return null;
  const message = query.get('message') || `Microsoft Entra ID did not sign you in (${code}).`;
  query.delete('signInError');
  query.delete('message');
  const rest = query.toString();
  window.history.replaceState(null, '', `${window.location.pathname}${rest ? `?${rest}` : ''}${window.location.hash}`);
  return { code, message };
}

const ENTRA_ERROR = takeEntraError();

/**
 * A modal dialog hides the rest of the page from assistive technology (aria-hidden on #root) while
 * it is open. When the page under it goes away while it is still open (sign out everywhere from its
 * confirmation, a session that timed out behind a form), nothing gives that back: do it here once
 * no dialog is left.
 */
function releaseStaleModal(): void {
  const root = document.getElementById('root');
  if (root?.getAttribute('aria-hidden') === 'true' && !document.querySelector('[role="dialog"], [role="alertdialog"]')) {
    root.removeAttribute('aria-hidden');
  }
}

export function App() {
  const [state, setState] = useState<State>({ kind: 'loading' });
  const [entraError, setEntraError] = useState(ENTRA_ERROR);

  const load = useCallback(async () => {
    try {
      const session = await api<Session>('GET', '/api/v1/auth/session');
      setCsrfToken(session.csrfToken);
      setState({ kind: 'signed-in', session });
      setEntraError(null);
    } catch (e) {
      setCsrfToken('');
      setState({
        kind: 'signed-out',
        setupRequired: e instanceof ApiError && Boolean(e.body.setupRequired),
        entraSignIn: e instanceof ApiError && Boolean(e.body.entraSignIn),
      });
    }
  }, []);

  useEffect(() => {
    void load();
    // A session that times out or is ended elsewhere sends the console back to the sign-in page.
    setUnauthenticatedHandler(() => void load());
    return () => setUnauthenticatedHandler(null);
  }, [load]);

  const screen = state.kind === 'signed-in' ? (state.session.mustEnrolMfa ? 'mfa' : 'console') : state.kind;
  useLayoutEffect(releaseStaleModal, [screen]);

  if (state.kind === 'loading') return <Spinner style={{ marginTop: 120 }} label="Loading SitePatch…" />;
  if (state.kind === 'signed-out') {
    return <SignIn setupRequired={state.setupRequired} entraSignIn={state.entraSignIn} entraError={entraError} onSignedIn={load} />;
  }
  if (state.session.mustEnrolMfa) return <MfaRequired session={state.session} onEnrolled={load} onSignedOut={load} />;
  return <Shell session={state.session} onSessionChanged={load} onSignedOut={load} />;
}
