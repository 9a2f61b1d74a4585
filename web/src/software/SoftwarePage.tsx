// The software page: a product (Defender's vendor-_-name), its versions on your devices and which
// of them are exposed, and its open findings (the findings list filtered by it, and by one version
// when one is chosen): which device is exposed to which CVE through it.

import { Badge, Text, ToolbarButton, makeStyles, tokens } from '@fluentui/react-components';
import { ArrowClockwiseRegular } from '@fluentui/react-icons';
import { useNavigate, useParams } from 'react-router';
import { useConnections } from '../shared/connections';
import {
  ConsoleLink, ExploitBadge, LoadingBlock, OsPlatformFilter, RbacGroupFilter, SEVERITY_OPTIONS, SeverityBadge, SeverityCounts, UpdateLink, count, links,
  useAddressParams, useFacets, useResource,
} from '../shared/exposure';
import type { FindingItem, SoftwareDetail } from '../shared/exposure-types';
import { day } from '../shared/format';
import { DataList, ExportCsvButton, type ListColumn } from '../shared/list/DataList';
import { ChoiceFilter, ConnectionFilter, FilterBar, TextFilter } from '../shared/list/filters';
import { useApiList } from '../shared/list/useApiList';
import { useLocalList } from '../shared/list/useList';
import { Page, Tile } from '../shared/Page';
import { ProblemBar } from '../shared/problems';

type Version = SoftwareDetail['versions'][number];

const FINDING_COLUMNS: ListColumn<FindingItem>[] = [
  {
    id: 'deviceName', header: 'Device', sortable: true,
    cell: (f) => <><ConsoleLink to={links.device(f.deviceId, f.connectionId)}>{f.deviceName ?? f.deviceId}</ConsoleLink><br /><Text size={200}>{[f.osPlatform, f.rbacGroupName].filter(Boolean).join(' · ')}</Text></>,
  },
  { id: 'version', header: 'Version', cell: (f) => <Text font="monospace" size={200}>{f.software.version}</Text> },
  { id: 'cveId', header: 'CVE', sortable: true, nowrap: true, cell: (f) => <ConsoleLink to={links.vulnerability(f.cveId)}>{f.cveId}</ConsoleLink> },
  { id: 'severity', header: 'Severity', sortable: true, descFirst: true, cell: (f) => <SeverityBadge severity={f.severity} /> },
  { id: 'cvss', header: 'CVSS', sortable: true, descFirst: true, numeric: true, cell: (f) => f.cvss?.toFixed(1) ?? '—' },
  { id: 'exploitability', header: 'Exploit', nowrap: true, cell: (f) => <ExploitBadge level={f.exploitability} /> },
  { id: 'update', header: 'Recommended update', cell: (f) => <UpdateLink update={f.recommendedUpdate} /> },
  { id: 'firstSeen', header: 'First seen', sortable: true, descFirst: true, nowrap: true, cell: (f) => day(f.firstSeen, '—') },
];

const useStyles = makeStyles({
  kpis: { display: 'grid', gridTemplateColumns: 'repeat(auto-fit, minmax(200px, 1fr))', gap: '16px' },
  big: { fontSize: tokens.fontSizeHero700, lineHeight: tokens.lineHeightHero700, fontWeight: tokens.fontWeightSemibold, fontVariantNumeric: 'tabular-nums' },
  sub: { color: tokens.colorNeutralForeground3 },
});

/** Versions as people read them: 10.2 before 10.10. */
function compareVersions(a: string, b: string): number {
  return a.localeCompare(b, undefined, { numeric: true });
}

export function SoftwarePage() {
  const { id = '' } = useParams();
  return <SoftwareDetailPage key={id} id={id} />;
}

