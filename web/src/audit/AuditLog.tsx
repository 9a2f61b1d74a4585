// Audit log workspace: who changed what, when, and from which address, newest first; exported as CSV.

import { Title3, Toolbar, ToolbarButton, makeStyles } from '@fluentui/react-components';
import { ArrowClockwiseRegular } from '@fluentui/react-icons';
import type { AuditEntry } from '../api';
import { DataList, ExportCsvButton, type ListColumn } from '../shared/list/DataList';
import { useList } from '../shared/list/useList';

const useStyles = makeStyles({
  toolbar: { marginLeft: '-8px', marginBottom: '4px' },
  list: { marginTop: '12px' },
  details: { overflowWrap: 'anywhere' },
});

export function AuditLog() {
  const styles = useStyles();
  // The export is the whole log, oldest first (its own endpoint: the log has no filters yet).
  const list = useList<AuditEntry>({ path: '/api/v1/audit-events', pageSize: 100, csv: '/api/v1/audit-events.csv' });
  const columns: ListColumn<AuditEntry>[] = [
    { id: 'at', header: 'When', nowrap: true, cell: (e) => new Date(e.at).toLocaleString() },
    { id: 'actor', header: 'Who', cell: (e) => e.actor },
    { id: 'action', header: 'What', cell: (e) => e.action },
    { id: 'address', header: 'Address', cell: (e) => e.address ?? '' },
    { id: 'details', header: 'Details', cell: (e) => <code className={styles.details}>{JSON.stringify(e.details)}</code> },
  ];
  return (
    <>
      <Toolbar aria-label="Audit log actions" className={styles.toolbar}>
        <ExportCsvButton list={list} primary />
        <ToolbarButton icon={<ArrowClockwiseRegular />} onClick={() => void list.reload()}>Refresh</ToolbarButton>
      </Toolbar>
      <Title3 as="h1">Audit log</Title3>
      <div className={styles.list}>
        <DataList list={list} columns={columns} label="Audit log" noun={['event', 'events']} rowId={(e) => e.id} empty="No events yet." />
      </div>
    </>
  );
}
