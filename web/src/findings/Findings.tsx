// Findings workspace: every device × software version × CVE that Defender reports, open and fixed,
// across the connections the user may see, filtered by connection, status, severity, exploit level,
// device group, OS platform, CVE, device or free text, and sorted on its columns (the API's id
// order by default). Each finding shows what fixes it, from the imported patch content.

import { Badge, Button, Link, Text, ToolbarButton, makeStyles } from '@fluentui/react-components';
import { ArrowClockwiseRegular } from '@fluentui/react-icons';
import type { FindingItem as Finding } from '../shared/exposure-types';
import { useConnections } from '../shared/connections';
import { FixSummary } from '../shared/fix';
import { day, when } from '../shared/format';
import { useRouterLink } from '../shared/links';
import { DataList, ExportCsvButton, type ListColumn } from '../shared/list/DataList';
import { ChoiceFilter, ConnectionFilter, FilterBar, TextFilter } from '../shared/list/filters';
import { EXPLOIT_OPTIONS, ExploitBadge, OsPlatformFilter, RbacGroupFilter, SEVERITY_OPTIONS, SeverityBadge, useFacets } from '../shared/exposure';
import { Page } from '../shared/Page';
import { useApiList } from '../shared/list/useApiList';

const useStyles = makeStyles({
  // Update titles can be one long word (an OVAL definition id): they wrap rather than widen the table.
  update: { overflowWrap: 'anywhere' },
});

function RecommendedUpdate({ update }: { update: Finding['recommendedUpdate'] }) {
  const styles = useStyles();
  if (update.available === false) return <Text size={200}>No update available</Text>;
  const name = update.title ?? update.id ?? '';
  return <span className={styles.update}>{update.url ? <Link href={update.url} target="_blank" rel="noreferrer">{name}</Link> : name}</span>;
}

const FINDING_FILTERS = ['connectionId', 'status', 'severity', 'exploit', 'slaState', 'rbacGroup', 'osPlatform', 'cveId', 'deviceId', 'q'] as const;

const SLA_OPTIONS = [
  { value: 'overdue', label: 'Overdue' }, { value: 'approaching', label: 'Approaching' }, { value: 'within', label: 'Within' }, { value: 'excepted', label: 'Excepted' },
];
const SLA_BADGES: Record<string, { label: string; color: 'danger' | 'warning' | 'success' | 'informative' }> = {
  overdue: { label: 'Overdue', color: 'danger' }, approaching: { label: 'Approaching', color: 'warning' },
  within: { label: 'Within', color: 'success' }, excepted: { label: 'Excepted', color: 'informative' },
};

/** The finding's SLA state and due date (open findings only). */
function SlaCell({ finding }: { finding: Finding }) {
  const badge = finding.slaState ? SLA_BADGES[finding.slaState] : undefined;
  if (!badge) return null;
  return <><Badge appearance="tint" color={badge.color}>{badge.label}</Badge><br /><Text size={200} style={{ whiteSpace: 'nowrap' }}>Due {finding.dueOn}</Text></>;
}

export function Findings() {
  const styles = useStyles();
  const connections = useConnections();
  const list = useApiList({ path: '/api/v1/findings', filters: FINDING_FILTERS, pageSize: 50, csv: true });
  const defenderLink = useRouterLink('/defender');
  const facets = useFacets(list.filters.connectionId);
  const connectionName = (id: string) => connections?.find((c) => c.id === id)?.name ?? id;

  const columns: ListColumn<Finding>[] = [
    {
      id: 'deviceName', header: 'Device', sortable: true, nowrap: true,
      cell: (f) => <>
        <Link as="button" title="Show this device's findings" onClick={() => list.setFilter('deviceId', f.deviceId)}>{f.deviceName ?? f.deviceId}</Link>
        <br /><Text size={200}>{[f.rbacGroupName, (connections?.length ?? 0) > 1 ? connectionName(f.connectionId) : null].filter(Boolean).join(' · ')}</Text>
      </>,
    },
    { id: 'software', header: 'Software', cell: (f) => <>{f.software.name} {f.software.version}<br /><Text size={200}>{f.software.vendor}</Text></> },
    {
      id: 'cveId', header: 'CVE', sortable: true, nowrap: true,
      cell: (f) => <Link as="button" title="Show this CVE's findings" onClick={() => list.setFilter('cveId', f.cveId)}>{f.cveId}</Link>,
    },
    { id: 'severity', header: 'Severity', sortable: true, descFirst: true, cell: (f) => f.severity && <SeverityBadge severity={f.severity} /> },
    { id: 'cvss', header: 'CVSS', sortable: true, descFirst: true, numeric: true, cell: (f) => f.cvss?.toFixed(1) ?? '' },
    { id: 'exploitability', header: 'Exploitability', nowrap: true, cell: (f) => (f.exploitability ? <ExploitBadge level={f.exploitability} /> : '') },
    { id: 'update', header: 'Recommended update', cell: (f) => <RecommendedUpdate update={f.recommendedUpdate} /> },
    { id: 'fix', header: 'Fix', cell: (f) => <FixSummary fix={f.fix} /> },
    { id: 'sla', header: 'SLA', nowrap: true, cell: (f) => <SlaCell finding={f} /> },
    {
      id: 'status', header: 'Status',
      cell: (f) => (f.status === 'open' ? <Badge appearance="outline" color="danger">Open</Badge> : <Badge appearance="tint" color="success">Fixed</Badge>),
    },
    { id: 'firstSeen', header: 'First seen', sortable: true, descFirst: true, nowrap: true, cell: (f) => <span title={when(f.firstSeen, '')}>{day(f.firstSeen, '')}</span> },
    { id: 'lastSeen', header: 'Last seen', nowrap: true, cell: (f) => <span title={when(f.lastSeen, '')}>{day(f.lastSeen, '')}</span> },
    { id: 'fixedAt', header: 'Fixed at', sortable: true, descFirst: true, nowrap: true, cell: (f) => when(f.fixedAt, '') },
    { id: 'reopened', header: 'Reopened', cell: (f) => (f.reopened ? `${f.reopened}×` : '') },
  ];

  const noConnection = connections?.length === 0;
  return (
    <Page
      title="Findings"
      label="Findings"
      commands={<>
        <ExportCsvButton list={list} primary />
        <ToolbarButton icon={<ArrowClockwiseRegular />} onClick={() => void list.reload()}>Refresh</ToolbarButton>
      </>}
      description="Each finding is one device with one software version exposed to one CVE. Defender reports them; a fixed one is no longer reported."
    >
      <FilterBar>
        <ConnectionFilter list={list} connections={connections} />
        <ChoiceFilter list={list} name="status" label="Status" all="Open and fixed" options={[{ value: 'open', label: 'Open' }, { value: 'fixed', label: 'Fixed' }]} />
        <ChoiceFilter list={list} name="severity" label="Severity" all="All severities" options={SEVERITY_OPTIONS} multiple />
        <ChoiceFilter list={list} name="exploit" label="Exploit" all="Any exploit level" options={EXPLOIT_OPTIONS} multiple />
        <ChoiceFilter list={list} name="slaState" label="SLA" all="Any SLA state" options={SLA_OPTIONS} multiple />
        <RbacGroupFilter list={list} facets={facets} />
        <OsPlatformFilter list={list} facets={facets} />
        <TextFilter list={list} name="q" label="Search" placeholder="Device, software or CVE" />
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
    </Page>
  );
}