function SoftwareDetailPage({ id }: { id: string }) {
  const styles = useStyles();
  const connections = useConnections();
  const params = useAddressParams(['connectionId', 'softwareVersion']);
  const connectionId = params.filters.connectionId ?? '';
  const software = useResource<SoftwareDetail>(`/api/v1/software/${encodeURIComponent(id)}${connectionId ? `?connectionId=${encodeURIComponent(connectionId)}` : ''}`);
  const findings = useApiList({
    path: '/api/v1/findings',
    filters: ['connectionId', 'softwareVersion', 'severity', 'rbacGroup', 'osPlatform', 'q'],
    fixed: { softwareId: id, status: 'open' },
    pageSize: 25,
    csv: true,
  });
  const facets = useFacets(connectionId);
  const navigate = useNavigate();
  const s = software.data;
  const versions = s ? [...s.versions].sort((a, b) => compareVersions(b.version, a.version)) : null;
  const versionList = useLocalList(versions, { pageSize: 25 });
  const [vendor, name] = id.split('-_-');

  const columns: ListColumn<Version>[] = [
    {
      id: 'version', header: 'Version',
      cell: (v) => <Text font="monospace" weight={params.filters.softwareVersion === v.version ? 'semibold' : 'regular'}>{v.version}</Text>,
    },
    { id: 'exposed', header: 'Exposure', cell: (v) => (v.exposed ? <Badge appearance="tint" color="danger">Exposed</Badge> : <Badge appearance="tint" color="success">Not exposed</Badge>) },
    { id: 'severity', header: 'Open findings by severity', cell: (v) => <SeverityCounts counts={v.bySeverity} /> },
    { id: 'cves', header: 'CVEs', numeric: true, cell: (v) => v.cves.toLocaleString() },
    { id: 'openFindings', header: 'Open findings', numeric: true, cell: (v) => v.openFindings.toLocaleString() },
    { id: 'exposedDevices', header: 'Exposed devices', numeric: true, cell: (v) => v.exposedDevices.toLocaleString() },
  ];

  let body;
  if (software.problem && !s) body = <ProblemBar problem={software.problem} action={<ToolbarButton onClick={software.reload}>Try again</ToolbarButton>} />;
  else if (!s) body = <LoadingBlock label="Loading the software…" lines={5} />;
  else {
    const exposed = s.versions.filter((v) => v.exposed).length;
    body = (
      <>
        <div className={styles.kpis}>
          <Tile title="Open findings"><Text className={styles.big}>{count(s.openFindings)}</Text></Tile>
          <Tile title="Versions" testId="software-versions-count">
            <Text className={styles.big}>{count(s.versions.length)}</Text>
            <Text className={styles.sub}>{exposed.toLocaleString()} of them exposed</Text>
          </Tile>
        </div>
        <Tile title="Versions">
          <DataList
            list={versionList}
            columns={columns}
            label="Versions"
            noun={['version', 'versions']}
            rowId={(v) => v.version}
            empty="No versions on your devices."
            selectedId={params.filters.softwareVersion ?? null}
            onSelect={(v) => params.setFilter('softwareVersion', params.filters.softwareVersion === v.version ? '' : v.version)}
            rowTitle={() => 'Show the devices with this version'}
          />
        </Tile>
      </>
    );
  }

  return (
    <Page
      title={s ? `${s.vendor} ${s.name}` : `${vendor ?? ''} ${name ?? id}`}
      label={s?.name ?? name ?? id}
      trail={[['/software', 'Software']]}
      commands={<ToolbarButton icon={<ArrowClockwiseRegular />} onClick={() => { software.reload(); void findings.reload(); }}>Refresh</ToolbarButton>}
      description="Every version of this product on your devices; choose one to see its open findings."
    >
      <FilterBar>
        <ConnectionFilter list={params} connections={connections} />
      </FilterBar>
      {body}
      <Tile title="Open findings" testId="software-findings" action={<ExportCsvButton list={findings} />}>
        <FilterBar>
          <ChoiceFilter
            list={params}
            name="softwareVersion"
            label="Version"
            all="All versions"
            options={(versions ?? []).map((v) => ({ value: v.version, label: v.version }))}
          />
          <ChoiceFilter list={findings} name="severity" label="Severity" all="All severities" options={SEVERITY_OPTIONS} multiple />
          <RbacGroupFilter list={findings} facets={facets} />
          <OsPlatformFilter list={findings} facets={facets} />
          <TextFilter list={findings} name="q" label="Search findings" placeholder="Device or CVE" />
        </FilterBar>
        <DataList
          list={findings}
          columns={FINDING_COLUMNS}
          label="Open findings"
          noun={['open finding', 'open findings']}
          rowId={(f) => f.id}
          empty="No open findings in this software."
          onOpen={(f) => navigate(links.device(f.deviceId, f.connectionId))}
          openOnClick
        />
      </Tile>
    </Page>
  );
}
