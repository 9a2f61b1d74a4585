// My API tokens: create one (shown once), see when each was last used and expires, revoke.
// Administrators can also list everyone's.

import { Badge, Button, Dropdown, Field, Input, MessageBar, MessageBarBody, MessageBarTitle, Option, Switch, Text } from '@fluentui/react-components';
import { AddRegular, DeleteRegular } from '@fluentui/react-icons';
import { useEffect, useState } from 'react';
import { api, type ApiToken, type Role, type SessionUser } from '../api';
import { ConfirmDialog } from '../shared/ConfirmDialog';
import { connectionNames, ConnectionsPicker, type ConnectionRef } from '../shared/connections';
import { CopyField } from '../shared/CopyField';
import { day, when } from '../shared/format';
import { FormDialog } from '../shared/FormDialog';
import { DataList, type ListColumn } from '../shared/list/DataList';
import { useList } from '../shared/list/useList';
import { fieldOf, ProblemBar, problemOf, type Problem } from '../shared/problems';
import { ROLE_LABELS, RoleDropdown, rolesUpTo } from '../shared/roles';
import { Section } from '../shared/Section';

const EXPIRY_DAYS = [7, 30, 90, 180, 365];

function NewTokenDialog({ open, me, connections, onClose, onCreated }: {
  open: boolean;
  me: SessionUser;
  connections: ConnectionRef[] | null;
  onClose: () => void;
  onCreated: (token: ApiToken & { token: string }) => void;
}) {
  const [name, setName] = useState('');
  const [days, setDays] = useState(90);
  const [role, setRole] = useState<Role>(me.role);
  const [scope, setScope] = useState<string[] | null>(me.connectionIds);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [fields, setFields] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    if (!open) return;
    setName('');
    setDays(90);
    setRole(me.role);
    setScope(me.connectionIds);
    setProblem(null);
    setFields({});
  }, [open, me]);

  async function submit() {
    setProblem(null);
    setFields({});
    if (scope !== null && scope.length === 0) {
      setFields({ connectionIds: 'Choose at least one connection, or All connections.' });
      return;
    }
    setBusy(true);
    try {
      onCreated(await api<ApiToken & { token: string }>('POST', '/api/v1/tokens', { name: name.trim(), expiresInDays: days, role, connectionIds: scope }));
    } catch (e) {
      const p = problemOf(e);
      const field = fieldOf(p, ['connectionIds', 'expiresInDays', 'role', 'name']);
      if (Object.keys(p.fields).length) setFields(p.fields);
      else if (field) setFields({ [field]: p.message });
      else setProblem(p);
    } finally {
      setBusy(false);
    }
  }

  const expiresOn = new Date(Date.now() + days * 86_400_000);
  return (
    <FormDialog
      open={open}
      title="New API token"
      submitLabel="Create"
      busy={busy}
      submitDisabled={!name.trim()}
      onSubmit={submit}
      onClose={onClose}
    >
      <ProblemBar problem={problem} />
      <Field label="Name" required hint="What uses it, e.g. “Nightly report script”." validationMessage={fields.name}>
        <Input value={name} onChange={(_, d) => setName(d.value)} maxLength={100} />
      </Field>
      <Field label="Expires" hint={`On ${expiresOn.toLocaleDateString(undefined, { dateStyle: 'medium' })}.`} validationMessage={fields.expiresInDays}>
        <Dropdown
          value={`${days} days${days === 90 ? ' (recommended)' : ''}`}
          selectedOptions={[String(days)]}
          onOptionSelect={(_, d) => d.optionValue && setDays(Number(d.optionValue))}
        >
          {EXPIRY_DAYS.map((n) => <Option key={n} value={String(n)}>{`${n} days${n === 90 ? ' (recommended)' : ''}`}</Option>)}
        </Dropdown>
      </Field>
      <Field label="Role" hint="What the token may do: at most what your own role may." validationMessage={fields.role}>
        <RoleDropdown value={role} onChange={setRole} allowed={rolesUpTo(me.role)} />
      </Field>
      <ConnectionsPicker
        label="Connections"
        value={scope}
        onChange={setScope}
        connections={connections}
        allowAll={me.connectionIds === null}
        validationMessage={fields.connectionIds}
      />
    </FormDialog>
  );
}

