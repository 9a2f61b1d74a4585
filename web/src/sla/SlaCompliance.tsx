// SLA compliance: how many open findings are within their window, approaching their due date or
// overdue, per connection and RBAC group and per severity, with the findings an active exception
// covers left out; compliance over time and the mean time to remediate. Each count of overdue
// findings opens the findings list filtered to them. The connection and the period are in the address.

import { Badge, ProgressBar, Tab, TabList, Text, ToolbarButton, makeStyles, tokens } from '@fluentui/react-components';
import { ArrowClockwiseRegular } from '@fluentui/react-icons';
import { useNavigate } from 'react-router';
import { useConnections } from '../shared/connections';
import { ConsoleLink, LoadingBlock, NoData, SEVERITIES, SEVERITY_CHART_COLORS, count, useAddressParams, useResource } from '../shared/exposure';
import { DataList, type ListColumn } from '../shared/list/DataList';
import { ConnectionFilter, FilterBar } from '../shared/list/filters';
import { useLocalList } from '../shared/list/useList';
import { Page, Tile } from '../shared/Page';
import { ProblemBar } from '../shared/problems';
import { ComplianceChart } from './ComplianceChart';
import type { SlaConnection, SlaCounts, SlaGroup, SlaSummary } from './types';

const PERIODS = [{ days: '30', label: '30 days' }, { days: '90', label: '90 days' }, { days: '365', label: '365 days' }];
type SeverityKey = 'critical' | 'high' | 'medium' | 'low';
const KEYS: SeverityKey[] = ['critical', 'high', 'medium', 'low'];

const useStyles = makeStyles({
  kpis: { display: 'grid', gridTemplateColumns: 'repeat(auto-fit, minmax(280px, 1fr))', gap: '16px' },
  big: { fontSize: tokens.fontSizeHero800, lineHeight: tokens.lineHeightHero800, fontWeight: tokens.fontWeightSemibold, fontVariantNumeric: 'tabular-nums' },
  sub: { color: tokens.colorNeutralForeground3 },
  rows: { display: 'grid', gridTemplateColumns: 'max-content 1fr max-content', alignItems: 'center', columnGap: '12px', rowGap: '6px' },
  states: { display: 'grid', gridTemplateColumns: 'repeat(4, max-content)', columnGap: '20px', rowGap: '2px' },
  stack: { display: 'flex', height: '10px', borderRadius: tokens.borderRadiusSmall, overflow: 'hidden', backgroundColor: tokens.colorNeutralBackground3 },
  number: { textAlign: 'right', fontVariantNumeric: 'tabular-nums' },
  overdue: { color: tokens.colorPaletteRedForeground1 },
  approaching: { color: tokens.colorPaletteDarkOrangeForeground1 },
  within: { color: tokens.colorPaletteGreenForeground1 },
  cell: { whiteSpace: 'nowrap', fontVariantNumeric: 'tabular-nums' },
});

const STATE_COLORS = { within: tokens.colorPaletteGreenBackground3, approaching: tokens.colorPaletteDarkOrangeBackground3, overdue: tokens.colorPaletteRedBackground3 };

/** The findings list of the overdue findings of a connection, RBAC group (by its name, as the list filters) and severity. */
function overdueLink({ connectionId, rbacGroup, severity, states = 'overdue' }: { connectionId?: string; rbacGroup?: string | null; severity?: string; states?: string }): string {
  const query = new URLSearchParams({ status: 'open', slaState: states });
  if (connectionId) query.set('connectionId', connectionId);
  if (rbacGroup) query.set('rbacGroup', rbacGroup);
  if (severity) query.set('severity', severity);
  return `/findings?${query.toString()}`;
}

function percent(value: number | null): string {
  return value === null ? '—' : `${value.toFixed(1)}%`;
}

function ComplianceBadge({ value }: { value: number | null }) {
  if (value === null) return <Text size={200}>—</Text>;
  const color = value >= 95 ? 'success' : value >= 80 ? 'warning' : 'danger';
  return <Badge appearance="tint" color={color}>{percent(value)}</Badge>;
}

/** Within, approaching and overdue as one bar. */
function StateBar({ counts }: { counts: SlaCounts }) {
  const styles = useStyles();
  const total = Math.max(1, counts.counted);
  return (
    <div className={styles.stack} aria-hidden>
      {(['within', 'approaching', 'overdue'] as const).map((s) => <div key={s} style={{ width: `${(100 * counts[s]) / total}%`, backgroundColor: STATE_COLORS[s] }} />)}
    </div>
  );
}

