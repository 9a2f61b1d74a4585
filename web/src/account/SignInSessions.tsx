// Where I'm signed in: one row per session, each can be signed out; or sign out everywhere.

import { Badge, Button } from '@fluentui/react-components';
import { SignOutRegular } from '@fluentui/react-icons';
import { useState } from 'react';
import { api, type SignInSession } from '../api';
import { ConfirmDialog } from '../shared/ConfirmDialog';
import { browserOf, when } from '../shared/format';
import { DataList, type ListColumn } from '../shared/list/DataList';
import { useList } from '../shared/list/useList';
import { ProblemBar, problemOf, type Problem } from '../shared/problems';
import { Section } from '../shared/Section';

export function SignInSessions({ version, onSignedOut }: { version: number; onSignedOut: () => void }) {
  // A password change ends the other sessions: `version` then counts up.
  const list = useList<SignInSession>({ path: '/api/v1/auth/sessions', reloadOn: version });
  const [problem, setProblem] = useState<Problem | null>(null);
  const [confirmAll, setConfirmAll] = useState(false);
  const [busy, setBusy] = useState(false);

  async function end(session: SignInSession) {
    setBusy(true);
    setProblem(null);
    try {
      await api('DELETE', `/api/v1/auth/sessions/${encodeURIComponent(String(session.id))}`);
      if (session.current) onSignedOut();
      else await list.reload();
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

  const columns: ListColumn<SignInSession>[] = [
    {
      id: 'browser', header: 'Browser',
      cell: (s) => <span title={s.userAgent ?? ''}>{browserOf(s.userAgent)} {s.current && <Badge appearance="tint" color="success">This browser</Badge>}</span>,
    },
    { id: 'address', header: 'Address', cell: (s) => s.address ?? 'Unknown' },
    { id: 'signedIn', header: 'Signed in', cell: (s) => when(s.createdAt) },
    { id: 'lastActive', header: 'Last active', cell: (s) => when(s.lastSeenAt) },
    { id: 'expires', header: 'Expires', cell: (s) => when(s.expiresAt) },
    { id: 'actions', header: 'Actions', headerHidden: true, cell: (s) => <Button size="small" onClick={() => end(s)} disabled={busy}>Sign out</Button> },
  ];

  return (
    <Section
      title="Sessions"
      description="The browsers and devices signed in as you. Sign out one you don't recognise, then change your password."
      commands={<Button icon={<SignOutRegular />} onClick={() => setConfirmAll(true)} disabled={busy}>Sign out everywhere</Button>}
    >
      <ProblemBar problem={problem} />
      <DataList list={list} columns={columns} label="Sessions" noun={['session', 'sessions']} rowId={(s) => s.id} empty="No sessions." />
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
