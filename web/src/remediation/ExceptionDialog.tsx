// The form that creates or changes a risk exception: its connection and scope (fixed once it exists:
// another scope is another exception), the justification, owner, expiry and comment. The server
// checks everything; its message for a field shows under that field.

import { Dropdown, Field, Input, Option, Textarea } from '@fluentui/react-components';
import { useEffect, useState } from 'react';
import { api } from '../api';
import type { ConnectionRef } from '../shared/connections';
import { useFacets } from '../shared/exposure';
import { FormDialog } from '../shared/FormDialog';
import { fieldOf, ProblemBar, problemOf, type Problem } from '../shared/problems';
import type { ExceptionItem, ExceptionKind, ExceptionScope, Justification } from './parts';

export const SCOPE_KIND_LABELS: Record<ExceptionKind, string> = {
  finding: 'One finding',
  cve: 'A CVE on every device',
  software: 'A software product (or one version)',
  rbac_group: 'A device group (RBAC group)',
};

export const JUSTIFICATION_LABELS: Record<Justification, string> = {
  third_party_control: 'Third-party control',
  alternate_mitigation: 'Alternate mitigation',
  risk_accepted: 'Risk accepted',
  planned_remediation: 'Planned remediation',
};

type ScopeField = Exclude<keyof ExceptionScope, 'kind'>;
const SCOPE_FIELDS: Record<ExceptionKind, ScopeField[]> = {
  finding: ['deviceId', 'softwareVendor', 'softwareName', 'softwareVersion', 'cveId'],
  cve: ['cveId'],
  software: ['softwareVendor', 'softwareName', 'softwareVersion'],
  rbac_group: ['rbacGroupId'],
};
const FIELD_LABELS: Record<ScopeField, string> = {
  deviceId: 'Defender device ID', cveId: 'CVE ID', softwareVendor: 'Software vendor', softwareName: 'Software name', softwareVersion: 'Software version', rbacGroupId: 'Device group',
};
const FIELD_HINTS: Partial<Record<ExceptionKind, Partial<Record<ScopeField, string>>>> = {
  software: { softwareVersion: 'Leave empty to cover every version of the product.' },
  rbac_group: { rbacGroupId: 'The connection\'s device groups, as Defender names them in its last sync.' },
};
/** The request's field names, for the server's messages (`error.field`). */
const FORM_FIELDS = ['connectionId', 'scope.kind', ...(Object.keys(FIELD_LABELS) as ScopeField[]).map((f) => `scope.${f}`), 'justification', 'owner', 'expiresOn', 'comment'];

/** The risk is accepted for 90 days unless the admin says otherwise: a quarter, then decide again. */
const DEFAULT_DAYS = 90;
const MAX_DAYS = 365;
const utcDay = (daysAhead: number) => new Date(Date.now() + daysAhead * 86_400_000).toISOString().slice(0, 10);

export interface ExceptionDraft {
  connectionId: string;
  scope: Partial<ExceptionScope>;
  /** The connection cannot be changed (a remediation's exception is in the remediation's connection). */
  connectionFixed?: boolean;
}

type ScopeText = Record<ScopeField, string>;
const textOf = (scope: Partial<ExceptionScope>): ScopeText => Object.fromEntries(
  (Object.keys(FIELD_LABELS) as ScopeField[]).map((f) => [f, scope[f] === undefined ? '' : String(scope[f])]),
) as ScopeText;