export function ApiTokens({ me, connections }: { me: SessionUser; connections: ConnectionRef[] | null }) {
  const list = useList<ApiToken>({ path: '/api/v1/tokens' });
  const [everyone, setEveryone] = useState(false);
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<(ApiToken & { token: string }) | null>(null);
  const [revoking, setRevoking] = useState<ApiToken | null>(null);
  const [revokeProblem, setRevokeProblem] = useState<Problem | null>(null);
  const [busy, setBusy] = useState(false);

  async function revoke() {
    if (!revoking) return;
    setBusy(true);
    setRevokeProblem(null);
    try {
      await api('DELETE', `/api/v1/tokens/${encodeURIComponent(String(revoking.id))}`);
      if (created && created.id === revoking.id) setCreated(null);
      setRevoking(null);
      await list.reload();
    } catch (e) {
      setRevokeProblem(problemOf(e));
    } finally {
      setBusy(false);
    }
  }

  // Administrators are sent everyone's tokens; they see only their own unless they ask.
  const shown = (list.items ?? []).filter((t) => everyone || t.username === me.username);
  const expired = (t: ApiToken) => Date.parse(t.expiresAt) < Date.now();
  const columns: ListColumn<ApiToken>[] = [
    { id: 'name', header: 'Name', cell: (t) => t.name },
    ...(everyone ? [{ id: 'user', header: 'User', cell: (t: ApiToken) => t.username }] : []),
    { id: 'role', header: 'Role', cell: (t) => ROLE_LABELS[t.role] },
    { id: 'connections', header: 'Connections', cell: (t) => connectionNames(t.connectionIds, connections) },
    { id: 'created', header: 'Created', cell: (t) => day(t.createdAt) },
    { id: 'expires', header: 'Expires', cell: (t) => <>{day(t.expiresAt)} {expired(t) && <Badge color="danger" appearance="tint">Expired</Badge>}</> },
    { id: 'lastUsed', header: 'Last used', cell: (t) => when(t.lastUsedAt) },
    {
      id: 'actions', header: 'Actions', headerHidden: true,
      cell: (t) => <Button size="small" icon={<DeleteRegular />} onClick={() => { setRevokeProblem(null); setRevoking(t); }}>Revoke</Button>,
    },
  ];
  return (
    <Section
      title="API tokens"
      description={<>For scripts and integrations: send a token as <code>Authorization: Bearer &lt;token&gt;</code>. It acts with its own role and connections.</>}
      commands={<>
        <Button appearance="primary" icon={<AddRegular />} onClick={() => { setCreated(null); setCreating(true); }}>New token</Button>
        {me.role === 'admin' && <Switch label="Show everyone's tokens" checked={everyone} onChange={(_, d) => setEveryone(d.checked)} />}
      </>}
    >
      {created && (
        <MessageBar intent="warning" layout="multiline" data-testid="new-token">
          <MessageBarBody style={{ display: 'flex', flexDirection: 'column', gap: 8, width: '100%' }}>
            <MessageBarTitle>Copy the token "{created.name}" now. You won't see it again.</MessageBarTitle>
            <Text>SitePatch doesn't show a token after this. If you lose it, revoke it and create a new one.</Text>
            <CopyField value={created.token} label="New API token" testId="new-token-value" />
          </MessageBarBody>
        </MessageBar>
      )}
      <DataList list={list} rows={shown} columns={columns} label="API tokens" noun={['token', 'tokens']} rowId={(t) => t.id} empty="No tokens yet." />
      <NewTokenDialog
        open={creating}
        me={me}
        connections={connections}
        onClose={() => setCreating(false)}
        onCreated={(token) => { setCreating(false); setCreated(token); void list.reload(); }}
      />
      <ConfirmDialog
        open={revoking !== null}
        title={`Revoke "${revoking?.name ?? ''}"?`}
        confirmLabel="Revoke"
        busy={busy}
        problem={revokeProblem}
        onConfirm={revoke}
        onCancel={() => setRevoking(null)}
      >
        Whatever uses this token stops working at once{revoking && revoking.username !== me.username ? ` (it belongs to ${revoking.username})` : ''}.
      </ConfirmDialog>
    </Section>
  );
}
