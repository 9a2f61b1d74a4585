// Tenants, for service providers: one row per connection with its open findings by severity, its
// exposed devices and how fresh its copy is; a row opens that tenant's overview.

import { Text, ToolbarButton } from '@fluentui/react-components';
import { ArrowClockwiseRegular } from '@fluentui/react-icons';
import { useNavigate } from 'react-router';
import { useConnections } from '../shared/connections';
import {
  ConsoleLink, DefenderButton, FreshnessBadge, NoData, SeverityCounts, dataAgeText, links, nextSyncText,
} from '../shared/exposure';
import type { TenantItem } from '../shared/exposure-types';
import { when } from '../shared/format';
import { DataList, ExportCsvButton, type ListColumn } from '../shared/list/DataList';
import { FilterBar, TextFilter } from '../shared/list/filters';
import { useApiList } from '../shared/list/useApiList';
import { Page } from '../shared/Page';

const CLOUD_LABELS: Record<string, string> = { commercial: 'Commercial', gcc: 'GCC', 'gcc-high': 'GCC High', dod: 'DoD', custom: 'Custom' };
const STATUS_LABELS: Record<string, string> = { connected: 'Connected', failed: 'Failed', unchecked: 'Not checked' };

export function Tenants() {
  const connections = useConnections();
  const navigate = useNavigate();
  const list = useApiList({ path: '/api/v1/tenants', filters: ['q'], pageSize: 50, csv: true, defaultSort: 'name' });
  const columns: ListColumn<TenantItem>[] = [
    {
      id: 'name', header: 'Tenant', sortable: true,
      cell: (t) => <><ConsoleLink to={links.overview(t.connectionId)} title={`Overview of ${t.name}`}>{t.name}</ConsoleLink><br /><Text size={200}>{CLOUD_LABELS[t.cloud] ?? t.cloud} · {STATUS_LABELS[t.status] ?? t.status}</Text></>,
    },
    { id: 'severity', header: 'Open findings by severity', cell: (t) => <SeverityCounts counts={t.bySeverity} /> },
    { id: 'openFindings', header: 'Open findings', sortable: true, descFirst: true, numeric: true, cell: (t) => t.openFindings.toLocaleString() },
    { id: 'exposedDevices', header: 'Exposed devices', sortable: true, descFirst: true, numeric: true, cell: (t) => `${t.exposedDevices.toLocaleString()} of ${t.devices.toLocaleString()}` },
    { id: 'freshness', header: 'Freshness', cell: (t) => <FreshnessBadge freshness={t} /> },
    { id: 'dataTime', header: 'Data as of', nowrap: true, cell: (t) => when(t.dataTime, 'No data yet') },
    { id: 'lastSuccessfulSync', header: 'Last successful sync', sortable: true, nowrap: true, cell: (t) => <>{when(t.lastSuccessfulSync, 'Never')}<br /><Text size={200}>{t.lastSuccessfulSync ? dataAgeText(t) : ''}</Text></> },
    { id: 'nextSyncAt', header: 'Next sync', nowrap: true, cell: (t) => nextSyncText(t.nextSyncAt) },
  ];
  return (
    <Page
      title="Tenants"
      label="Tenants"
      commands={<>
        <ExportCsvButton list={list} primary />
        <ToolbarButton icon={<ArrowClockwiseRegular />} onClick={() => void list.reload()}>Refresh</ToolbarButton>
      </>}
      description="Every Defender tenant you may see, with its exposure and how fresh its copy is. Open one for its overview."
    >
      <FilterBar>
        <TextFilter list={list} name="q" label="Search" placeholder="Tenant name" />
      </FilterBar>
      {connections?.length === 0 ? <NoData connections={connections} what="tenants" /> : (
        <DataList
          list={list}
          columns={columns}
          label="Tenants"
          noun={['tenant', 'tenants']}
          rowId={(t) => t.connectionId}
          empty="No tenants."
          emptyAction={<DefenderButton />}
          onOpen={(t) => navigate(links.overview(t.connectionId))}
          openOnClick
        />
      )}
    </Page>
  );
}