export function ExceptionDialog({ existing, draft, connections, defaultOwner, onSaved, onClose }: {
  /** The exception to change; without it, a new one from `draft`. */
  existing?: ExceptionItem;
  draft?: ExceptionDraft;
  connections: ConnectionRef[] | null;
  defaultOwner: string;
  onSaved: (saved: ExceptionItem) => void;
  onClose: () => void;
}) {
  const start = existing ?? draft;
  const [connectionId, setConnectionId] = useState(start?.connectionId ?? (connections?.length === 1 ? connections[0].id : ''));
  const [kind, setKind] = useState<ExceptionKind>(start?.scope.kind ?? 'cve');
  const [scope, setScope] = useState<ScopeText>(textOf(start?.scope ?? {}));
  const [justification, setJustification] = useState<Justification | ''>(existing?.justification ?? '');
  const [owner, setOwner] = useState(existing?.owner ?? defaultOwner);
  const [expiresOn, setExpiresOn] = useState(existing?.expiresOn ?? utcDay(DEFAULT_DAYS));
  const [comment, setComment] = useState(existing?.comment ?? '');
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<Problem | null>(null);

  // A message is about what was sent: it goes once the form is changed.
  useEffect(() => setProblem(null), [connectionId, kind, scope, justification, owner, expiresOn, comment]);

  const field = problem ? fieldOf(problem, FORM_FIELDS) : undefined;
  const messageFor = (name: string) => (field === name && problem ? `${problem.fields[name] ?? problem.message}${problem.fix ? ` ${problem.fix}` : ''}` : undefined);
  const fixed = Boolean(existing);

  async function save() {
    // The one choice the form can check itself (the API's schema would only say that a property is missing).
    if (!justification) {
      setProblem({ code: 'invalid_request', message: 'Choose why the risk is accepted.', fields: { justification: 'Choose why the risk is accepted.' } });
      return;
    }
    setBusy(true);
    setProblem(null);
    const editable = { justification, owner, expiresOn, comment: comment.trim() || null };
    try {
      let saved: ExceptionItem;
      if (existing) {
        saved = await api<ExceptionItem>('PATCH', `/api/v1/exceptions/${encodeURIComponent(existing.id)}`, editable);
      } else {
        // Only the fields the kind takes, and only those given: the server names a missing one.
        const given = SCOPE_FIELDS[kind].filter((f) => scope[f].trim() !== '');
        const scopeBody = Object.fromEntries(given.map((f) => [f, f === 'rbacGroupId' ? Number(scope[f]) : scope[f].trim()]));
        saved = await api<ExceptionItem>('POST', '/api/v1/exceptions', { connectionId, scope: { kind, ...scopeBody }, ...editable });
      }
      onSaved(saved);
    } catch (e) {
      setProblem(problemOf(e));
    } finally {
      setBusy(false);
    }
  }

  const connectionName = connections?.find((c) => c.id === connectionId)?.name ?? connectionId;
  // Device groups are chosen by name; the exception keeps Defender's RbacGroupId.
  const facets = useFacets(kind === 'rbac_group' && connectionId ? connectionId : undefined);
  const groups = kind === 'rbac_group' && connectionId ? (facets?.rbacGroups ?? []).filter((g) => g.connectionId === connectionId && g.id !== null) : [];
  const groupLabel = (id: string) => {
    const group = groups.find((g) => String(g.id) === id);
    return group ? `${group.name || '(unnamed)'} (${group.devices.toLocaleString()} devices)` : id && `Group ${id}`;
  };
  return (
    <FormDialog open title={existing ? 'Edit exception' : 'Create exception'} submitLabel={existing ? 'Save' : 'Create exception'} busy={busy} maxWidth={560} onSubmit={() => void save()} onClose={onClose}>
      {field === undefined && <ProblemBar problem={problem} />}
      <Field label="Connection" required validationMessage={messageFor('connectionId')}>
        <Dropdown
          value={connectionName}
          selectedOptions={connectionId ? [connectionId] : []}
          disabled={fixed || draft?.connectionFixed}
          placeholder="Choose the connection"
          onOptionSelect={(_, d) => setConnectionId(d.optionValue ?? '')}
        >
          {(connections ?? []).map((c) => <Option key={c.id} value={c.id}>{c.name}</Option>)}
        </Dropdown>
      </Field>
      <Field label="Applies to" required validationMessage={messageFor('scope.kind')} hint={fixed ? 'The scope stays: another scope is another exception.' : undefined}>
        <Dropdown value={SCOPE_KIND_LABELS[kind]} selectedOptions={[kind]} disabled={fixed} onOptionSelect={(_, d) => d.optionValue && setKind(d.optionValue as ExceptionKind)}>
          {(Object.keys(SCOPE_KIND_LABELS) as ExceptionKind[]).map((k) => <Option key={k} value={k}>{SCOPE_KIND_LABELS[k]}</Option>)}
        </Dropdown>
      </Field>
      {SCOPE_FIELDS[kind].map((f) => (
        <Field
          key={f}
          label={FIELD_LABELS[f]}
          required={!(kind === 'software' && f === 'softwareVersion')}
          hint={FIELD_HINTS[kind]?.[f]}
          validationMessage={messageFor(`scope.${f}`)}
        >
          {f === 'rbacGroupId' ? (
            <Dropdown
              value={groupLabel(scope[f])}
              selectedOptions={scope[f] ? [scope[f]] : []}
              disabled={fixed || !connectionId}
              placeholder={!connectionId ? 'Choose the connection first' : groups.length ? 'Choose the device group' : 'No device group synced yet'}
              onOptionSelect={(_, d) => setScope((s) => ({ ...s, rbacGroupId: d.optionValue ?? '' }))}
            >
              {groups.map((g) => <Option key={g.id} value={String(g.id)}>{groupLabel(String(g.id))}</Option>)}
            </Dropdown>
          ) : (
            <Input value={scope[f]} disabled={fixed} maxLength={300} onChange={(_, d) => setScope((s) => ({ ...s, [f]: d.value }))} />
          )}
        </Field>
      ))}
      <Field label="Justification" required validationMessage={messageFor('justification')}>
        <Dropdown
          value={justification ? JUSTIFICATION_LABELS[justification] : ''}
          placeholder="Why the risk is accepted"
          selectedOptions={justification ? [justification] : []}
          onOptionSelect={(_, d) => setJustification((d.optionValue ?? '') as Justification | '')}
        >
          {(Object.keys(JUSTIFICATION_LABELS) as Justification[]).map((j) => <Option key={j} value={j}>{JUSTIFICATION_LABELS[j]}</Option>)}
        </Dropdown>
      </Field>
      <Field label="Owner" required hint="Who answers for the accepted risk." validationMessage={messageFor('owner')}>
        <Input value={owner} maxLength={200} onChange={(_, d) => setOwner(d.value)} />
      </Field>
      <Field label="Expires after" required hint={`The last day it applies (UTC), at most ${MAX_DAYS} days ahead; renew it then if the risk is still accepted.`} validationMessage={messageFor('expiresOn')}>
        <Input type="date" value={expiresOn} onChange={(_, d) => setExpiresOn(d.value)} />
      </Field>
      <Field label="Comment" hint="The control, the mitigation or the plan." validationMessage={messageFor('comment')}>
        <Textarea value={comment} maxLength={2000} resize="vertical" onChange={(_, d) => setComment(d.value)} />
      </Field>
    </FormDialog>
  );
}
