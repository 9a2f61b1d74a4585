// Setting up an authenticator app: the server makes a secret, the user scans its QR code (or types
// the key), and proves it with one code. Used by My account and by the "MFA required" page.

import { Button, Text, makeStyles, tokens } from '@fluentui/react-components';
import { useState, type FormEvent } from 'react';
import { api, type TotpEnrolment as Enrolment } from '../api';
import { CodeField, codeDigits, isCompleteCode } from '../shared/CodeField';
import { CopyField } from '../shared/CopyField';
import { ProblemBar, problemOf, type Problem } from '../shared/problems';

const useStyles = makeStyles({
  steps: { display: 'grid', gridTemplateColumns: 'auto 1fr', gap: '20px', alignItems: 'start' },
  qr: {
    width: '180px', height: '180px', padding: '8px', backgroundColor: '#fff',
    border: `1px solid ${tokens.colorNeutralStroke2}`, borderRadius: tokens.borderRadiusMedium,
  },
  column: { display: 'flex', flexDirection: 'column', gap: '12px', maxWidth: '460px' },
  ol: { margin: 0, paddingLeft: '20px', display: 'flex', flexDirection: 'column', gap: '6px' },
  actions: { display: 'flex', gap: '8px' },
});

/** Render the server's QR <svg> as an image: shown, never executed. */
function qrSource(svg: string): string {
  return `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`;
}

export function TotpEnrolment({ onEnrolled, onCancel, startLabel = 'Set up authenticator app' }: {
  onEnrolled: () => void;
  onCancel?: () => void;
  startLabel?: string;
}) {
  const styles = useStyles();
  const [enrolment, setEnrolment] = useState<Enrolment | null>(null);
  const [code, setCode] = useState('');
  const [problem, setProblem] = useState<Problem | null>(null);
  const [codeError, setCodeError] = useState('');
  const [busy, setBusy] = useState(false);

  async function start() {
    setBusy(true);
    setProblem(null);
    try {
      setEnrolment(await api<Enrolment>('POST', '/api/v1/auth/mfa/totp'));
      setCode('');
      setCodeError('');
    } catch (e) {
      setProblem(problemOf(e));
    } finally {
      setBusy(false);
    }
  }

  async function confirm(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setProblem(null);
    setCodeError('');
    try {
      await api('POST', '/api/v1/auth/mfa/totp/confirm', { code: codeDigits(code) });
      onEnrolled();
    } catch (e) {
      const p = problemOf(e);
      if (p.code === 'invalid_code' || p.fields.code) setCodeError(p.fields.code ?? p.message);
      else setProblem(p);
      setCode('');
    } finally {
      setBusy(false);
    }
  }

  function cancel() {
    setEnrolment(null);
    setProblem(null);
    onCancel?.();
  }

  if (!enrolment) {
    return (
      <div className={styles.column}>
        <ProblemBar problem={problem} />
        <div className={styles.actions}>
          <Button appearance="primary" onClick={start} disabled={busy}>{startLabel}</Button>
          {onCancel && <Button onClick={onCancel}>Cancel</Button>}
        </div>
      </div>
    );
  }

  return (
    <form className={styles.steps} onSubmit={confirm} aria-label="Set up authenticator app">
      <img className={styles.qr} src={qrSource(enrolment.qrSvg)} alt="QR code to scan with the authenticator app" data-testid="totp-qr" />
      <div className={styles.column}>
        <ol className={styles.ol}>
          <li>Open Microsoft Authenticator (or another authenticator app) on your phone and add an account: <b>Other account</b>, or <b>Work or school account → Scan a QR code</b>.</li>
          <li>Scan the QR code. Can't scan it? Enter this key instead (time-based, 6 digits):</li>
        </ol>
        <CopyField value={enrolment.secret} label="Secret key" testId="totp-secret" />
        <ol className={styles.ol} start={3}>
          <li>Enter the 6-digit code the app shows for SitePatch.</li>
        </ol>
        <ProblemBar problem={problem} />
        <CodeField value={code} onChange={setCode} error={codeError} style={{ maxWidth: 200 }} />
        <div className={styles.actions}>
          <Button appearance="primary" type="submit" disabled={busy || !isCompleteCode(code)}>Verify and turn on</Button>
          <Button onClick={cancel} disabled={busy}>Cancel</Button>
        </div>
        <Text size={200}>Until you verify a code, two-step verification stays off.</Text>
      </div>
    </form>
  );
}