function ComplianceTile({ summary, connectionId }: { summary: SlaSummary; connectionId: string }) {
  const styles = useStyles();
  const t = summary.totals;
  return (
    <Tile title="Compliance" caption="Open findings not overdue, of those counted" testId="kpi-compliance">
      <Text className={styles.big} data-testid="compliance">{percent(t.compliance)}</Text>
      <StateBar counts={t} />
      <div className={styles.states}>
        <Text className={styles.within}>Within</Text>
        <Text className={styles.approaching}>Approaching</Text>
        <Text className={styles.overdue}>Overdue</Text>
        <Text className={styles.sub}>Excepted</Text>
        <ConsoleLink to={overdueLink({ connectionId, states: 'within' })}><span data-testid="within">{count(t.within)}</span></ConsoleLink>
        <ConsoleLink to={overdueLink({ connectionId, states: 'approaching' })}>{count(t.approaching)}</ConsoleLink>
        <ConsoleLink to={overdueLink({ connectionId })}><span data-testid="overdue">{count(t.overdue)}</span></ConsoleLink>
        <ConsoleLink to={overdueLink({ connectionId, states: 'excepted' })}><span data-testid="excepted">{count(t.excepted)}</span></ConsoleLink>
      </div>
    </Tile>
  );
}

function OverdueTile({ summary, connectionId }: { summary: SlaSummary; connectionId: string }) {
  const styles = useStyles();
  const max = Math.max(1, ...KEYS.map((k) => summary.totals.bySeverity[k].overdue));
  return (
    <Tile title="Overdue by severity" caption={`Due ${KEYS.map((k, i) => `${SEVERITIES[i]} ${summary.windows[k]} d`).join(', ')} after first seen, or CISA's KEV date`} testId="kpi-overdue">
      <div className={styles.rows}>
        {SEVERITIES.map((s, i) => {
          const n = summary.totals.bySeverity[KEYS[i]].overdue;
          return (
            <div key={s} style={{ display: 'contents' }}>
              <ConsoleLink to={overdueLink({ connectionId, severity: s })} title={`Overdue ${s} findings`}>{s}</ConsoleLink>
              <div className={styles.stack} aria-hidden><div style={{ width: `${(100 * n) / max}%`, backgroundColor: SEVERITY_CHART_COLORS[s] }} /></div>
              <Text className={styles.number}>{n.toLocaleString()}</Text>
            </div>
          );
        })}
      </div>
    </Tile>
  );
}

function RemediationTimeTile({ summary, days }: { summary: SlaSummary; days: string }) {
  const styles = useStyles();
  const m = summary.meanTimeToRemediate;
  const text = (d: number | null) => (d === null ? '—' : `${d.toFixed(1)} d`);
  return (
    <Tile title="Mean time to remediate" caption={`First seen to fixed, findings fixed in the last ${days} days`} testId="kpi-mttr">
      <Text className={styles.big}>{text(m.all.days)}</Text>
      <div className={styles.rows}>
        {SEVERITIES.map((s, i) => (
          <div key={s} style={{ display: 'contents' }}>
            <Text>{s}</Text>
            <Text className={styles.sub}>{m[KEYS[i]].fixed.toLocaleString()} fixed</Text>
            <Text className={styles.number}>{text(m[KEYS[i]].days)}</Text>
          </div>
        ))}
      </div>
    </Tile>
  );
}

/** "overdue / counted" per severity, the overdue count linked. */
function severityColumns<Row extends { bySeverity: Record<SeverityKey, SlaCounts> }>(link: (row: Row, severity: string) => string): ListColumn<Row>[] {
  return SEVERITIES.map((s, i) => ({
    id: KEYS[i], header: s, numeric: true,
    cell: (row: Row) => {
      const c = row.bySeverity[KEYS[i]];
      return <span title={`${c.overdue} overdue, ${c.approaching} approaching, ${c.within} within, ${c.excepted} excepted`}>
        {c.overdue ? <ConsoleLink to={link(row, s)}>{c.overdue.toLocaleString()}</ConsoleLink> : '0'} / {c.counted.toLocaleString()}
      </span>;
    },
  }));
}

function countColumns<Row extends SlaCounts>(link: (row: Row) => string): ListColumn<Row>[] {
  return [
    { id: 'compliance', header: 'Compliance', cell: (r) => <ComplianceBadge value={r.compliance} /> },
    { id: 'state', header: 'Within · approaching · overdue', cell: (r) => <StateBar counts={r} /> },
    { id: 'counted', header: 'Counted', numeric: true, cell: (r) => r.counted.toLocaleString() },
    { id: 'overdue', header: 'Overdue', numeric: true, cell: (r) => (r.overdue ? <ConsoleLink to={link(r)}>{r.overdue.toLocaleString()}</ConsoleLink> : '0') },
    { id: 'approaching', header: 'Approaching', numeric: true, cell: (r) => r.approaching.toLocaleString() },
    { id: 'excepted', header: 'Excepted', numeric: true, cell: (r) => r.excepted.toLocaleString() },
  ];
}

