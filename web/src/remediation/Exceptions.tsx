// Exceptions: the accepted risks, soonest expiry first, active or expired, with what each covers
// and how many open findings that is now. Operators and administrators create, change and remove
// them; analysts read them. Filters and page are in the address.

import { Badge, Button, MessageBar, MessageBarBody, Text, ToolbarButton, makeStyles } from '@fluentui/react-components';
import { AddRegular, ArrowClockwiseRegular, DeleteRegular, EditRegular } from '@fluentui/react-icons';
import { useState } from 'react';
import { api } from '../api';
import { useConnections, type ConnectionRef } from '../shared/connections';
import { ConfirmDialog } from '../shared/ConfirmDialog';
import { ConsoleLink, NoData, links, useFacets } from '../shared/exposure';
import { calendarDay, when } from '../shared/format';
import { DataList, type ListColumn } from '../shared/list/DataList';
import { ChoiceFilter, ConnectionFilter, FilterBar } from '../shared/list/filters';
import { useApiList } from '../shared/list/useApiList';
import { Page } from '../shared/Page';
import { problemOf, type Problem } from '../shared/problems';
import { ExceptionDialog, JUSTIFICATION_LABELS, SCOPE_KIND_LABELS } from './ExceptionDialog';
import { daysFromToday, productLabel, softwareIdOf, type ExceptionItem, type ExceptionKind } from './parts';

const useStyles = makeStyles({
  scope: { display: 'flex', flexDirection: 'column', gap: '2px', minWidth: '220px' },
  actions: { display: 'flex', gap: '4px', justifyContent: 'flex-end' },
});

const SHORT_KIND: Record<ExceptionKind, string> = { finding: 'Finding', cve: 'CVE', software: 'Software', rbac_group: 'Device group' };

/** What an exception covers, linked to the pages of its CVE, software and device; a device group by its name (`groupName`). */
function ScopeSummary({ exception, groupName }: { exception: ExceptionItem; groupName: (connectionId: string, id: number) => string | undefined }) {
  const styles = useStyles();
  const { scope, connectionId } = exception;
  const software = scope.softwareVendor && scope.softwareName
    ? <ConsoleLink to={links.software(softwareIdOf(`${scope.softwareVendor}/${scope.softwareName}`), connectionId, scope.softwareVersion)}>
      {productLabel(`${scope.softwareVendor}/${scope.softwareName}`)}{scope.softwareVersion ? ` ${scope.softwareVersion}` : ' (every version)'}
    </ConsoleLink>
    : null;
  const cve = scope.cveId ? <ConsoleLink to={links.vulnerability(scope.cveId, connectionId)}>{scope.cveId}</ConsoleLink> : null;
  return (
    <span className={styles.scope}>
      <Text size={200} weight="semibold">{SHORT_KIND[scope.kind]}</Text>
      {scope.kind === 'finding' && <>
        {scope.deviceId && <ConsoleLink to={links.device(scope.deviceId, connectionId)}>Device {scope.deviceId}</ConsoleLink>}
        {software}{cve}
      </>}
      {scope.kind === 'cve' && cve}
      {scope.kind === 'software' && software}
      {scope.kind === 'rbac_group' && <Text>{groupName(connectionId, scope.rbacGroupId!) ?? `RBAC group ${scope.rbacGroupId}`}</Text>}
    </span>
  );
}

function ExpiryCell({ exception }: { exception: ExceptionItem }) {
  return (
    <span>
      {calendarDay(exception.expiresOn)}<br />
      <Text size={200}>{exception.status === 'expired' ? 'Expired' : `Ends ${daysFromToday(exception.expiresOn)}`}</Text>
    </span>
  );
}

