// In the user dialog, for another user's local account: set a new password (a forgotten one), or
// reset two-step verification (a lost authenticator). Each is its own request and takes effect at
// once, without the dialog's Save; the server ends the account's sessions for both.

import { Button, Divider, Field, Input, Text, makeStyles, tokens } from '@fluentui/react-components';
import { useEffect, useState } from 'react';
import { api, type User } from '../api';
import { ConfirmDialog } from '../shared/ConfirmDialog';
import { FormDialog } from '../shared/FormDialog';
import { PASSWORD_RULE } from '../shared/passwords';
import { ProblemBar, problemOf, type Problem } from '../shared/problems';

const useStyles = makeStyles({
  group: { display: 'flex', flexDirection: 'column', gap: '10px', marginBottom: '8px' },
  row: { display: 'flex', gap: '16px', alignItems: 'center', justifyContent: 'space-between' },
  text: { display: 'flex', flexDirection: 'column', gap: '2px' },
  hint: { color: tokens.colorNeutralForeground3 },
  action: { flexShrink: 0, minWidth: '220px' },
});

function SetPasswordDialog({ open, user, onClose, onDone }: { open: boolean; user: User; onClose: () => void; onDone: (user: User) => void }) {
  const [password, setPassword] = useState('');
  const [problem, setProblem] = useState<Problem | null>(null);
  const [passwordError, setPasswordError] = useState('');
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    if (!open) return;
    setPassword('');
    setProblem(null);
    setPasswordError('');
  }, [open]);

  async function submit() {
    setBusy(true);
    setProblem(null);
    setPasswordError('');
    try {
      const saved = await api<User>('PATCH', `/api/v1/users/${user.id}`, { password });
      setPassword('');
      onDone(saved);
    } catch (e) {
      const p = problemOf(e);
      // The server's 422 says what is wrong with the password ("at least 12 characters", "a common password").
      if (p.fields.password) setPasswordError(p.fields.password);
      else if (p.code === 'invalid_input' && !Object.keys(p.fields).length) setPasswordError(p.message);
      else setProblem(p);
    } finally {
      setBusy(false);
    }
  }

  return (
    <FormDialog
      open={open}
      title={`Set a new password for ${user.username}`}
      submitLabel="Set password"
      busy={busy}
      submitDisabled={!password}
      maxWidth={480}
      onSubmit={submit}
      onClose={onClose}
    >
      <Text>
        The old password stops working, and {user.username} is signed out everywhere now. Give them the new password; they can change it under My account.
        {user.mfa.enrolled ? ' Their authenticator app keeps working.' : ''}
      </Text>
      <ProblemBar problem={problem} />
      <Field label="New password" required hint={PASSWORD_RULE} validationMessage={passwordError || undefined}>
        <Input type="password" value={password} onChange={(_, d) => setPassword(d.value)} autoComplete="new-password" />
      </Field>
    </FormDialog>
  );
}

/** `onChanged`: the account as the server now has it, and what to tell the administrator. */
export function AccountRecovery({ user, onChanged }: { user: User; onChanged: (user: User, message: string) => void }) {
  const styles = useStyles();
  const [action, setAction] = useState<'password' | 'mfa' | null>(null);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [busy, setBusy] = useState(false);
  const name = user.username;
  // What the next sign-in asks for: `mfa.required` is the effective requirement (own or by Security settings).
  const nextSignIn = (when: string) => (user.mfa.required
    ? `At the next sign-in, ${name} must set up an authenticator app again before they can use the console (two-step verification is required for them).`
    : `${when}, ${name} signs in with the password alone, and can set up an authenticator app again under My account.`);

  async function resetMfa() {
    setBusy(true);
    setProblem(null);
    try {
      const saved = await api<User>('PATCH', `/api/v1/users/${user.id}`, { resetMfa: true });
      setAction(null);
      onChanged(saved, `Reset two-step verification for ${name} and signed them out everywhere. ${nextSignIn('From now on')}`);
    } catch (e) {
      setProblem(problemOf(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className={styles.group} role="group" aria-label="Password and authenticator app">
      <Divider />
      <div className={styles.text}>
        <Text weight="semibold">Password and authenticator app</Text>
        <Text size={200} className={styles.hint}>For a forgotten password or a lost phone. Each takes effect at once (no Save needed) and signs {name} out everywhere.</Text>
      </div>
      <div className={styles.row}>
        <div className={styles.text}>
          <Text>Password</Text>
          <Text size={200} className={styles.hint}>Set by you; give it to {name}.</Text>
        </div>
        <Button className={styles.action} onClick={() => setAction('password')}>Set a new password…</Button>
      </div>
      <div className={styles.row}>
        <div className={styles.text}>
          <Text>Authenticator app: {user.mfa.enrolled ? 'set up' : 'not set up'}</Text>
          <Text size={200} className={styles.hint}>
            {user.mfa.enrolled ? `Removes it, if ${name} lost it or got a new phone.` : `Nothing to reset until ${name} sets one up.`}
          </Text>
        </div>
        <Button className={styles.action} onClick={() => { setProblem(null); setAction('mfa'); }} disabled={!user.mfa.enrolled}>Reset two-step verification…</Button>
      </div>
      <SetPasswordDialog
        open={action === 'password'}
        user={user}
        onClose={() => setAction(null)}
        onDone={(saved) => { setAction(null); onChanged(saved, `Set a new password for ${name} and signed them out everywhere. Give them the new password.`); }}
      />
      <ConfirmDialog
        open={action === 'mfa'}
        title={`Reset two-step verification for ${name}?`}
        confirmLabel="Reset two-step verification"
        busy={busy}
        problem={problem}
        onConfirm={resetMfa}
        onCancel={() => setAction(null)}
      >
        The authenticator app {name} set up no longer works for SitePatch, and {name} is signed out everywhere now. {nextSignIn('After that')}
      </ConfirmDialog>
    </div>
  );
}
