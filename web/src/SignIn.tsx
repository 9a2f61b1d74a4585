// Sign-in card: password, then the authenticator code when the account has two-step verification;
// "Sign in with Microsoft" when Entra sign-in is set up; on first run it creates the administrator.

import { Button, Card, Divider, Field, Input, Link, MessageBar, MessageBarBody, MessageBarTitle, Text, Title2, makeStyles, tokens } from '@fluentui/react-components';
import { useState, type FormEvent } from 'react';
import { api, ApiError, setCsrfToken, type Session } from './api';
import { CodeField, codeDigits, isCompleteCode } from './shared/CodeField';
import { PASSWORD_RULE } from './shared/passwords';

const useStyles = makeStyles({
  page: { display: 'flex', justifyContent: 'center', alignItems: 'flex-start', paddingTop: '12vh', backgroundColor: tokens.colorNeutralBackground2, minHeight: '100vh', boxSizing: 'border-box' },
  card: { width: '380px', padding: '32px', display: 'flex', flexDirection: 'column', gap: '16px' },
});

/** Microsoft's four-square logo, as on Microsoft's own sign-in buttons. */
function MicrosoftLogo() {
  return (
    <svg width="16" height="16" viewBox="0 0 21 21" aria-hidden="true">
      <rect x="1" y="1" width="9" height="9" fill="#f25022" /><rect x="11" y="1" width="9" height="9" fill="#7fba00" />
      <rect x="1" y="11" width="9" height="9" fill="#00a4ef" /><rect x="11" y="11" width="9" height="9" fill="#ffb900" />
    </svg>
  );
}

export interface SignInProps {
  setupRequired: boolean;
  entraSignIn: boolean;
  /** The message the server sent back from a failed Entra sign-in (`/?signInError=…&message=…`). */
  entraError?: { code: string; message: string } | null;
  onSignedIn: () => void;
}

export function SignIn({ setupRequired, entraSignIn, entraError, onSignedIn }: SignInProps) {
  const styles = useStyles();
  const [username, setUsername] = useState(setupRequired ? 'admin' : '');
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');
  const [step, setStep] = useState<'password' | 'code'>('password');
  const [error, setError] = useState('');
  const [codeError, setCodeError] = useState('');
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError('');
    setCodeError('');
    try {
      const body = step === 'code' ? { username, password, totpCode: codeDigits(code) } : { username, password };
      const session = await api<Session>('POST', setupRequired ? '/api/v1/auth/setup' : '/api/v1/auth/login', body);
      setCsrfToken(session.csrfToken);
      onSignedIn();
    } catch (e) {
      if (e instanceof ApiError && e.body.code === 'mfa_required') {
        setStep('code');
        setCode('');
      } else if (e instanceof ApiError && e.body.code === 'invalid_code') {
        setCodeError(e.message);
        setCode('');
      } else if (e instanceof ApiError && e.body.code === 'invalid_credentials' && step === 'code') {
        // The password stopped working between the two steps (changed or blocked meanwhile): start over.
        setStep('password');
        setPassword('');
        setError(e.message);
      } else {
        setError(e instanceof ApiError ? e.message : 'The console could not be reached. Check that SitePatch is running.');
      }
    } finally {
      setBusy(false);
    }
  }

  function back() {
    setStep('password');
    setCode('');
    setCodeError('');
    setError('');
  }

  const errorBar = error && <MessageBar intent="error" role="alert"><MessageBarBody>{error}</MessageBarBody></MessageBar>;

  if (step === 'code') {
    return (
      <div className={styles.page}>
        <Card className={styles.card}>
          <form onSubmit={submit} style={{ display: 'contents' }}>
            <Text size={200}>{username}</Text>
            <Title2 as="h1" style={{ margin: 0 }}>Enter code</Title2>
            <Text>Enter the 6-digit code shown in the authenticator app on your phone.</Text>
            {errorBar}
            <CodeField value={code} onChange={setCode} error={codeError} autoFocus />
            <Button appearance="primary" type="submit" disabled={busy || !isCompleteCode(code)}>Verify</Button>
            <Link as="button" type="button" onClick={back}>Back: sign in with a different account</Link>
          </form>
        </Card>
      </div>
    );
  }

  return (
    <div className={styles.page}>
      <Card className={styles.card}>
        <form onSubmit={submit} style={{ display: 'contents' }}>
          <Title2 as="h1" style={{ margin: 0 }}>SitePatch</Title2>
          <Text>{setupRequired ? 'Create the administrator account to finish setting up SitePatch.' : 'Sign in to the patch console.'}</Text>
          {entraError && !error && (
            <MessageBar intent="error" role="alert">
              <MessageBarBody><MessageBarTitle>Sign in with Microsoft failed.</MessageBarTitle>{entraError.message}</MessageBarBody>
            </MessageBar>
          )}
          {errorBar}
          <Field label="Username" required>
            <Input name="username" value={username} onChange={(_, d) => setUsername(d.value)} autoComplete="username" />
          </Field>
          <Field label="Password" required hint={setupRequired ? PASSWORD_RULE : undefined}>
            <Input name="password" type="password" value={password} onChange={(_, d) => setPassword(d.value)} autoComplete={setupRequired ? 'new-password' : 'current-password'} />
          </Field>
          <Button appearance="primary" type="submit" disabled={busy}>{setupRequired ? 'Create administrator' : 'Sign in'}</Button>
          {entraSignIn && !setupRequired && (
            <>
              <Divider>or</Divider>
              {/* A full page load: the server sends the browser on to Microsoft Entra ID and back. */}
              <Button as="a" href="/api/v1/auth/entra/start" icon={<MicrosoftLogo />}>Sign in with Microsoft</Button>
            </>
          )}
        </form>
      </Card>
    </div>
  );
}
