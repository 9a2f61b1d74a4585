// Overview: the page admins open every morning, laid out like Defender's vulnerability management
// dashboard. Open findings by severity and their trend, exposed devices, exploitable CVEs, the last
// seven days, the ten CVEs, software versions and devices with the most exposure, and how fresh
// each connection's copy is. The connection and the period are in the address.

import {
  Link, ProgressBar, Tab, TabList, Text, ToolbarButton, makeStyles, tokens,
} from '@fluentui/react-components';
import { ArrowClockwiseRegular, ArrowTrendingDownRegular, ArrowTrendingRegular } from '@fluentui/react-icons';
import { useNavigate } from 'react-router';
import { useConnections } from '../shared/connections';
import {
  ConsoleLink, FreshnessBadge, LoadingBlock, NoData, SEVERITIES, SEVERITY_CHART_COLORS, SeverityBadge, count, dataAgeText, links,
  nextSyncText, severityCount, useAddressParams, useResource,
} from '../shared/exposure';
import type { ExposureSummary, Freshness, Trend, TrendPoint } from '../shared/exposure-types';
import { Measured } from '../shared/charts';
import { GroupedVerticalBarChart, type GroupedVerticalBarChartData } from '@fluentui/react-charts';
import { when } from '../shared/format';
import { useRouterLink } from '../shared/links';
import { DataList, type ListColumn } from '../shared/list/DataList';
import { ConnectionFilter, FilterBar } from '../shared/list/filters';
import { useLocalList } from '../shared/list/useList';
import { Page, Tile } from '../shared/Page';
import { ProblemBar } from '../shared/problems';
import { TrendChart } from './TrendChart';

type ExposureSummaryView = ExposureSummary;
type CveSummary = ExposureSummary['topCves'][number];
type SoftwareSummaryRow = ExposureSummary['topSoftware'][number];
type DeviceSummaryRow = ExposureSummary['topDevices'][number];

const PERIODS = [{ days: '30', label: '30 days' }, { days: '90', label: '90 days' }, { days: '365', label: '365 days' }];

const useStyles = makeStyles({
  kpis: { display: 'grid', gridTemplateColumns: 'repeat(auto-fit, minmax(260px, 1fr))', gap: '16px' },
  tops: { display: 'grid', gridTemplateColumns: 'repeat(auto-fit, minmax(400px, 1fr))', gap: '16px', alignItems: 'start' },
  big: { fontSize: tokens.fontSizeHero800, lineHeight: tokens.lineHeightHero800, fontWeight: tokens.fontWeightSemibold, fontVariantNumeric: 'tabular-nums' },
  sub: { color: tokens.colorNeutralForeground3 },
  rows: { display: 'grid', gridTemplateColumns: 'max-content 1fr max-content', alignItems: 'center', columnGap: '12px', rowGap: '6px' },
  bar: { height: '8px', borderRadius: tokens.borderRadiusSmall, backgroundColor: tokens.colorNeutralBackground3, overflow: 'hidden' },
  fill: { height: '100%' },
  number: { textAlign: 'right', fontVariantNumeric: 'tabular-nums' },
  pair: { display: 'flex', gap: '32px' },
  opened: { color: tokens.colorPaletteRedForeground1 },
  fixed: { color: tokens.colorPaletteGreenForeground1 },
  delta: { display: 'flex', alignItems: 'center', gap: '4px' },
  more: { alignSelf: 'flex-start' },
  // Long device names (FQDNs) end in an ellipsis rather than widen the card; the full name is the title.
  truncate: { display: 'block', maxWidth: '210px', overflow: 'hidden', textOverflow: 'ellipsis', whiteSpace: 'nowrap' },
});

function SeverityTile({ summary, connectionQuery }: { summary: ExposureSummaryView; connectionQuery: string }) {
  const styles = useStyles();
  const max = Math.max(1, ...SEVERITIES.map((s) => severityCount(summary.bySeverity, s)));
  return (
    <Tile title="Open findings" testId="kpi-open-findings">
      <Text className={styles.big}>{count(summary.openFindings)}</Text>
      <div className={styles.rows}>
        {SEVERITIES.map((s) => {
          const n = severityCount(summary.bySeverity, s);
          return (
            <div key={s} style={{ display: 'contents' }}>
              <ConsoleLink to={`/vulnerabilities?severity=${s}${connectionQuery}`} title={`${s} vulnerabilities`}>{s}</ConsoleLink>
              <div className={styles.bar} aria-hidden><div className={styles.fill} style={{ width: `${(100 * n) / max}%`, backgroundColor: SEVERITY_CHART_COLORS[s] }} /></div>
              <Text className={styles.number}>{n.toLocaleString()}</Text>
            </div>
          );
        })}
      </div>
    </Tile>
  );
}

