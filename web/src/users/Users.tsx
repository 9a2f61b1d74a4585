// Users workspace (administrators): everyone who can sign in, their role, connections and
// two-step verification; add, edit, remove.

import {
  Badge, Link, MessageBar, MessageBarBody, Text, Title3, Toolbar, ToolbarButton, ToolbarDivider, makeStyles, tokens,
} from '@fluentui/react-components';
import { ArrowClockwiseRegular, DeleteRegular, EditRegular, PersonAddRegular, WarningRegular } from '@fluentui/react-icons';
import { useEffect, useState } from 'react';
import { api, type SecuritySettings, type SessionUser, type User } from '../api';
import { ConfirmDialog } from '../shared/ConfirmDialog';
import { connectionNames, useConnections } from '../shared/connections';
import { when } from '../shared/format';
import { DataList, type ListColumn } from '../shared/list/DataList';
import { useList } from '../shared/list/useList';
import { problemOf, type Problem } from '../shared/problems';
import { ROLE_LABELS } from '../shared/roles';
import { UserDialog } from './UserDialog';

const useStyles = makeStyles({
  toolbar: { marginLeft: '-8px', marginBottom: '4px' },
  list: { marginTop: '12px' },
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
  const list = useList<User>({ path: '/api/v1/users' });
  const [selectedId, setSelectedId] = useState<number | null>(null);
  const [dialog, setDialog] = useState<'new' | 'edit' | null>(null);
  const [removing, setRemoving] = useState(false);
  const [notice, setNotice] = useState('');
  const [removeProblem, setRemoveProblem] = useState<Problem | null>(null);
  const [busy, setBusy] = useState(false);

  const [policyRequiresMfa, setPolicyRequiresMfa] = useState(false);
  const selected = list.items?.find((u) => u.id === selectedId) ?? null;

  useEffect(() => {
    api<SecuritySettings>('GET', '/api/v1/settings/security').then((s) => setPolicyRequiresMfa(s.requireMfaForLocalAccounts)).catch(() => undefined);
  }, []);

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
      await list.reload();
    } catch (e) {
      setRemoveProblem(problemOf(e));
    } finally {
      setBusy(false);
    }
  }

  const columns: ListColumn<User>[] = [
    {
      id: 'name', header: 'Name', cell: (u) => <>
        <Link as="button" onClick={(e) => { e.stopPropagation(); edit(u); }}>{u.displayName || u.username}</Link>
        {u.displayName && <><br /><Text size={200}>{u.username}</Text></>}
        {u.id === me.id && <Text size={200}> (you)</Text>}
      </>,
    },
    { id: 'role', header: 'Role', cell: (u) => ROLE_LABELS[u.role] },
    { id: 'source', header: 'Signs in with', cell: (u) => (u.source === 'entra' ? 'Microsoft Entra ID' : 'Password') },
    { id: 'connections', header: 'Connections', cell: (u) => connectionNames(u.connectionIds, connections) },
    { id: 'mfa', header: 'Two-step verification', cell: (u) => <MfaBadge user={u} /> },
    { id: 'signIn', header: 'Sign-in', cell: (u) => (u.disabled ? <Badge color="danger" appearance="tint">Blocked</Badge> : <Badge color="success" appearance="outline">Allowed</Badge>) },
    { id: 'lastSignIn', header: 'Last sign-in', cell: (u) => when(u.lastSignInAt) },
    { id: 'created', header: 'Created', cell: (u) => when(u.createdAt) },
  ];

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
        <ToolbarButton icon={<ArrowClockwiseRegular />} onClick={() => void list.reload()}>Refresh</ToolbarButton>
      </Toolbar>
      <Title3 as="h1">Users</Title3>
      <div><Text size={200}>Who can sign in to SitePatch, with which role, for which connections. Select a user to edit or remove it.</Text></div>
      <div className={styles.banners}>
        {notice && <MessageBar intent="success" role="status"><MessageBarBody>{notice}</MessageBarBody></MessageBar>}
      </div>
      <div className={styles.list}>
        <DataList
          list={list}
          columns={columns}
          label="Users"
          noun={['user', 'users']}
          rowId={(u) => u.id}
          selectedId={selectedId}
          onSelect={(u) => setSelectedId(u.id)}
          onOpen={edit}
          empty="No users yet."
        />
      </div>
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
          void list.reload();
        }}
        onChanged={(user, message) => {
          list.update((users) => users.map((u) => (u.id === user.id ? user : u)));
          setNotice(message);
          void list.reload();
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
