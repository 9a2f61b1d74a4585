// Change my password (local accounts). The server ends my other sessions when it changes.

import { Button, Field, Input, MessageBar, MessageBarBody } from '@fluentui/react-components';
import { useState, type FormEvent } from 'react';
import { api } from '../api';
import { PASSWORD_RULE } from '../shared/passwords';
import { ProblemBar, problemOf, type Problem } from '../shared/problems';
import { Section } from '../shared/Section';

export function PasswordChange({ onChanged }: { onChanged: () => void }) {
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [again, setAgain] = useState('');
  const [problem, setProblem] = useState<Problem | null>(null);
  const [fieldErrors, setFieldErrors] = useState<Record<string, string>>({});
  const [done, setDone] = useState(false);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setProblem(null);
    setFieldErrors({});
    setDone(false);
    if (next !== again) {
      setFieldErrors({ again: 'The passwords don\'t match. Type the new password again.' });
      return;
    }
    setBusy(true);
    try {
      await api('POST', '/api/v1/auth/password', { currentPassword: current, newPassword: next });
      setCurrent('');
      setNext('');
      setAgain('');
      setDone(true);
      onChanged();
    } catch (e) {
      const p = problemOf(e);
      if (p.code === 'invalid_credentials') setFieldErrors({ currentPassword: p.message });
      else if (p.code === 'invalid_input' && Object.keys(p.fields).length) setFieldErrors(p.fields);
      else if (p.code === 'invalid_input') setFieldErrors({ newPassword: p.message });
      else setProblem(p);
    } finally {
      setBusy(false);
    }
  }

  return (
    <Section title="Password" description="Changing it signs you out everywhere else.">
      <form onSubmit={submit} style={{ display: 'flex', flexDirection: 'column', gap: 12, maxWidth: 420 }} aria-label="Change password">
        {done && <MessageBar intent="success" role="status"><MessageBarBody>Password changed. Your other sessions were signed out.</MessageBarBody></MessageBar>}
        <ProblemBar problem={problem} />
        <Field label="Current password" required validationMessage={fieldErrors.currentPassword}>
          <Input type="password" value={current} onChange={(_, d) => setCurrent(d.value)} autoComplete="current-password" />
        </Field>
        <Field label="New password" required hint={PASSWORD_RULE} validationMessage={fieldErrors.newPassword}>
          <Input type="password" value={next} onChange={(_, d) => setNext(d.value)} autoComplete="new-password" />
        </Field>
        <Field label="Confirm new password" required validationMessage={fieldErrors.again}>
          <Input type="password" value={again} onChange={(_, d) => setAgain(d.value)} autoComplete="new-password" />
        </Field>
        <div><Button appearance="primary" type="submit" disabled={busy || !current || !next || !again}>Change password</Button></div>
      </form>
    </Section>
  );
}
