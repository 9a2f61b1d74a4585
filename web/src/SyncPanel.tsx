// Sync status of one connection: sync now, live progress, and the run history.

import {
  Badge, Button, Card, MessageBar, MessageBarBody, MessageBarTitle, ProgressBar, Table, TableBody, TableCell, TableHeader,
  TableHeaderCell, TableRow, Text, makeStyles,
} from '@fluentui/react-components';
import { ArrowSyncRegular } from '@fluentui/react-icons';
import { useCallback, useEffect, useState } from 'react';
import { api, ApiError, type List, type SyncRun } from './api';

const useStyles = makeStyles({
  card: { padding: '16px', display: 'flex', flexDirection: 'column', gap: '12px', marginTop: '16px' },
  header: { display: 'flex', justifyContent: 'space-between', alignItems: 'center' },
});

function Outcome({ run }: { run: SyncRun }) {
  if (run.status === 'succeeded') return <Badge color="success" appearance="filled">Succeeded</Badge>;
  if (run.status === 'failed') return <Badge color="danger" appearance="filled">Failed</Badge>;
  return <Badge color="informative" appearance="filled">{run.status === 'queued' ? 'Queued' : 'Running'}</Badge>;
}

function duration(run: SyncRun): string {
  if (!run.startedAt) return '';
  const seconds = ((run.finishedAt ? Date.parse(run.finishedAt) : Date.now()) - Date.parse(run.startedAt)) / 1000;
  return seconds < 90 ? `${seconds.toFixed(1)} s` : `${Math.round(seconds / 60)} min`;
}

export function SyncPanel({ connectionId, canSync = true }: { connectionId: string; canSync?: boolean }) {
  const styles = useStyles();
  const [runs, setRuns] = useState<SyncRun[]>([]);
  const [open, setOpen] = useState<number | null>(null);
  const [error, setError] = useState('');

  const refresh = useCallback(async () => {
    const [history, findings] = await Promise.all([
      api<List<SyncRun>>('GET', `/api/v1/connections/${connectionId}/sync-runs?limit=10`),
      api<List<unknown>>('GET', `/api/v1/findings?connectionId=${connectionId}&status=open&limit=1`),
    ]);
    setRuns(history.items);
    setOpen(findings.total);
  }, [connectionId]);

  const active = runs.find((r) => r.status === 'queued' || r.status === 'running');

  useEffect(() => { void refresh(); }, [refresh]);
  useEffect(() => {
    if (!active) return;
    const timer = setInterval(() => void refresh(), 1000);
    return () => clearInterval(timer);
  }, [active, refresh]);

  async function syncNow() {
    setError('');
    try {
      await api('POST', `/api/v1/connections/${connectionId}/sync`, { kind: 'auto' });
      await refresh();
    } catch (e) {
      setError(e instanceof ApiError ? e.message : 'The console could not be reached.');
    }
  }

  const last = runs.find((r) => r.status === 'failed' || r.status === 'succeeded');
  return (
    <Card className={styles.card}>
      <div className={styles.header}>
        <Text weight="semibold">Vulnerability sync{open !== null ? ` · ${open.toLocaleString()} open findings` : ''}</Text>
        {canSync && <Button icon={<ArrowSyncRegular />} onClick={syncNow} disabled={Boolean(active)}>Sync now</Button>}
      </div>
      {error && <MessageBar intent="error"><MessageBarBody>{error}</MessageBarBody></MessageBar>}
      {active && (
        <div data-testid="sync-progress">
          <Text>{active.kind} sync: {active.phase}</Text>
          <ProgressBar value={active.parts.total ? active.parts.done / active.parts.total : undefined} />
          <Text size={200}>
            {active.parts.total ? `${active.parts.done}/${active.parts.total} export files · ` : ''}
            {active.counts.read.toLocaleString()} rows · {active.rate.toLocaleString()} rows/s
          </Text>
        </div>
      )}
      {!active && last?.status === 'failed' && last.error && (
        <MessageBar intent="error"><MessageBarBody><MessageBarTitle>The last sync failed: {last.error.message}</MessageBarTitle>{last.error.fix}</MessageBarBody></MessageBar>
      )}
      {runs.length === 0 ? <Text>{canSync ? 'No sync yet. Sync now, or wait for the schedule.' : 'No sync yet: it runs on the schedule.'}</Text> : (
        <Table size="small" aria-label="Sync history">
          <TableHeader>
            <TableRow>
              <TableHeaderCell>Started</TableHeaderCell><TableHeaderCell>Kind</TableHeaderCell><TableHeaderCell>Duration</TableHeaderCell>
              <TableHeaderCell>Read</TableHeaderCell><TableHeaderCell>New</TableHeaderCell><TableHeaderCell>Fixed</TableHeaderCell>
              <TableHeaderCell>Updated</TableHeaderCell><TableHeaderCell>Outcome</TableHeaderCell>
            </TableRow>
          </TableHeader>
          <TableBody>
            {runs.map((run) => (
              <TableRow key={run.runId} title={run.error ? `${run.error.message} ${run.error.fix ?? ''}` : run.trigger}>
                <TableCell>{new Date(run.startedAt ?? run.createdAt).toLocaleString()}</TableCell>
                <TableCell>{run.kind}</TableCell>
                <TableCell>{duration(run)}</TableCell>
                <TableCell>{run.counts.read.toLocaleString()}</TableCell>
                <TableCell>{run.counts.added.toLocaleString()}</TableCell>
                <TableCell>{run.counts.fixed.toLocaleString()}</TableCell>
                <TableCell>{run.counts.updated.toLocaleString()}</TableCell>
                <TableCell><Outcome run={run} />{run.error ? ` ${run.error.code}` : ''}</TableCell>
              </TableRow>
            ))}
          </TableBody>
        </Table>
      )}
    </Card>
  );
}
