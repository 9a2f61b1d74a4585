// Vulnerabilities: the CVEs (and Defender's TVM- ids) with devices exposed to them, most exposed
// first, as Defender's "Weaknesses" page lists them. Filters, sort and page are in the address.

import { Text, ToolbarButton } from '@fluentui/react-components';
import { ArrowClockwiseRegular } from '@fluentui/react-icons';
import { useNavigate } from 'react-router';
import { useConnections } from '../shared/connections';
import {
  ConsoleLink, DefenderButton, EXPLOIT_OPTIONS, ExploitBadge, NoData, OsPlatformFilter, RbacGroupFilter, SEVERITY_OPTIONS, SeverityBadge, links, useFacets,
} from '../shared/exposure';
import type { VulnerabilityItem } from '../shared/exposure-types';
import { day } from '../shared/format';
import { DataList, ExportCsvButton, type ListColumn } from '../shared/list/DataList';
import { ChoiceFilter, ConnectionFilter, FilterBar, TextFilter } from '../shared/list/filters';
import { useApiList } from '../shared/list/useApiList';
import { Page } from '../shared/Page';

export const VULNERABILITY_FILTERS = ['connectionId', 'rbacGroup', 'osPlatform', 'severity', 'exploit', 'status', 'q'] as const;

export function epss(value: number | null | undefined): string {
  if (value === null || value === undefined) return '—';
  if (value > 0 && value < 0.0001) return '<0.01%';
  return `${(value * 100).toFixed(value < 0.01 ? 2 : 1)}%`;
}

export function Vulnerabilities() {
  const connections = useConnections();
  const navigate = useNavigate();
  const list = useApiList({
    path: '/api/v1/vulnerabilities', filters: VULNERABILITY_FILTERS, pageSize: 50, csv: true, defaultSort: '-exposedDevices',
  });
  const facets = useFacets(list.filters.connectionId);

  const columns: ListColumn<VulnerabilityItem>[] = [
    { id: 'id', header: 'CVE', sortable: true, nowrap: true, cell: (v) => <ConsoleLink to={links.vulnerability(v.id, list.filters.connectionId)}>{v.id}</ConsoleLink> },
    // Defender names many CVEs by their id only: no need to say it twice.
    { id: 'name', header: 'Name', cell: (v) => <Text size={200}>{v.name && v.name !== v.id ? v.name : ''}</Text> },
    { id: 'severity', header: 'Severity', sortable: true, descFirst: true, cell: (v) => <SeverityBadge severity={v.severity} /> },
    { id: 'cvss', header: 'CVSS', sortable: true, descFirst: true, numeric: true, cell: (v) => v.cvss?.toFixed(1) ?? '—' },
    { id: 'epss', header: 'EPSS', sortable: true, descFirst: true, numeric: true, cell: (v) => epss(v.epss) },
    { id: 'exploitLevel', header: 'Exploit', sortable: true, descFirst: true, nowrap: true, cell: (v) => <ExploitBadge level={v.exploitLevel} /> },
    { id: 'publishedOn', header: 'Published', sortable: true, descFirst: true, nowrap: true, cell: (v) => day(v.publishedOn, '—') },
    { id: 'firstSeen', header: 'First seen', sortable: true, descFirst: true, nowrap: true, cell: (v) => day(v.firstSeen, '—') },
    { id: 'exposedDevices', header: 'Exposed devices', sortable: true, descFirst: true, numeric: true, cell: (v) => v.exposedDevices.toLocaleString() },
    { id: 'openFindings', header: 'Open findings', sortable: true, descFirst: true, numeric: true, cell: (v) => v.openFindings.toLocaleString() },
  ];

  return (
    <Page
      title="Vulnerabilities"
      label="Vulnerabilities"
      commands={<>
        <ExportCsvButton list={list} primary />
        <ToolbarButton icon={<ArrowClockwiseRegular />} onClick={() => void list.reload()}>Refresh</ToolbarButton>
      </>}
      description="CVEs and Defender's own TVM- advisories that affect your devices. Exposed devices have an open finding for one."
    >
      <FilterBar>
        <ConnectionFilter list={list} connections={connections} />
        <RbacGroupFilter list={list} facets={facets} />
        <OsPlatformFilter list={list} facets={facets} />
        <ChoiceFilter list={list} name="severity" label="Severity" all="All severities" options={SEVERITY_OPTIONS} multiple />
        <ChoiceFilter list={list} name="exploit" label="Exploit" all="Any exploit level" options={EXPLOIT_OPTIONS} multiple />
        <ChoiceFilter list={list} name="status" label="Status" all="Exposed now" options={[{ value: 'all', label: 'Exposed now or before' }]} />
        <TextFilter list={list} name="q" label="Search" placeholder="CVE ID or name" />
      </FilterBar>
      {connections?.length === 0 ? <NoData connections={connections} what="vulnerabilities" /> : <DataList
        list={list}
        columns={columns}
        label="Vulnerabilities"
        noun={['vulnerability', 'vulnerabilities']}
        rowId={(v) => v.id}
        empty="No exposed vulnerabilities: they appear once a connection has synced."
        emptyAction={<DefenderButton />}
        onOpen={(v) => navigate(links.vulnerability(v.id, list.filters.connectionId))}
        openOnClick
      />}
    </Page>
  );
}
