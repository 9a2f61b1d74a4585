// Audit log workspace: who changed what, when, and from which address; exported as CSV.

import { Button, Table, TableBody, TableCell, TableHeader, TableHeaderCell, TableRow, Text, Title3, Toolbar, ToolbarButton } from '@fluentui/react-components';
import { ArrowDownloadRegular, ArrowClockwiseRegular } from '@fluentui/react-icons';
import { useCallback, useEffect, useState } from 'react';
import { api, type AuditEntry, type List } from './api';
import { ProblemBar, problemOf, type Problem } from './shared/problems';

export function AuditLog() {
  const [entries, setEntries] = useState<AuditEntry[]>([]);
  const [total, setTotal] = useState<number | null>(null);
  const [problem, setProblem] = useState<Problem | null>(null);

  const refresh = useCallback(async () => {
    try {
      const list = await api<List<AuditEntry>>('GET', '/api/v1/audit-events?limit=200');
      setEntries(list.items);
      setTotal(list.total);
      setProblem(null);
    } catch (e) {
      setProblem(problemOf(e));
    }
  }, []);
  useEffect(() => { void refresh(); }, [refresh]);

  return (
    <>
      <Toolbar aria-label="Audit log actions" style={{ marginLeft: -8, marginBottom: 4 }}>
        {/* A plain download: the browser saves the server's CSV (the whole log, not only this page). */}
        <Button as="a" appearance="primary" icon={<ArrowDownloadRegular />} href="/api/v1/audit-events.csv" download>Export CSV</Button>
        <ToolbarButton icon={<ArrowClockwiseRegular />} onClick={refresh}>Refresh</ToolbarButton>
      </Toolbar>
      <Title3 as="h1">Audit log</Title3>
      {total !== null && <div><Text size={200}>{total > entries.length ? `The newest ${entries.length} of ${total.toLocaleString()} events. Export CSV has them all.` : `${total.toLocaleString()} ${total === 1 ? 'event' : 'events'}.`}</Text></div>}
      <ProblemBar problem={problem} />
      <Table size="small" aria-label="Audit log" style={{ marginTop: 12, background: 'white' }}>
        <TableHeader>
          <TableRow>
            <TableHeaderCell>When</TableHeaderCell><TableHeaderCell>Who</TableHeaderCell>
            <TableHeaderCell>What</TableHeaderCell><TableHeaderCell>Address</TableHeaderCell><TableHeaderCell>Details</TableHeaderCell>
          </TableRow>
        </TableHeader>
        <TableBody>
          {entries.map((e) => (
            <TableRow key={e.id}>
              <TableCell style={{ whiteSpace: 'nowrap' }}>{new Date(e.at).toLocaleString()}</TableCell>
              <TableCell>{e.actor}</TableCell>
              <TableCell>{e.action}</TableCell>
              <TableCell>{e.address ?? ''}</TableCell>
              <TableCell><code style={{ overflowWrap: 'anywhere' }}>{JSON.stringify(e.details)}</code></TableCell>
            </TableRow>
          ))}
        </TableBody>
      </Table>
    </>
  );
}
