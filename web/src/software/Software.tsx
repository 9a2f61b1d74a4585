// Software: one row per vendor / product / version installed on exposed devices, with how many
// devices and CVEs it carries, as Defender's software inventory shows it.

import { Text, ToolbarButton } from '@fluentui/react-components';
import { ArrowClockwiseRegular } from '@fluentui/react-icons';
import { useNavigate } from 'react-router';
import { useConnections } from '../shared/connections';
import { ConsoleLink, DefenderButton, NoData, OsPlatformFilter, RbacGroupFilter, SEVERITY_OPTIONS, SeverityCounts, links, useFacets } from '../shared/exposure';
import type { SoftwareItem } from '../shared/exposure-types';
import { DataList, ExportCsvButton, type ListColumn } from '../shared/list/DataList';
import { ChoiceFilter, ConnectionFilter, FilterBar, TextFilter } from '../shared/list/filters';
import { useApiList } from '../shared/list/useApiList';
import { Page } from '../shared/Page';

export function Software() {
  const connections = useConnections();
  const navigate = useNavigate();
  const list = useApiList({
    path: '/api/v1/software', filters: ['connectionId', 'rbacGroup', 'osPlatform', 'severity', 'status', 'q'], pageSize: 50, csv: true, defaultSort: '-exposedDevices',
  });
  const facets = useFacets(list.filters.connectionId);
  const columns: ListColumn<SoftwareItem>[] = [
    { id: 'name', header: 'Software', sortable: true, cell: (s) => <ConsoleLink to={links.software(s.id, list.filters.connectionId)}>{s.name}</ConsoleLink> },
    { id: 'vendor', header: 'Vendor', sortable: true, cell: (s) => s.vendor },
    { id: 'version', header: 'Version', cell: (s) => <Text font="monospace" size={200}>{s.version}</Text> },
    { id: 'severity', header: 'Open findings by severity', cell: (s) => <SeverityCounts counts={s.bySeverity} /> },
    { id: 'cves', header: 'CVEs', sortable: true, descFirst: true, numeric: true, cell: (s) => s.cves.toLocaleString() },
    { id: 'openFindings', header: 'Open findings', sortable: true, descFirst: true, numeric: true, cell: (s) => s.openFindings.toLocaleString() },
    { id: 'exposedDevices', header: 'Exposed devices', sortable: true, descFirst: true, numeric: true, cell: (s) => s.exposedDevices.toLocaleString() },
  ];
  return (
    <Page
      title="Software"
      label="Software"
      commands={<>
        <ExportCsvButton list={list} primary />
        <ToolbarButton icon={<ArrowClockwiseRegular />} onClick={() => void list.reload()}>Refresh</ToolbarButton>
      </>}
      description="Each version of each product on your devices that has open findings: the ones on the most exposed devices first."
    >
      <FilterBar>
        <ConnectionFilter list={list} connections={connections} />
        <RbacGroupFilter list={list} facets={facets} />
        <OsPlatformFilter list={list} facets={facets} />
        <ChoiceFilter list={list} name="severity" label="Severity" all="All severities" options={SEVERITY_OPTIONS} multiple />
        <ChoiceFilter list={list} name="status" label="Status" all="Exposed versions" options={[{ value: 'all', label: 'All versions' }]} />
        <TextFilter list={list} name="q" label="Search" placeholder="Vendor, product or version" />
      </FilterBar>
      {connections?.length === 0 ? <NoData connections={connections} what="software" /> : (
        <DataList
          list={list}
          columns={columns}
          label="Software"
          noun={['software version', 'software versions']}
          rowId={(s) => `${s.id}@${s.version}`}
          empty="No exposed software yet: it appears once a connection has synced."
          emptyAction={<DefenderButton />}
          onOpen={(s) => navigate(links.software(s.id, list.filters.connectionId))}
          openOnClick
        />
      )}
    </Page>
  );
}