export function Exceptions({ canEdit, defaultOwner }: { canEdit: boolean; defaultOwner: string }) {
  const styles = useStyles();
  const connections = useConnections();
  const list = useApiList({ path: '/api/v1/exceptions', filters: ['connectionId', 'status', 'kind'], pageSize: 50 });
  const facets = useFacets(undefined);
  const groupName = (connectionId: string, id: number) => facets?.rbacGroups.find((g) => g.connectionId === connectionId && g.id === id)?.name;
  /** The dialog open: a new exception (null) or one to change. */
  const [editing, setEditing] = useState<ExceptionItem | null | undefined>(undefined);
  const [removing, setRemoving] = useState<ExceptionItem | null>(null);
  const [removeProblem, setRemoveProblem] = useState<Problem | null>(null);
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState('');

  async function remove(exception: ExceptionItem) {
    setBusy(true);
    try {
      await api('DELETE', `/api/v1/exceptions/${encodeURIComponent(exception.id)}`);
      setRemoving(null);
      setNotice('The exception was removed: its findings count again.');
      list.update((items) => items.filter((e) => e.id !== exception.id));
      void list.reload();
    } catch (e) {
      setRemoveProblem(problemOf(e));
    } finally {
      setBusy(false);
    }
  }

  const columns: ListColumn<ExceptionItem>[] = [
    { id: 'scope', header: 'Applies to', cell: (e) => <ScopeSummary exception={e} groupName={groupName} /> },
    ...(connections && connections.length > 1 ? [{ id: 'connection', header: 'Connection', cell: (e: ExceptionItem) => connectionLabel(connections, e.connectionId) }] : []),
    { id: 'justification', header: 'Justification', cell: (e) => <>{JUSTIFICATION_LABELS[e.justification]}{e.comment && <><br /><Text size={200}>{e.comment}</Text></>}</> },
    { id: 'owner', header: 'Owner', cell: (e) => e.owner },
    { id: 'expiresOn', header: 'Expires after', nowrap: true, cell: (e) => <ExpiryCell exception={e} /> },
    {
      id: 'status', header: 'Status',
      cell: (e) => (e.status === 'active' ? <Badge appearance="tint" color="brand">Active</Badge> : <Badge appearance="outline" color="subtle">Expired</Badge>),
    },
    { id: 'openFindings', header: 'Open findings covered', numeric: true, cell: (e) => e.openFindings.toLocaleString() },
    { id: 'createdBy', header: 'Created', cell: (e) => <>{e.createdBy}<br /><Text size={200}>{when(e.createdAt)}</Text></> },
    ...(canEdit ? [{
      id: 'actions', header: 'Actions', headerHidden: true,
      cell: (e: ExceptionItem) => (
        <span className={styles.actions}>
          <Button size="small" icon={<EditRegular />} onClick={() => setEditing(e)}>Edit</Button>
          <Button size="small" icon={<DeleteRegular />} onClick={() => { setRemoveProblem(null); setRemoving(e); }}>Remove</Button>
        </span>
      ),
    }] : []),
  ];

  return (
    <Page
      title="Exceptions"
      label="Exceptions"
      commands={<>
        {canEdit && <ToolbarButton appearance="primary" icon={<AddRegular />} onClick={() => setEditing(null)} disabled={!connections?.length}>New exception</ToolbarButton>}
        <ToolbarButton icon={<ArrowClockwiseRegular />} onClick={() => void list.reload()}>Refresh</ToolbarButton>
      </>}
      description={<>
        Accepted risks on a finding, a CVE, a software product or a device group, each with a justification, an owner and an expiry.
        {!canEdit && ' You can read them; operators and administrators create and change them.'}
      </>}
    >
      {notice && <MessageBar intent="success"><MessageBarBody>{notice}</MessageBarBody></MessageBar>}
      <FilterBar>
        <ConnectionFilter list={list} connections={connections} />
        <ChoiceFilter list={list} name="status" label="Status" all="Active" options={[{ value: 'expired', label: 'Expired' }, { value: 'all', label: 'Active and expired' }]} />
        <ChoiceFilter list={list} name="kind" label="Applies to" all="Everything" options={(Object.keys(SCOPE_KIND_LABELS) as ExceptionKind[]).map((k) => ({ value: k, label: SCOPE_KIND_LABELS[k] }))} />
      </FilterBar>
      {connections?.length === 0 ? <NoData connections={connections} what="exceptions" /> : <DataList
        list={list}
        columns={columns}
        label="Exceptions"
        noun={['exception', 'exceptions']}
        rowId={(e) => e.id}
        empty={canEdit ? 'No active exception. Accept a risk with New exception, or from a remediation\'s page.' : 'No active exception.'}
        emptyAction={canEdit ? <Button appearance="primary" icon={<AddRegular />} onClick={() => setEditing(null)}>New exception</Button> : undefined}
      />}
      {editing !== undefined && (
        <ExceptionDialog
          existing={editing ?? undefined}
          draft={editing ? undefined : list.filters.connectionId ? { connectionId: list.filters.connectionId, scope: {} } : undefined}
          connections={connections}
          defaultOwner={defaultOwner}
          onClose={() => setEditing(undefined)}
          onSaved={(saved) => {
            setNotice(editing ? 'The exception was saved.' : `The exception was created: it covers ${saved.openFindings.toLocaleString()} open finding${saved.openFindings === 1 ? '' : 's'} now.`);
            setEditing(undefined);
            void list.reload();
          }}
        />
      )}
      <ConfirmDialog
        open={removing !== null}
        title="Remove this exception?"
        confirmLabel="Remove"
        busy={busy}
        problem={removeProblem}
        onConfirm={() => removing && void remove(removing)}
        onCancel={() => setRemoving(null)}
      >
        {removing && <>The findings it covers ({removing.openFindings.toLocaleString()} open now) count again at once. The removal is kept in the audit log.</>}
      </ConfirmDialog>
    </Page>
  );
}

function connectionLabel(connections: ConnectionRef[], id: string): string {
  return connections.find((c) => c.id === id)?.name ?? id;
}