function DevicesTile({ summary, connectionQuery }: { summary: ExposureSummaryView; connectionQuery: string }) {
  const styles = useStyles();
  const share = summary.devices ? summary.exposedDevices / summary.devices : 0;
  return (
    <Tile title="Exposed devices" testId="kpi-exposed-devices">
      <Text className={styles.big}>{count(summary.exposedDevices)}</Text>
      <Text className={styles.sub}>of {count(summary.devices)} devices ({Math.round(share * 100)}%) have at least one open finding</Text>
      <ProgressBar value={share} thickness="large" color={share > 0.5 ? 'error' : 'warning'} aria-label="Share of devices exposed" />
      <ConsoleLink to={`/devices?status=exposed${connectionQuery}`}>Exposed devices</ConsoleLink>
    </Tile>
  );
}

function ExploitTile({ summary, connectionQuery }: { summary: ExposureSummaryView; connectionQuery: string }) {
  const styles = useStyles();
  const rows: [string, string, number][] = [
    ['inKit', 'In an exploit kit', summary.exploitableCves.inKit],
    ['verified', 'Verified exploit', summary.exploitableCves.verified],
    ['public', 'Public exploit', summary.exploitableCves.public],
  ];
  const max = Math.max(1, ...rows.map((r) => r[2]));
  return (
    <Tile title="Exploitable vulnerabilities" testId="kpi-exploitable">
      <Text className={styles.big}>{count(summary.exploitableCves.any)}</Text>
      <Text className={styles.sub}>of {count(summary.exposedCves)} CVEs on exposed devices have a known exploit</Text>
      <div className={styles.rows}>
        {rows.map(([level, label, n]) => (
          <div key={level} style={{ display: 'contents' }}>
            <ConsoleLink to={`/vulnerabilities?exploit=${level}${connectionQuery}`}>{label}</ConsoleLink>
            <div className={styles.bar} aria-hidden><div className={styles.fill} style={{ width: `${(100 * n) / max}%`, backgroundColor: tokens.colorPaletteDarkOrangeBackground3 }} /></div>
            <Text className={styles.number}>{n.toLocaleString()}</Text>
          </div>
        ))}
      </div>
    </Tile>
  );
}

/** Findings opened and fixed on each of the last seven days of the trend. */
function WeekChart({ points }: { points: TrendPoint[] }) {
  const days = points.slice(-7);
  if (days.length === 0) return null;
  const data: GroupedVerticalBarChartData[] = days.map((p) => ({
    name: new Date(`${p.day}T00:00:00Z`).toLocaleDateString(undefined, { weekday: 'short', timeZone: 'UTC' }),
    series: [
      { key: 'opened', data: p.opened, legend: 'Opened', color: WEEK_COLORS.opened },
      { key: 'fixed', data: p.fixed, legend: 'Fixed', color: WEEK_COLORS.fixed },
    ],
  }));
  return (
    <Measured height={130} testId="week-chart">
      {(width) => <GroupedVerticalBarChart data={data} width={width} height={130} hideLegend hideLabels barWidth="auto" maxBarWidth={10} yAxisTickCount={3} />}
    </Measured>
  );
}

const WEEK_COLORS = { opened: '#d13438', fixed: '#107c10' };

function WeekTile({ summary, points }: { summary: ExposureSummaryView; points: TrendPoint[] | null }) {
  const styles = useStyles();
  const { opened, fixed } = summary.last7Days;
  const net = opened - fixed;
  return (
    <Tile title="Last 7 days" testId="kpi-last-7-days">
      <div className={styles.pair}>
        <div>
          <Text className={`${styles.big} ${styles.opened}`} data-testid="opened-7d">{count(opened)}</Text>
          <div className={styles.delta}><ArrowTrendingRegular /><Text>opened</Text></div>
        </div>
        <div>
          <Text className={`${styles.big} ${styles.fixed}`} data-testid="fixed-7d">{count(fixed)}</Text>
          <div className={styles.delta}><ArrowTrendingDownRegular /><Text>fixed</Text></div>
        </div>
      </div>
      <Text className={styles.sub}>
        {net === 0 ? 'As many findings fixed as opened.' : net > 0 ? `${net.toLocaleString()} more opened than fixed.` : `${(-net).toLocaleString()} more fixed than opened.`}
      </Text>
      {points && <WeekChart points={points} />}
    </Tile>
  );
}

