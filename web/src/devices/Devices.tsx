// Devices: every device of the connections shown, most exposed first (open critical findings,
// then high, then all), with its OS, device group and last seen. The same list, filtered, is a
// CVE's and a software's exposed devices.

import { Text, ToolbarButton } from '@fluentui/react-components';
import { ArrowClockwiseRegular } from '@fluentui/react-icons';
import { useNavigate } from 'react-router';
import { useConnections, type ConnectionRef } from '../shared/connections';
import {
  ConsoleLink, DefenderButton, NoData, OsPlatformFilter, RbacGroupFilter, SEVERITY_OPTIONS, SeverityCounts, links, useFacets,
} from '../shared/exposure';
import type { DeviceItem } from '../shared/exposure-types';
import { when } from '../shared/format';
import { DataList, ExportCsvButton, type ListColumn } from '../shared/list/DataList';
import { ChoiceFilter, ConnectionFilter, FilterBar, TextFilter } from '../shared/list/filters';
import { useApiList } from '../shared/list/useApiList';
import type { ListController } from '../shared/list/useList';
import { Page } from '../shared/Page';

export const DEVICE_FILTERS = ['connectionId', 'severity', 'rbacGroup', 'osPlatform', 'status', 'q'] as const;
export const DEVICE_DEFAULT_SORT = '-exposure';

export function deviceColumns(connections: ConnectionRef[] | null): ListColumn<DeviceItem>[] {
  const several = (connections?.length ?? 0) > 1;
  const connectionName = (id: string) => connections?.find((c) => c.id === id)?.name ?? id;
  return [
    {
      id: 'name', header: 'Device', sortable: true,
      cell: (d) => <><ConsoleLink to={links.device(d.id, d.connectionId)}>{d.name ?? d.id}</ConsoleLink>{several && <><br /><Text size={200}>{connectionName(d.connectionId)}</Text></>}</>,
    },
    { id: 'osPlatform', header: 'OS platform', sortable: true, cell: (d) => d.osPlatform ?? '—' },
    { id: 'osVersion', header: 'OS version', cell: (d) => <Text size={200}>{[d.osVersion, d.osArchitecture].filter(Boolean).join(' · ') || '—'}</Text> },
    { id: 'rbacGroupName', header: 'Device group', cell: (d) => d.rbacGroupName ?? '—' },
    { id: 'exposure', header: 'Open findings by severity', sortable: true, descFirst: true, cell: (d) => <SeverityCounts counts={d.bySeverity} /> },
    { id: 'openFindings', header: 'Open findings', sortable: true, descFirst: true, numeric: true, cell: (d) => d.openFindings.toLocaleString() },
    { id: 'lastSeen', header: 'Last seen', sortable: true, descFirst: true, nowrap: true, cell: (d) => when(d.lastSeen, '—') },
  ];
}

/** The table of devices, wherever it is shown (the Devices page, a CVE's or a software's exposed devices). */
export function DeviceTable({ list, connections, label = 'Devices', empty }: { list: ListController<DeviceItem>; connections: ConnectionRef[] | null; label?: string; empty: string }) {
  const navigate = useNavigate();
  return (
    <DataList
      list={list}
      columns={deviceColumns(connections)}
      label={label}
      noun={['device', 'devices']}
      rowId={(d) => `${d.connectionId}/${d.id}`}
      empty={empty}
      emptyAction={<DefenderButton />}
      onOpen={(d) => navigate(links.device(d.id, d.connectionId))}
      openOnClick
    />
  );
}

export function Devices() {
  const connections = useConnections();
  const list = useApiList({ path: '/api/v1/devices', filters: DEVICE_FILTERS, pageSize: 50, csv: true, defaultSort: DEVICE_DEFAULT_SORT });
  const facets = useFacets(list.filters.connectionId);
  return (
    <Page
      title="Devices"
      label="Devices"
      commands={<>
        <ExportCsvButton list={list} primary />
        <ToolbarButton icon={<ArrowClockwiseRegular />} onClick={() => void list.reload()}>Refresh</ToolbarButton>
      </>}
      description="The devices Defender reports, the most exposed first: open critical findings, then high, then all."
    >
      <FilterBar>
        <ConnectionFilter list={list} connections={connections} />
        <RbacGroupFilter list={list} facets={facets} />
        <OsPlatformFilter list={list} facets={facets} />
        <ChoiceFilter list={list} name="severity" label="Severity" all="All severities" options={SEVERITY_OPTIONS} multiple />
        <ChoiceFilter list={list} name="status" label="Exposure" all="All devices" options={[{ value: 'exposed', label: 'Exposed devices' }]} />
        <TextFilter list={list} name="q" label="Search" placeholder="Device name or ID" />
      </FilterBar>
      {connections?.length === 0
        ? <NoData connections={connections} what="devices" />
        : <DeviceTable list={list} connections={connections} empty="No devices yet: they appear once a connection has synced." />}
    </Page>
  );
}
