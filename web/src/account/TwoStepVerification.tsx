// My two-step verification: set up an authenticator app, or turn it off (with my password).

import { Badge, Button, Field, Input, Link, MessageBar, MessageBarBody, Text } from '@fluentui/react-components';
import { useState } from 'react';
import { api, type SessionUser } from '../api';
import { FormDialog } from '../shared/FormDialog';
import { ProblemBar, problemOf, type Problem } from '../shared/problems';
import { Section } from '../shared/Section';
import { TotpEnrolment } from './TotpEnrolment';

function TurnOffDialog({ open, onClose, onDone }: { open: boolean; onClose: () => void; onDone: () => void }) {
  const [password, setPassword] = useState('');
  const [problem, setProblem] = useState<Problem | null>(null);
  const [passwordError, setPasswordError] = useState('');
  const [busy, setBusy] = useState(false);

  async function submit() {
    setBusy(true);
    setProblem(null);
    setPasswordError('');
    try {
      await api('DELETE', '/api/v1/auth/mfa/totp', { password });
      setPassword('');
      onDone();
    } catch (e) {
      const p = problemOf(e);
      if (p.code === 'invalid_credentials') setPasswordError(p.message);
      else setProblem(p);
    } finally {
      setBusy(false);
    }
  }

  return (
    <FormDialog
      open={open}
      title="Turn off two-step verification?"
      submitLabel="Turn off"
      busy={busy}
      submitDisabled={!password}
      onSubmit={submit}
      onClose={onClose}
    >
      <Text>Signing in will ask only for your password. Remove the SitePatch entry from your authenticator app afterwards.</Text>
      <ProblemBar problem={problem} />
      <Field label="Password" required hint="Your SitePatch password, to confirm it's you." validationMessage={passwordError || undefined}>
        <Input type="password" value={password} onChange={(_, d) => setPassword(d.value)} autoComplete="current-password" />
      </Field>
    </FormDialog>
  );
}

export function TwoStepVerification({ user, onChanged }: { user: SessionUser; onChanged: () => void }) {
  const [turningOff, setTurningOff] = useState(false);
  const [notice, setNotice] = useState('');

  if (user.source === 'entra') {
    return (
      <Section title="Two-step verification">
        <Text>
          You sign in with Microsoft, so Microsoft Entra ID asks for your second factor (Conditional Access or security defaults). Manage your methods
          in <Link href="https://mysignins.microsoft.com/security-info" target="_blank" rel="noreferrer">My Sign-Ins → Security info</Link>.
        </Text>
      </Section>
    );
  }

  const status = user.mfa.enrolled
    ? <Badge color="success" appearance="filled">On</Badge>
    : <Badge color={user.mfa.required ? 'danger' : 'informative'} appearance="outline">Off</Badge>;

  return (
    <Section
      title="Two-step verification"
      description="Signing in asks for a code from an authenticator app on your phone, as well as your password."
    >
      <div style={{ display: 'flex', gap: 8, alignItems: 'center' }} data-testid="mfa-status">
        <Text weight="semibold">Authenticator app</Text>{status}
        {user.mfa.required && <Text size={200}>Required by your administrator.</Text>}
      </div>
      {notice && <MessageBar intent="success" role="status"><MessageBarBody>{notice}</MessageBarBody></MessageBar>}
      {!user.mfa.enrolled && (
        <TotpEnrolment
          startLabel="Set up authenticator app"
          onEnrolled={() => { setNotice('Two-step verification is on. Signing in now asks for a code from your authenticator app.'); onChanged(); }}
        />
      )}
      {user.mfa.enrolled && (
        <div style={{ display: 'flex', gap: 12, alignItems: 'center' }}>
          <Button onClick={() => { setNotice(''); setTurningOff(true); }} disabled={user.mfa.required}>Turn off</Button>
          {user.mfa.required && <Text size={200}>It can't be turned off while an administrator requires it.</Text>}
        </div>
      )}
      <TurnOffDialog
        open={turningOff}
        onClose={() => setTurningOff(false)}
        onDone={() => { setTurningOff(false); setNotice('Two-step verification is off.'); onChanged(); }}
      />
    </Section>
  );
}
