// Findings workspace: every device × software version × CVE that Defender reports, open and fixed,
// across the connections the user may see, in the API's id order (it has no sort yet).

import { Badge, Button, Link, Text, Title3, Toolbar, ToolbarButton, makeStyles, type BadgeProps } from '@fluentui/react-components';
import { ArrowClockwiseRegular } from '@fluentui/react-icons';
import type { Finding } from '../api';
import { useConnections } from '../shared/connections';
import { when } from '../shared/format';
import { useRouterLink } from '../shared/links';
import { DataList, ExportCsvButton, type ListColumn } from '../shared/list/DataList';
import { ChoiceFilter, ConnectionFilter, FilterBar, TextFilter } from '../shared/list/filters';
import { useList } from '../shared/list/useList';

const useStyles = makeStyles({
  toolbar: { marginLeft: '-8px', marginBottom: '4px' },
  page: { display: 'flex', flexDirection: 'column', gap: '12px', marginTop: '4px' },
  // Update titles can be one long word (an OVAL definition id): they wrap rather than widen the table.
  update: { overflowWrap: 'anywhere' },
});

const SEVERITY_COLORS: Record<string, BadgeProps['color']> = { Critical: 'danger', High: 'severe', Medium: 'warning', Low: 'informative' };

const EXPLOITABILITY_LABELS: Record<string, string> = {
  NoExploit: 'No known exploit', ExploitIsPublic: 'Public exploit', ExploitIsVerified: 'Verified exploit', ExploitIsInKit: 'In an exploit kit',
};

function RecommendedUpdate({ update }: { update: Finding['recommendedUpdate'] }) {
  const styles = useStyles();
  if (update.available === false) return <Text size={200}>No update available</Text>;
  const name = update.title ?? update.id ?? '';
  return <span className={styles.update}>{update.url ? <Link href={update.url} target="_blank" rel="noreferrer">{name}</Link> : name}</span>;
}

export function Findings() {
  const styles = useStyles();
  const connections = useConnections();
  const list = useList<Finding>({ path: '/api/v1/findings', filters: ['connectionId', 'status', 'cveId', 'deviceId'], pageSize: 50, csv: true });
  const defenderLink = useRouterLink('/defender');
  const connectionName = (id: string) => connections?.find((c) => c.id === id)?.name ?? id;

  const columns: ListColumn<Finding>[] = [
    {
      id: 'device', header: 'Device',
      cell: (f) => <>
        <Link as="button" title="Show this device's findings" onClick={() => list.setFilter('deviceId', f.deviceId)}>{f.deviceName ?? f.deviceId}</Link>
        <br /><Text size={200}>{[f.rbacGroupName, (connections?.length ?? 0) > 1 ? connectionName(f.connectionId) : null].filter(Boolean).join(' · ')}</Text>
      </>,
    },
    { id: 'software', header: 'Software', cell: (f) => <>{f.software.name} {f.software.version}<br /><Text size={200}>{f.software.vendor}</Text></> },
    {
      id: 'cve', header: 'CVE', nowrap: true,
      cell: (f) => <Link as="button" title="Show this CVE's findings" onClick={() => list.setFilter('cveId', f.cveId)}>{f.cveId}</Link>,
    },
    { id: 'severity', header: 'Severity', cell: (f) => f.severity && <Badge appearance="tint" color={SEVERITY_COLORS[f.severity] ?? 'subtle'}>{f.severity}</Badge> },
    { id: 'cvss', header: 'CVSS', cell: (f) => f.cvss?.toFixed(1) ?? '' },
    { id: 'exploitability', header: 'Exploitability', cell: (f) => (f.exploitability ? EXPLOITABILITY_LABELS[f.exploitability] ?? f.exploitability : '') },
    { id: 'update', header: 'Recommended update', cell: (f) => <RecommendedUpdate update={f.recommendedUpdate} /> },
    {
      id: 'status', header: 'Status',
      cell: (f) => (f.status === 'open' ? <Badge appearance="outline" color="danger">Open</Badge> : <Badge appearance="tint" color="success">Fixed</Badge>),
    },
    { id: 'firstSeen', header: 'First seen', nowrap: true, cell: (f) => when(f.firstSeen, '') },
    { id: 'lastSeen', header: 'Last seen', nowrap: true, cell: (f) => when(f.lastSeen, '') },
    { id: 'fixedAt', header: 'Fixed at', nowrap: true, cell: (f) => when(f.fixedAt, '') },
    { id: 'reopened', header: 'Reopened', cell: (f) => (f.reopened ? `${f.reopened}×` : '') },
  ];

  const noConnection = connections?.length === 0;
  return (
    <>
      <Toolbar aria-label="Findings actions" className={styles.toolbar}>
        <ExportCsvButton list={list} primary />
        <ToolbarButton icon={<ArrowClockwiseRegular />} onClick={() => void list.reload()}>Refresh</ToolbarButton>
      </Toolbar>
      <Title3 as="h1">Findings</Title3>
      <div className={styles.page}>
        <Text size={200}>Each finding is one device with one software version exposed to one CVE. Defender reports them; a fixed one is no longer reported.</Text>
        <FilterBar>
          <ConnectionFilter list={list} connections={connections} />
          <ChoiceFilter list={list} name="status" label="Status" all="Open and fixed" options={[{ value: 'open', label: 'Open' }, { value: 'fixed', label: 'Fixed' }]} />
          <TextFilter list={list} name="cveId" label="CVE ID" placeholder="CVE-2024-12345" />
          <TextFilter list={list} name="deviceId" label="Device ID" placeholder="Defender device ID" />
        </FilterBar>
        <DataList
          list={list}
          columns={columns}
          label="Findings"
          noun={['finding', 'findings']}
          rowId={(f) => f.id}
          empty={noConnection ? 'No connection yet.' : 'No findings yet: they appear once a connection has synced.'}
          emptyAction={<Button as="a" appearance="primary" {...defenderLink}>Windows Defender Endpoint</Button>}
        />
      </div>
    </>
  );
}
