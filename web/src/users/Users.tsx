// Users workspace (administrators): everyone who can sign in, their role, connections and
// two-step verification; add, edit, remove.

import {
  Badge, Link, MessageBar, MessageBarBody, Table, TableBody, TableCell, TableHeader, TableHeaderCell, TableRow, Text, Title3, Toolbar,
  ToolbarButton, ToolbarDivider, makeStyles, tokens,
} from '@fluentui/react-components';
import { ArrowClockwiseRegular, DeleteRegular, EditRegular, PersonAddRegular, WarningRegular } from '@fluentui/react-icons';
import { useCallback, useEffect, useState } from 'react';
import { api, type List, type SecuritySettings, type SessionUser, type User } from '../api';
import { ConfirmDialog } from '../shared/ConfirmDialog';
import { connectionNames, useConnections } from '../shared/connections';
import { when } from '../shared/format';
import { ProblemBar, problemOf, type Problem } from '../shared/problems';
import { ROLE_LABELS } from '../shared/roles';
import { UserDialog } from './UserDialog';

const useStyles = makeStyles({
  toolbar: { marginLeft: '-8px', marginBottom: '4px' },
  table: { marginTop: '12px', backgroundColor: tokens.colorNeutralBackground1 },
  row: { cursor: 'pointer' },
  selected: { backgroundColor: tokens.colorNeutralBackground1Selected },
  banners: { display: 'flex', flexDirection: 'column', gap: '8px', marginTop: '8px' },
  warning: { color: tokens.colorPaletteDarkOrangeForeground1, display: 'inline-flex', gap: '4px', alignItems: 'center' },
});

function MfaBadge({ user }: { user: User }) {
  const styles = useStyles();
  if (user.source === 'entra') return <Text size={200}>Microsoft Entra ID</Text>;
  if (user.mfa.enrolled) return <Badge color="success" appearance="tint">On</Badge>;
  if (user.mfa.required) return <Text className={styles.warning}><WarningRegular /> Required, not set up</Text>;
  return <Badge color="informative" appearance="outline">Off</Badge>;
}

