// Add a local user, or edit a user's role, connections, sign-in and two-step verification; for
// another user's local account, also set a new password or reset two-step verification.

import { Field, Input, MessageBar, MessageBarBody, Switch, Text } from '@fluentui/react-components';
import { useEffect, useState } from 'react';
import { api, type Role, type User } from '../api';
import { ConnectionsPicker, type ConnectionRef } from '../shared/connections';
import { FormDialog } from '../shared/FormDialog';
import { PASSWORD_RULE } from '../shared/passwords';
import { fieldOf, ProblemBar, problemOf, type Problem } from '../shared/problems';
import { RoleDropdown } from '../shared/roles';
import { AccountRecovery } from './AccountRecovery';

interface Form {
  username: string;
  password: string;
  role: Role;
  connectionIds: string[] | null;
  requireMfa: boolean;
  disabled: boolean;
}

function formOf(user: User | null): Form {
  return user
    ? { username: user.username, password: '', role: user.role, connectionIds: user.connectionIds, requireMfa: user.mfa.required, disabled: user.disabled }
    : { username: '', password: '', role: 'analyst', connectionIds: null, requireMfa: false, disabled: false };
}

/**
 * `user` null: a new local user. `isMe`: editing my own account (no self-demotion or blocking).
 * `policyRequiresMfa`: Security settings require two-step verification of every local account, so
 * the per-user switch is on and can't be turned off here (a user's `mfa.required` is the effective one).
 * `onChanged`: a change that took effect at once (a new password, a reset of two-step verification),
 * with what to tell the administrator; the dialog stays open and keeps what was typed in it.
 */