function ConnectionList({ items }: { items: SlaConnection[] }) {
  const list = useLocalList(items);
  const navigate = useNavigate();
  const columns: ListColumn<SlaConnection>[] = [
    { id: 'name', header: 'Connection', cell: (c) => <ConsoleLink to={`/sla?connectionId=${encodeURIComponent(c.connectionId)}`}>{c.name}</ConsoleLink> },
    ...countColumns<SlaConnection>((c) => overdueLink({ connectionId: c.connectionId })),
    ...severityColumns<SlaConnection>((c, s) => overdueLink({ connectionId: c.connectionId, severity: s })),
  ];
  return <DataList list={list} columns={columns} label="Compliance per connection" noun={['connection', 'connections']} rowId={(c) => c.connectionId}
    empty="No connection has synced yet." onOpen={(c) => navigate(`/sla?connectionId=${encodeURIComponent(c.connectionId)}`)} />;
}

type GroupRow = SlaGroup & { connectionId: string; connectionName: string };

function GroupList({ items, showConnection }: { items: GroupRow[]; showConnection: boolean }) {
  const list = useLocalList(items, { pageSize: 50 });
  const navigate = useNavigate();
  const link = (g: GroupRow, severity?: string) => overdueLink({ connectionId: g.connectionId, rbacGroup: g.name, severity });
  const columns: ListColumn<GroupRow>[] = [
    {
      id: 'name', header: 'Device group',
      cell: (g) => <>{g.name ?? 'No device group'}{showConnection && <><br /><Text size={200}>{g.connectionName}</Text></>}</>,
    },
    ...countColumns<GroupRow>((g) => link(g)),
    ...severityColumns<GroupRow>((g, s) => link(g, s)),
  ];
  return <DataList list={list} columns={columns} label="Compliance per device group" noun={['device group', 'device groups']}
    rowId={(g) => `${g.connectionId}/${g.rbacGroupId}`} empty="No open findings." onOpen={(g) => navigate(link(g))} />;
}

export function SlaCompliance() {
  const styles = useStyles();
  const connections = useConnections();
  const params = useAddressParams(['connectionId', 'days']);
  const connectionId = params.filters.connectionId ?? '';
  const days = PERIODS.some((p) => p.days === params.filters.days) ? params.filters.days : '30';
  const summary = useResource<SlaSummary>(`/api/v1/sla?days=${days}${connectionId ? `&connectionId=${encodeURIComponent(connectionId)}` : ''}`);

  const s = summary.data;
  let body;
  if (connections?.length === 0) body = <NoData connections={connections} what="SLA figures" />;
  else if (summary.problem && !s) body = <ProblemBar problem={summary.problem} action={<ToolbarButton onClick={summary.reload}>Try again</ToolbarButton>} />;
  else if (!s) body = <LoadingBlock label="Loading the SLA figures…" lines={6} />;
  else {
    const groups: GroupRow[] = s.connections.flatMap((c) => c.rbacGroups.map((g) => ({ ...g, connectionId: c.connectionId, connectionName: c.name })))
      .filter((g) => g.counted + g.excepted > 0);
    body = (
      <>
        <ProblemBar problem={summary.problem} />
        <div className={styles.kpis}>
          <ComplianceTile summary={s} connectionId={connectionId} />
          <OverdueTile summary={s} connectionId={connectionId} />
          <RemediationTimeTile summary={s} days={days} />
        </div>
        <Tile
          title="Compliance over time"
          testId="sla-trend"
          action={(
            <TabList size="small" selectedValue={days} onTabSelect={(_, d) => params.setFilter('days', d.value === '30' ? '' : String(d.value))} aria-label="Period">
              {PERIODS.map((p) => <Tab key={p.days} value={p.days}>{p.label}</Tab>)}
            </TabList>
          )}
        >
          <Text size={200} className={styles.sub}>After each day's last sync (exceptions are left out of today's figures only).</Text>
          <ComplianceChart points={s.trend} />
        </Tile>
        {s.connections.length > 1 || !connectionId ? (
          <Tile title="Per connection" testId="sla-connections"><ConnectionList items={s.connections} /></Tile>
        ) : null}
        <Tile title="Per device group" caption="Overdue / counted open findings per severity; the least compliant first" testId="sla-groups">
          <GroupList items={groups} showConnection={!connectionId && s.connections.length > 1} />
        </Tile>
      </>
    );
  }

  return (
    <Page
      title="SLA compliance"
      label="SLA compliance"
      commands={<ToolbarButton icon={<ArrowClockwiseRegular />} onClick={summary.reload}>Refresh</ToolbarButton>}
      description={s ? `As of ${s.asOf} (UTC). A finding is due ${KEYS.map((k, i) => `${s.windows[k]} days (${SEVERITIES[i]})`).join(', ')} after it was first seen, or on CISA's KEV due date when sooner; approaching once 80% of that time has passed. Findings an active exception covers are left out.` : 'Open findings within, approaching and past their due dates.'}
    >
      <FilterBar>
        <ConnectionFilter list={params} connections={connections} />
      </FilterBar>
      {summary.loading && s && <ProgressBar thickness="medium" aria-label="Loading the SLA figures…" />}
      {body}
    </Page>
  );
}