export function Users({ me }: { me: SessionUser }) {
  const styles = useStyles();
  const connections = useConnections();
  const [users, setUsers] = useState<User[] | null>(null);
  const [selectedId, setSelectedId] = useState<number | null>(null);
  const [dialog, setDialog] = useState<'new' | 'edit' | null>(null);
  const [removing, setRemoving] = useState(false);
  const [notice, setNotice] = useState('');
  const [problem, setProblem] = useState<Problem | null>(null);
  const [removeProblem, setRemoveProblem] = useState<Problem | null>(null);
  const [busy, setBusy] = useState(false);

  const [policyRequiresMfa, setPolicyRequiresMfa] = useState(false);
  const selected = users?.find((u) => u.id === selectedId) ?? null;

  useEffect(() => {
    api<SecuritySettings>('GET', '/api/v1/settings/security').then((s) => setPolicyRequiresMfa(s.requireMfaForLocalAccounts)).catch(() => undefined);
  }, []);

  const refresh = useCallback(async () => {
    try {
      const list = await api<List<User>>('GET', '/api/v1/users');
      setUsers(list.items);
      setProblem(null);
    } catch (e) {
      setProblem(problemOf(e));
    }
  }, []);
  useEffect(() => { void refresh(); }, [refresh]);

  function edit(user: User) {
    setSelectedId(user.id);
    setNotice('');
    setDialog('edit');
  }

  async function remove() {
    if (!selected) return;
    setBusy(true);
    setRemoveProblem(null);
    try {
      await api('DELETE', `/api/v1/users/${selected.id}`);
      setRemoving(false);
      setNotice(`Removed ${selected.username}.`);
      setSelectedId(null);
      await refresh();
    } catch (e) {
      setRemoveProblem(problemOf(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <>
      <Toolbar aria-label="Users actions" className={styles.toolbar}>
        <ToolbarButton appearance="primary" icon={<PersonAddRegular />} onClick={() => { setNotice(''); setDialog('new'); }}>New user</ToolbarButton>
        <ToolbarDivider />
        <ToolbarButton icon={<EditRegular />} disabled={!selected} onClick={() => selected && edit(selected)}>Edit</ToolbarButton>
        <ToolbarButton
          icon={<DeleteRegular />}
          disabled={!selected || selected.id === me.id}
          title={selected?.id === me.id ? 'You can\'t remove your own account.' : undefined}
          onClick={() => { setRemoveProblem(null); setRemoving(true); }}
        >Remove</ToolbarButton>
        <ToolbarButton icon={<ArrowClockwiseRegular />} onClick={refresh}>Refresh</ToolbarButton>
      </Toolbar>
      <Title3 as="h1">Users</Title3>
      <div><Text size={200}>Who can sign in to SitePatch, with which role, for which connections. Select a user to edit or remove it.</Text></div>
      <div className={styles.banners}>
        <ProblemBar problem={problem} />
        {notice && <MessageBar intent="success" role="status"><MessageBarBody>{notice}</MessageBarBody></MessageBar>}
      </div>
      {users && (
        <Table size="small" aria-label="Users" className={styles.table}>
          <TableHeader>
            <TableRow>
              <TableHeaderCell>Name</TableHeaderCell><TableHeaderCell>Role</TableHeaderCell><TableHeaderCell>Signs in with</TableHeaderCell>
              <TableHeaderCell>Connections</TableHeaderCell><TableHeaderCell>Two-step verification</TableHeaderCell>
              <TableHeaderCell>Sign-in</TableHeaderCell><TableHeaderCell>Last sign-in</TableHeaderCell><TableHeaderCell>Created</TableHeaderCell>
            </TableRow>
          </TableHeader>
          <TableBody>
            {users.map((u) => (
              <TableRow
                key={u.id}
                className={`${styles.row} ${u.id === selectedId ? styles.selected : ''}`}
                onClick={() => setSelectedId(u.id)}
                onDoubleClick={() => edit(u)}
                aria-selected={u.id === selectedId}
              >
                <TableCell>
                  <Link as="button" onClick={(e) => { e.stopPropagation(); edit(u); }}>{u.displayName || u.username}</Link>
                  {u.displayName && <><br /><Text size={200}>{u.username}</Text></>}
                  {u.id === me.id && <Text size={200}> (you)</Text>}
                </TableCell>
                <TableCell>{ROLE_LABELS[u.role]}</TableCell>
                <TableCell>{u.source === 'entra' ? 'Microsoft Entra ID' : 'Password'}</TableCell>
                <TableCell>{connectionNames(u.connectionIds, connections)}</TableCell>
                <TableCell><MfaBadge user={u} /></TableCell>
                <TableCell>{u.disabled ? <Badge color="danger" appearance="tint">Blocked</Badge> : <Badge color="success" appearance="outline">Allowed</Badge>}</TableCell>
                <TableCell>{when(u.lastSignInAt)}</TableCell>
                <TableCell>{when(u.createdAt)}</TableCell>
              </TableRow>
            ))}
          </TableBody>
        </Table>
      )}
      <UserDialog
        open={dialog !== null}
        user={dialog === 'edit' ? selected : null}
        isMe={dialog === 'edit' && selected?.id === me.id}
        connections={connections}
        policyRequiresMfa={policyRequiresMfa}
        onClose={() => setDialog(null)}
        onSaved={(user, created) => {
          setDialog(null);
          setSelectedId(user.id);
          setNotice(created ? `Created ${user.username}. Give them the password; they sign in and can change it under My account.` : `Saved ${user.username}.`);
          void refresh();
        }}
        onChanged={(user, message) => {
          setUsers((list) => list?.map((u) => (u.id === user.id ? user : u)) ?? list);
          setNotice(message);
          void refresh();
        }}
      />
      <ConfirmDialog
        open={removing}
        title={`Remove ${selected?.username ?? ''}?`}
        confirmLabel="Remove"
        busy={busy}
        problem={removeProblem}
        onConfirm={remove}
        onCancel={() => setRemoving(false)}
      >
        {selected?.username} can no longer sign in or use their API tokens. The audit log keeps what they did.
      </ConfirmDialog>
    </>
  );
}