export function UserDialog({ open, user, isMe, connections, policyRequiresMfa, onClose, onSaved, onChanged }: {
  open: boolean;
  user: User | null;
  isMe: boolean;
  connections: ConnectionRef[] | null;
  policyRequiresMfa: boolean;
  onClose: () => void;
  onSaved: (user: User, created: boolean) => void;
  onChanged: (user: User, message: string) => void;
}) {
  const [form, setForm] = useState<Form>(formOf(user));
  const [problem, setProblem] = useState<Problem | null>(null);
  const [fields, setFields] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);
  /** What took effect at once (see `onChanged`), shown until the dialog closes. */
  const [notice, setNotice] = useState('');

  // A fresh form when the dialog opens or turns to another user, not when the same user's account
  // changes under it (a password or two-step verification reset keeps the unsaved edits).
  const userId = user?.id;
  useEffect(() => {
    if (!open) return;
    setForm(formOf(user));
    setProblem(null);
    setFields({});
    setNotice('');
  }, [open, userId]);

  const set = <K extends keyof Form>(key: K) => (value: Form[K]) => setForm((f) => ({ ...f, [key]: value }));

  async function submit() {
    setProblem(null);
    setFields({});
    if (form.connectionIds !== null && form.connectionIds.length === 0) {
      setFields({ connectionIds: 'Choose at least one connection, or All connections.' });
      return;
    }
    setBusy(true);
    try {
      if (user) {
        const changes: Record<string, unknown> = {};
        if (form.role !== user.role) changes.role = form.role;
        if (JSON.stringify(form.connectionIds) !== JSON.stringify(user.connectionIds)) changes.connectionIds = form.connectionIds;
        if (form.disabled !== user.disabled) changes.disabled = form.disabled;
        if (!policyRequiresMfa && form.requireMfa !== user.mfa.required) changes.requireMfa = form.requireMfa;
        // Nothing to save after a change that took effect at once: keep its notice on the page.
        if (!Object.keys(changes).length && notice) onClose();
        else onSaved(Object.keys(changes).length ? await api<User>('PATCH', `/api/v1/users/${user.id}`, changes) : user, false);
      } else {
        const saved = await api<User>('POST', '/api/v1/users', {
          username: form.username.trim(), password: form.password, role: form.role, connectionIds: form.connectionIds, requireMfa: form.requireMfa,
        });
        onSaved(saved, true);
      }
    } catch (e) {
      const p = problemOf(e);
      // The server names the field, or its message does ("The password must…"); an existing account is the username's problem.
      const field = Object.keys(p.fields).length ? undefined
        : !user && p.code === 'conflict' ? 'username'
          : fieldOf(p, user ? ['connectionIds', 'role', 'requireMfa'] : ['password', 'username', 'connectionIds', 'role']);
      if (Object.keys(p.fields).length) setFields(p.fields);
      else if (field) setFields({ [field]: p.message });
      else setProblem(p);
    } finally {
      setBusy(false);
    }
  }

  const entra = user?.source === 'entra';
  return (
    <FormDialog
      open={open}
      title={user ? `Edit ${user.displayName || user.username}` : 'New user'}
      submitLabel={user ? 'Save' : 'Create'}
      cancelLabel={notice ? 'Close' : 'Cancel'}
      busy={busy}
      submitDisabled={!user && (!form.username.trim() || !form.password)}
      maxWidth={560}
      gap={14}
      onSubmit={submit}
      onClose={onClose}
    >
      <ProblemBar problem={problem} />
      {notice && <MessageBar intent="success" role="status"><MessageBarBody>{notice}</MessageBarBody></MessageBar>}
      {user ? (
        <Text>
          <b>{user.username}</b>{user.displayName ? ` (${user.displayName})` : ''} · {entra ? 'signs in with Microsoft Entra ID' : 'local account'}
        </Text>
      ) : (
        <>
          <Field label="Username" required validationMessage={fields.username}>
            <Input value={form.username} onChange={(_, d) => set('username')(d.value)} autoComplete="off" maxLength={64} />
          </Field>
          <Field label="Password" required hint={`${PASSWORD_RULE} Give it to the user; they can change it under My account.`} validationMessage={fields.password}>
            <Input type="password" value={form.password} onChange={(_, d) => set('password')(d.value)} autoComplete="new-password" />
          </Field>
        </>
      )}
      <Field label="Role" validationMessage={fields.role} hint={isMe ? 'You can\'t change your own role: another administrator can.' : undefined}>
        <RoleDropdown value={form.role} onChange={set('role')} disabled={isMe} />
      </Field>
      <ConnectionsPicker
        label="Connections"
        hint="The Defender tenants this user sees and works on."
        value={form.connectionIds}
        onChange={set('connectionIds')}
        connections={connections}
        validationMessage={fields.connectionIds}
      />
      <Field
        validationMessage={fields.requireMfa}
        hint={entra ? 'Microsoft Entra ID asks for the second factor when this user signs in with Microsoft (Conditional Access).'
          : policyRequiresMfa ? 'Security settings require it for every local account.'
            : 'Without an authenticator app set up, the user must set one up at the next sign-in.'}
      >
        <Switch
          label="Require two-step verification"
          checked={!entra && (form.requireMfa || policyRequiresMfa)}
          onChange={(_, d) => set('requireMfa')(d.checked)}
          disabled={entra || policyRequiresMfa}
        />
      </Field>
      {user && (
        <Field validationMessage={fields.disabled} hint={isMe ? 'You can\'t block your own sign-in.' : 'While blocked, the user can\'t sign in.'}>
          <Switch label="Block sign-in" checked={form.disabled} onChange={(_, d) => set('disabled')(d.checked)} disabled={isMe} />
        </Field>
      )}
      {user && !entra && !isMe && (
        <AccountRecovery user={user} onChanged={(saved, message) => { setNotice(message); onChanged(saved, message); }} />
      )}
      {user && !entra && isMe && <Text size={200}>Change your own password and two-step verification under My account.</Text>}
      {entra && <Text size={200}>Microsoft Entra ID keeps this account's password and sign-in methods: reset them there.</Text>}
    </FormDialog>
  );
}