function TopCves({ items, connectionId }: { items: CveSummary[]; connectionId: string }) {
  const list = useLocalList(items);
  const columns: ListColumn<CveSummary>[] = [
    { id: 'id', header: 'CVE', nowrap: true, cell: (c) => <ConsoleLink to={links.vulnerability(c.id, connectionId)}>{c.id}</ConsoleLink> },
    { id: 'severity', header: 'Severity', cell: (c) => <SeverityBadge severity={c.severity} /> },
    { id: 'cvss', header: 'CVSS', numeric: true, cell: (c) => c.cvss?.toFixed(1) ?? '—' },
    { id: 'exposedDevices', header: 'Exposed devices', numeric: true, cell: (c) => c.exposedDevices.toLocaleString() },
  ];
  return <TopList list={list} columns={columns} label="Top vulnerabilities" noun={['vulnerability', 'vulnerabilities']} rowId={(c) => c.id} open={(c) => links.vulnerability(c.id, connectionId)} />;
}

function TopSoftware({ items, connectionId }: { items: SoftwareSummaryRow[]; connectionId: string }) {
  const list = useLocalList(items);
  const columns: ListColumn<SoftwareSummaryRow>[] = [
    { id: 'name', header: 'Software', cell: (s) => <><ConsoleLink to={links.software(s.id, connectionId, s.version)}>{s.name}</ConsoleLink> <Text size={200}>{s.version}</Text><br /><Text size={200}>{s.vendor}</Text></> },
    { id: 'cves', header: 'CVEs', numeric: true, cell: (s) => s.cves.toLocaleString() },
    { id: 'exposedDevices', header: 'Exposed devices', numeric: true, cell: (s) => s.exposedDevices.toLocaleString() },
  ];
  return <TopList list={list} columns={columns} label="Top vulnerable software" noun={['software version', 'software versions']} rowId={(s) => `${s.id}@${s.version}`} open={(s) => links.software(s.id, connectionId, s.version)} />;
}

function TopDevices({ items }: { items: DeviceSummaryRow[] }) {
  const styles = useStyles();
  const list = useLocalList(items);
  const columns: ListColumn<DeviceSummaryRow>[] = [
    {
      id: 'name', header: 'Device',
      cell: (d) => <span className={styles.truncate} title={d.name ?? d.id}><ConsoleLink to={links.device(d.id, d.connectionId)}>{d.name ?? d.id}</ConsoleLink><br /><Text size={200}>{d.osPlatform ?? ''}</Text></span>,
    },
    { id: 'critical', header: 'Critical', numeric: true, cell: (d) => d.bySeverity.critical.toLocaleString() },
    { id: 'high', header: 'High', numeric: true, cell: (d) => d.bySeverity.high.toLocaleString() },
    { id: 'openFindings', header: 'Open findings', numeric: true, cell: (d) => d.openFindings.toLocaleString() },
  ];
  return <TopList list={list} columns={columns} label="Top exposed devices" noun={['device', 'devices']} rowId={(d) => `${d.connectionId}/${d.id}`} open={(d) => links.device(d.id, d.connectionId)} />;
}

function TopList<Row>({ list, columns, label, noun, rowId, open }: {
  list: ReturnType<typeof useLocalList<Row>>;
  columns: ListColumn<Row>[];
  label: string;
  noun: [string, string];
  rowId: (row: Row) => string;
  open: (row: Row) => string;
}) {
  const navigate = useNavigate();
  return <DataList list={list} columns={columns} label={label} noun={noun} rowId={rowId} empty={`No exposed ${noun[1]}.`} onOpen={(r) => navigate(open(r))} openOnClick />;
}

function FreshnessList({ items }: { items: Freshness[] }) {
  const list = useLocalList(items);
  const navigate = useNavigate();
  const columns: ListColumn<Freshness>[] = [
    { id: 'name', header: 'Connection', cell: (f) => <ConsoleLink to={links.overview(f.connectionId)}>{f.name}</ConsoleLink> },
    { id: 'status', header: 'Freshness', cell: (f) => <FreshnessBadge freshness={f} /> },
    { id: 'lastSuccessfulSync', header: 'Last successful sync', nowrap: true, cell: (f) => when(f.lastSuccessfulSync) },
    { id: 'age', header: 'Data age', nowrap: true, cell: (f) => dataAgeText(f) },
    { id: 'dataTime', header: 'Data as of', nowrap: true, cell: (f) => when(f.dataTime, '—') },
    { id: 'nextSyncAt', header: 'Next sync', nowrap: true, cell: (f) => nextSyncText(f.nextSyncAt) },
    { id: 'interval', header: 'Sync interval', nowrap: true, cell: (f) => `Every ${f.syncIntervalMinutes >= 60 && f.syncIntervalMinutes % 60 === 0 ? `${f.syncIntervalMinutes / 60} hours` : `${f.syncIntervalMinutes} minutes`}` },
  ];
  return <DataList list={list} columns={columns} label="Data freshness" noun={['connection', 'connections']} rowId={(f) => f.connectionId} empty="No connections." onOpen={(f) => navigate(links.overview(f.connectionId))} openOnClick />;
}

