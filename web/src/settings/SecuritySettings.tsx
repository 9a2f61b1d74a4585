// Security settings (administrators): two-step verification for local accounts, session timeouts.

import {
  Card, Field, MessageBar, MessageBarBody, SpinButton, Switch, Text, Title3, Toolbar, ToolbarButton, makeStyles,
} from '@fluentui/react-components';
import { ArrowUndoRegular, SaveRegular } from '@fluentui/react-icons';
import { useCallback, useEffect, useState } from 'react';
import { api, type SecuritySettings as Settings } from '../api';
import { fieldOf, ProblemBar, problemOf, type Problem } from '../shared/problems';

const useStyles = makeStyles({
  toolbar: { marginLeft: '-8px', marginBottom: '4px' },
  page: { display: 'flex', flexDirection: 'column', gap: '16px', marginTop: '12px', maxWidth: '760px' },
  card: { padding: '16px 20px', display: 'flex', flexDirection: 'column', gap: '14px' },
  banners: { display: 'flex', flexDirection: 'column', gap: '8px', marginTop: '8px' },
  number: { width: '140px' },
});

const FIELDS: (keyof Settings)[] = ['idleTimeoutMinutes', 'absoluteTimeoutHours', 'requireMfaForLocalAccounts'];

/** The session timeouts, with the server's limits. */
const TIMEOUTS = [
  { key: 'idleTimeoutMinutes', label: 'Idle timeout (minutes)', hint: 'Signs a session out after this long without any activity.', min: 5, max: 1440 },
  { key: 'absoluteTimeoutHours', label: 'Absolute timeout (hours)', hint: 'Signs every session out this long after sign-in, active or not.', min: 1, max: 168 },
] as const;

function same(a: Settings | null, b: Settings | null): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** SpinButton reports a typed value in displayValue until it is committed; take whichever is set. */
function spun(value: number | null | undefined, displayValue: string | undefined): number | null {
  if (value !== undefined && value !== null) return value;
  const n = Number(displayValue);
  return displayValue !== undefined && displayValue.trim() !== '' && Number.isFinite(n) ? n : null;
}

export function SecuritySettings() {
  const styles = useStyles();
  const [saved, setSaved] = useState<Settings | null>(null);
  const [form, setForm] = useState<Settings | null>(null);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [fields, setFields] = useState<Record<string, string>>({});
  const [notice, setNotice] = useState('');
  const [busy, setBusy] = useState(false);

  const load = useCallback(async () => {
    try {
      const settings = await api<Settings>('GET', '/api/v1/settings/security');
      setSaved(settings);
      setForm(settings);
    } catch (e) {
      setProblem(problemOf(e));
    }
  }, []);
  useEffect(() => { void load(); }, [load]);

  async function save() {
    if (!form || !saved) return;
    setBusy(true);
    setProblem(null);
    setFields({});
    setNotice('');
    try {
      const changes = Object.fromEntries(Object.entries(form).filter(([k, v]) => saved[k as keyof Settings] !== v));
      const next = await api<Settings>('PATCH', '/api/v1/settings/security', changes);
      setSaved(next);
      setForm(next);
      setNotice('Saved the security settings.');
    } catch (e) {
      const p = problemOf(e);
      // The server names the field (422 `field`, or `fields`); an older one only words it in the
      // message ("The idle timeout must…"): then the message says where it goes.
      const named = Object.fromEntries(Object.entries(p.fields).filter(([k]) => (FIELDS as string[]).includes(k)));
      const field = Object.keys(named).length ? undefined : fieldOf(p, FIELDS);
      if (Object.keys(named).length) setFields(named);
      else if (field) setFields({ [field]: p.message });
      setProblem({ ...p, message: `Nothing was saved. ${p.message}` });
    } finally {
      setBusy(false);
    }
  }

  const set = <K extends keyof Settings>(key: K, value: Settings[K]) => setForm((f) => (f ? { ...f, [key]: value } : f));
  const dirty = !same(form, saved);
  return (
    <>
      <Toolbar aria-label="Security settings actions" className={styles.toolbar}>
        <ToolbarButton appearance="primary" icon={<SaveRegular />} onClick={save} disabled={busy || !form || !dirty}>Save</ToolbarButton>
        <ToolbarButton icon={<ArrowUndoRegular />} onClick={() => { setForm(saved); setFields({}); setProblem(null); }} disabled={busy || !dirty}>Discard changes</ToolbarButton>
      </Toolbar>
      <Title3 as="h1">Security settings</Title3>
      <div className={styles.banners}>
        <ProblemBar problem={problem} />
        {notice && <MessageBar intent="success" role="status"><MessageBarBody>{notice}</MessageBarBody></MessageBar>}
      </div>
      {form && (
        <div className={styles.page}>
          <Card className={styles.card} role="region" aria-label="Two-step verification">
            <Text as="h2" weight="semibold" size={400} style={{ margin: 0 }}>Two-step verification</Text>
            <Field
              validationMessage={fields.requireMfaForLocalAccounts}
              hint="Local accounts without an authenticator app must set one up at their next sign-in before they can use the console. Accounts that sign in with Microsoft get their second factor from Microsoft Entra ID (Conditional Access)."
            >
              <Switch
                label="Require two-step verification for local accounts"
                checked={form.requireMfaForLocalAccounts}
                onChange={(_, d) => set('requireMfaForLocalAccounts', d.checked)}
              />
            </Field>
          </Card>
          <Card className={styles.card} role="region" aria-label="Sessions">
            <Text as="h2" weight="semibold" size={400} style={{ margin: 0 }}>Sessions</Text>
            {TIMEOUTS.map(({ key, label, hint, min, max }) => (
              <Field key={key} label={label} hint={`${hint} From ${min} to ${max}.`} validationMessage={fields[key]}>
                <SpinButton
                  className={styles.number}
                  min={min}
                  max={max}
                  value={form[key]}
                  onChange={(_, d) => { const n = spun(d.value, d.displayValue); if (n !== null) set(key, n); }}
                />
              </Field>
            ))}
          </Card>
        </div>
      )}
    </>
  );
}
