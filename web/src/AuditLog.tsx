// Audit log workspace: who changed what, and when.

import { Table, TableBody, TableCell, TableHeader, TableHeaderCell, TableRow, Title3 } from '@fluentui/react-components';
import { useEffect, useState } from 'react';
import { api, type AuditEntry, type List } from './api';

export function AuditLog() {
  const [entries, setEntries] = useState<AuditEntry[]>([]);
  useEffect(() => { void api<List<AuditEntry>>('GET', '/api/v1/audit-events?limit=200').then((list) => setEntries(list.items)); }, []);
  return (
    <>
      <Title3 as="h1">Audit log</Title3>
      <Table size="small" aria-label="Audit log" style={{ marginTop: 12, background: 'white' }}>
        <TableHeader>
          <TableRow>
            <TableHeaderCell>When</TableHeaderCell><TableHeaderCell>Who</TableHeaderCell>
            <TableHeaderCell>What</TableHeaderCell><TableHeaderCell>Details</TableHeaderCell>
          </TableRow>
        </TableHeader>
        <TableBody>
          {entries.map((e) => (
            <TableRow key={e.id}>
              <TableCell>{new Date(e.at).toLocaleString()}</TableCell>
              <TableCell>{e.actor}</TableCell>
              <TableCell>{e.action}</TableCell>
              <TableCell><code>{JSON.stringify(e.details)}</code></TableCell>
            </TableRow>
          ))}
        </TableBody>
      </Table>
    </>
  );
}
