// Sync status of one connection: sync now, live progress, and the run history.

import { Badge, Button, Card, MessageBar, MessageBarBody, MessageBarTitle, ProgressBar, Text, makeStyles } from '@fluentui/react-components';
import { ArrowSyncRegular } from '@fluentui/react-icons';
import { useCallback, useEffect, useState } from 'react';
import { api, ApiError, type List, type SyncRun } from '../api';
import { DataList, type ListColumn } from '../shared/list/DataList';
import { useList } from '../shared/list/useList';

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

const COLUMNS: ListColumn<SyncRun>[] = [
  { id: 'started', header: 'Started', cell: (run) => new Date(run.startedAt ?? run.createdAt).toLocaleString() },
  { id: 'kind', header: 'Kind', cell: (run) => run.kind },
  { id: 'duration', header: 'Duration', cell: duration },
  { id: 'read', header: 'Read', cell: (run) => run.counts.read.toLocaleString() },
  { id: 'added', header: 'New', cell: (run) => run.counts.added.toLocaleString() },
  { id: 'fixed', header: 'Fixed', cell: (run) => run.counts.fixed.toLocaleString() },
  { id: 'updated', header: 'Updated', cell: (run) => run.counts.updated.toLocaleString() },
  { id: 'outcome', header: 'Outcome', cell: (run) => <><Outcome run={run} />{run.error ? ` ${run.error.code}` : ''}</> },
];

export function SyncPanel({ connectionId, canSync = true }: { connectionId: string; canSync?: boolean }) {
  const styles = useStyles();
  // The newest two runs: the one under way, if any (a connection has one at a time, the newest), and the last outcome.
  const [latest, setLatest] = useState<SyncRun[]>([]);
  const [open, setOpen] = useState<number | null>(null);
  const [error, setError] = useState('');
  // The history pages on inside the panel (the selected connection is not in the address either),
  // and follows each change of the newest runs.
  const history = useList<SyncRun>({ path: `/api/v1/connections/${connectionId}/sync-runs`, pageSize: 10, state: 'local', reloadOn: latest });

  const refresh = useCallback(async () => {
    const [runs, findings] = await Promise.all([
      api<List<SyncRun>>('GET', `/api/v1/connections/${connectionId}/sync-runs?limit=2`),
      api<List<unknown>>('GET', `/api/v1/findings?connectionId=${connectionId}&status=open&limit=1`),
    ]);
    setLatest(runs.items);
    setOpen(findings.total);
  }, [connectionId]);

  const active = latest.find((r) => r.status === 'queued' || r.status === 'running');

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

  const last = latest.find((r) => r.status === 'failed' || r.status === 'succeeded');
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
      <DataList
        list={history}
        columns={COLUMNS}
        label="Sync history"
        noun={['run', 'runs']}
        rowId={(run) => run.runId}
        rowTitle={(run) => (run.error ? `${run.error.message} ${run.error.fix ?? ''}` : run.trigger)}
        empty={canSync ? 'No sync yet. Sync now, or wait for the schedule.' : 'No sync yet: it runs on the schedule.'}
      />
    </Card>
  );
}
