// Session gate: first-run setup, sign-in, or the console shell.

import { Spinner } from '@fluentui/react-components';
import { useCallback, useEffect, useState } from 'react';
import { api, ApiError, setCsrfToken, type Session } from './api';
import { Shell } from './Shell';
import { SignIn } from './SignIn';

type State = { kind: 'loading' } | { kind: 'signed-out'; setupRequired: boolean } | { kind: 'signed-in'; session: Session };

export function App() {
  const [state, setState] = useState<State>({ kind: 'loading' });

  const load = useCallback(async () => {
    try {
      const session = await api<Session>('GET', '/api/v1/auth/session');
      setCsrfToken(session.csrfToken);
      setState({ kind: 'signed-in', session });
    } catch (e) {
      setState({ kind: 'signed-out', setupRequired: e instanceof ApiError && Boolean(e.body.setupRequired) });
    }
  }, []);

  useEffect(() => { void load(); }, [load]);

  if (state.kind === 'loading') return <Spinner style={{ marginTop: 120 }} label="Loading SitePatch…" />;
  if (state.kind === 'signed-out') return <SignIn setupRequired={state.setupRequired} onSignedIn={load} />;
  return <Shell username={state.session.user.username} onSignedOut={load} />;
}
