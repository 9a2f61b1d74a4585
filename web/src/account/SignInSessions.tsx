// Where I'm signed in: one row per session, each can be signed out; or sign out everywhere.

import { Badge, Button, Table, TableBody, TableCell, TableHeader, TableHeaderCell, TableRow, Text } from '@fluentui/react-components';
import { SignOutRegular } from '@fluentui/react-icons';
import { useCallback, useEffect, useState } from 'react';
import { api, type List, type SignInSession } from '../api';
import { ConfirmDialog } from '../shared/ConfirmDialog';
import { browserOf, when } from '../shared/format';
import { ProblemBar, problemOf, type Problem } from '../shared/problems';
import { Section } from '../shared/Section';

export function SignInSessions({ version, onSignedOut }: { version: number; onSignedOut: () => void }) {
  const [sessions, setSessions] = useState<SignInSession[] | null>(null);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [confirmAll, setConfirmAll] = useState(false);
  const [busy, setBusy] = useState(false);

  const refresh = useCallback(async () => {
    try {
      const list = await api<List<SignInSession>>('GET', '/api/v1/auth/sessions');
      setSessions(list.items);
    } catch (e) {
      setProblem(problemOf(e));
    }
  }, []);
  useEffect(() => { void refresh(); }, [refresh, version]);

  async function end(session: SignInSession) {
    setBusy(true);
    setProblem(null);
    try {
      await api('DELETE', `/api/v1/auth/sessions/${encodeURIComponent(String(session.id))}`);
      if (session.current) onSignedOut();
      else await refresh();
    } catch (e) {
      setProblem(problemOf(e));
    } finally {
      setBusy(false);
    }
  }

  async function endAll() {
    setBusy(true);
    setProblem(null);
    try {
      await api('POST', '/api/v1/auth/sessions/end-all');
      onSignedOut();
    } catch (e) {
      setProblem(problemOf(e));
      setBusy(false);
      setConfirmAll(false);
    }
  }

  return (
    <Section
      title="Sessions"
      description="The browsers and devices signed in as you. Sign out one you don't recognise, then change your password."
      commands={<Button icon={<SignOutRegular />} onClick={() => setConfirmAll(true)} disabled={busy}>Sign out everywhere</Button>}
    >
      <ProblemBar problem={problem} />
      {sessions && (
        <Table size="small" aria-label="Sessions">
          <TableHeader>
            <TableRow>
              <TableHeaderCell>Browser</TableHeaderCell><TableHeaderCell>Address</TableHeaderCell><TableHeaderCell>Signed in</TableHeaderCell>
              <TableHeaderCell>Last active</TableHeaderCell><TableHeaderCell>Expires</TableHeaderCell><TableHeaderCell aria-label="Actions" />
            </TableRow>
          </TableHeader>
          <TableBody>
            {sessions.map((s) => (
              <TableRow key={s.id}>
                <TableCell title={s.userAgent ?? ''}>
                  {browserOf(s.userAgent)} {s.current && <Badge appearance="tint" color="success">This browser</Badge>}
                </TableCell>
                <TableCell>{s.address ?? 'Unknown'}</TableCell>
                <TableCell>{when(s.createdAt)}</TableCell>
                <TableCell>{when(s.lastSeenAt)}</TableCell>
                <TableCell>{when(s.expiresAt)}</TableCell>
                <TableCell><Button size="small" onClick={() => end(s)} disabled={busy}>Sign out</Button></TableCell>
              </TableRow>
            ))}
          </TableBody>
        </Table>
      )}
      {sessions?.length === 0 && <Text>No sessions.</Text>}
      <ConfirmDialog
        open={confirmAll}
        title="Sign out everywhere?"
        confirmLabel="Sign out everywhere"
        busy={busy}
        onConfirm={endAll}
        onCancel={() => setConfirmAll(false)}
      >
        Every session signed in as you ends, this one too: you'll sign in again on this page.
      </ConfirmDialog>
    </Section>
  );
}