export function Overview() {
  const styles = useStyles();
  const connections = useConnections();
  const params = useAddressParams(['connectionId', 'days']);
  const connectionId = params.filters.connectionId ?? '';
  const days = PERIODS.some((p) => p.days === params.filters.days) ? params.filters.days : '30';
  const connectionQuery = connectionId ? `&connectionId=${encodeURIComponent(connectionId)}` : '';
  const summary = useResource<ExposureSummaryView>(`/api/v1/exposure/summary${connectionId ? `?connectionId=${encodeURIComponent(connectionId)}` : ''}`);
  const trend = useResource<Trend>(`/api/v1/exposure/trend?days=${days}${connectionQuery}`);
  const tenants = useRouterLink('/tenants');

  const s = summary.data;
  let body;
  if (connections?.length === 0) body = <NoData connections={connections} what="exposure data" />;
  else if (summary.problem && !s) body = <ProblemBar problem={summary.problem} action={<ToolbarButton onClick={summary.reload}>Try again</ToolbarButton>} />;
  else if (!s) body = <LoadingBlock label="Loading the overview…" lines={6} />;
  else {
    body = (
      <>
        <ProblemBar problem={summary.problem} />
        {s.devices === 0 && <NoData connections={connections} what="exposure data" />}
        <div className={styles.kpis}>
          <SeverityTile summary={s} connectionQuery={connectionQuery} />
          <DevicesTile summary={s} connectionQuery={connectionQuery} />
          <ExploitTile summary={s} connectionQuery={connectionQuery} />
          <WeekTile summary={s} points={trend.data?.points ?? null} />
        </div>
        <Tile
          title="Open findings over time"
          testId="trend"
          action={(
            <TabList size="small" selectedValue={days} onTabSelect={(_, d) => params.setFilter('days', d.value === '30' ? '' : String(d.value))} aria-label="Period">
              {PERIODS.map((p) => <Tab key={p.days} value={p.days}>{p.label}</Tab>)}
            </TabList>
          )}
        >
          {trend.problem ? <ProblemBar problem={trend.problem} /> : trend.data ? <TrendChart points={trend.data.points} /> : <LoadingBlock label="Loading the trend…" />}
        </Tile>
        <div className={styles.tops}>
          <Tile title="Top vulnerabilities" action={<ConsoleLink to={`/vulnerabilities${connectionQuery.replace('&', '?')}`}>See all</ConsoleLink>}>
            <TopCves items={s.topCves} connectionId={connectionId} />
          </Tile>
          <Tile title="Top vulnerable software" action={<ConsoleLink to={`/software${connectionQuery.replace('&', '?')}`}>See all</ConsoleLink>}>
            <TopSoftware items={s.topSoftware} connectionId={connectionId} />
          </Tile>
          <Tile title="Top exposed devices" action={<ConsoleLink to={`/devices${connectionQuery.replace('&', '?')}`}>See all</ConsoleLink>}>
            <TopDevices items={s.topDevices} />
          </Tile>
        </div>
        <Tile title="Data freshness" testId="freshness" action={<Link {...tenants}>Tenants</Link>}>
          <FreshnessList items={s.connections} />
        </Tile>
      </>
    );
  }

  return (
    <Page
      title="Overview"
      label="Overview"
      commands={<ToolbarButton icon={<ArrowClockwiseRegular />} onClick={() => { summary.reload(); trend.reload(); }}>Refresh</ToolbarButton>}
      description={connectionId ? 'Exposure of one connection.' : 'Exposure across every connection you may see.'}
    >
      <FilterBar>
        <ConnectionFilter list={params} connections={connections} />
      </FilterBar>
      {(summary.loading || trend.loading) && s && <ProgressBar thickness="medium" aria-label="Loading the overview…" />}
      {body}
    </Page>
  );
}
