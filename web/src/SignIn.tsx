// Sign-in card; on first run it creates the administrator instead.

import { Button, Card, Field, Input, MessageBar, MessageBarBody, Text, Title2, makeStyles, tokens } from '@fluentui/react-components';
import { useState, type FormEvent } from 'react';
import { api, ApiError, setCsrfToken, type Session } from './api';

const useStyles = makeStyles({
  page: { display: 'flex', justifyContent: 'center', alignItems: 'flex-start', paddingTop: '12vh', backgroundColor: tokens.colorNeutralBackground2, minHeight: '100vh', boxSizing: 'border-box' },
  card: { width: '380px', padding: '32px', display: 'flex', flexDirection: 'column', gap: '16px' },
});

export function SignIn({ setupRequired, onSignedIn }: { setupRequired: boolean; onSignedIn: () => void }) {
  const styles = useStyles();
  const [username, setUsername] = useState(setupRequired ? 'admin' : '');
  const [password, setPassword] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError('');
    try {
      const session = await api<Session>('POST', setupRequired ? '/api/v1/auth/setup' : '/api/v1/auth/login', { username, password });
      setCsrfToken(session.csrfToken);
      onSignedIn();
    } catch (e) {
      setError(e instanceof ApiError ? e.message : 'The console could not be reached.');
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className={styles.page}>
      <Card className={styles.card}>
        <form onSubmit={submit} style={{ display: 'contents' }}>
          <Title2>SitePatch</Title2>
          <Text>{setupRequired ? 'Create the administrator account to finish setting up SitePatch.' : 'Sign in to the patch console.'}</Text>
          {error && <MessageBar intent="error"><MessageBarBody>{error}</MessageBarBody></MessageBar>}
          <Field label="Username" required>
            <Input name="username" value={username} onChange={(_, d) => setUsername(d.value)} autoComplete="username" />
          </Field>
          <Field label="Password" required hint={setupRequired ? 'At least 8 characters.' : undefined}>
            <Input name="password" type="password" value={password} onChange={(_, d) => setPassword(d.value)} autoComplete={setupRequired ? 'new-password' : 'current-password'} />
          </Field>
          <Button appearance="primary" type="submit" disabled={busy}>{setupRequired ? 'Create administrator' : 'Sign in'}</Button>
        </form>
      </Card>
    </div>
  );
}
