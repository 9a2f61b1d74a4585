// Remediations: the updates that close the open findings, the riskiest first, laid out like
// Defender's "Security recommendations" (what to do, how many weaknesses and exposed devices, its
// status), with the risk score, the due date and its SLA flag. Filters, sort and page are in the address.

import { Link, Text, ToolbarButton, makeStyles, tokens } from '@fluentui/react-components';
import { ArrowClockwiseRegular, ShieldDismissRegular } from '@fluentui/react-icons';
import { useNavigate } from 'react-router';
import { useConnections } from '../shared/connections';
import { ConsoleLink, DefenderButton, NoData, SEVERITY_OPTIONS, SeverityCounts } from '../shared/exposure';
import { useRouterLink } from '../shared/links';
import { DataList, ExportCsvButton, type ListColumn } from '../shared/list/DataList';
import { ChoiceFilter, ConnectionFilter, FilterBar, TextFilter } from '../shared/list/filters';
import { useApiList } from '../shared/list/useApiList';
import { Page } from '../shared/Page';
import { DueDate, KIND_LABELS, KIND_OPTIONS, STATUS_OPTIONS, StatusBadge, remediationLinks, type RemediationItem } from './parts';

export const REMEDIATION_FILTERS = ['connectionId', 'kind', 'severity', 'status', 'q'] as const;

const useStyles = makeStyles({
  score: { fontWeight: tokens.fontWeightSemibold, fontVariantNumeric: 'tabular-nums' },
  title: { minWidth: '260px', display: 'inline-block' },
});

export function Remediations() {
  const styles = useStyles();
  const connections = useConnections();
  const navigate = useNavigate();
  const gaps = useRouterLink('/coverage-gaps');
  const list = useApiList({ path: '/api/v1/remediations', filters: REMEDIATION_FILTERS, pageSize: 50, csv: true, defaultSort: '-riskScore' });
  const connectionName = (id: string) => connections?.find((c) => c.id === id)?.name ?? id;
  const several = (connections?.length ?? 0) > 1;

  const columns: ListColumn<RemediationItem>[] = [
    { id: 'riskScore', header: 'Risk score', sortable: true, descFirst: true, numeric: true, cell: (r) => <span className={styles.score}>{r.riskScore.toFixed(1)}</span> },
    {
      id: 'title', header: 'Remediation', sortable: true,
      cell: (r) => <span className={styles.title}>
        <ConsoleLink to={remediationLinks.remediation(r.id)}>{r.title}</ConsoleLink>
        {several && <><br /><Text size={200}>{connectionName(r.connectionId)}</Text></>}
      </span>,
    },
    { id: 'kind', header: 'Kind', nowrap: true, cell: (r) => KIND_LABELS[r.kind] },
    { id: 'cves', header: 'CVEs', sortable: true, descFirst: true, numeric: true, cell: (r) => r.cves.toLocaleString() },
    { id: 'devices', header: 'Exposed devices', sortable: true, descFirst: true, numeric: true, cell: (r) => r.devices.toLocaleString() },
    { id: 'severity', header: 'Open findings by severity', cell: (r) => <SeverityCounts counts={r.bySeverity} /> },
    { id: 'openFindings', header: 'Open findings', sortable: true, descFirst: true, numeric: true, cell: (r) => r.openFindings.toLocaleString() },
    { id: 'dueOn', header: 'Due date', sortable: true, nowrap: true, cell: (r) => <DueDate remediation={r} /> },
    { id: 'status', header: 'Status', nowrap: true, cell: (r) => <StatusBadge status={r.status} /> },
  ];

  return (
    <Page
      title="Remediations"
      label="Remediations"
      commands={<>
        <ExportCsvButton list={list} primary />
        <ToolbarButton icon={<ArrowClockwiseRegular />} onClick={() => void list.reload()}>Refresh</ToolbarButton>
        <ToolbarButton as="a" icon={<ShieldDismissRegular />} {...gaps}>Coverage gaps</ToolbarButton>
      </>}
      description={<>
        The updates that close your open findings, ranked by risk: the worst CVE's CVSS, its exploit level, EPSS and the devices it reaches.
        Findings no update covers are under <Link {...gaps}>Coverage gaps</Link>.
      </>}
    >
      <FilterBar>
        <ConnectionFilter list={list} connections={connections} />
        <ChoiceFilter list={list} name="kind" label="Kind" all="All kinds" options={KIND_OPTIONS} multiple />
        <ChoiceFilter list={list} name="severity" label="Severity" all="All severities" options={SEVERITY_OPTIONS} multiple />
        <ChoiceFilter list={list} name="status" label="Status" all="All statuses" options={STATUS_OPTIONS} multiple />
        <TextFilter list={list} name="q" label="Search" placeholder="Update, product or CVE" />
      </FilterBar>
      {connections?.length === 0 ? <NoData connections={connections} what="remediations" /> : <DataList
        list={list}
        columns={columns}
        label="Remediations"
        noun={['remediation', 'remediations']}
        rowId={(r) => r.id}
        empty="No remediation: nothing open. Remediations appear once a connection has synced findings that an update fixes."
        emptyAction={<DefenderButton />}
        onOpen={(r) => navigate(remediationLinks.remediation(r.id))}
        openOnClick
      />}
    </Page>
  );
}
