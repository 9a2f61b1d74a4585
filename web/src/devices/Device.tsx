// The device page: what the device is (OS, group, last seen), its open findings grouped by the
// software they are in, each with the update Defender recommends, and its fixed history.

import {
  Accordion, AccordionHeader, AccordionItem, AccordionPanel, Badge, Text, ToolbarButton, makeStyles, tokens,
} from '@fluentui/react-components';
import { ArrowClockwiseRegular, BugRegular } from '@fluentui/react-icons';
import { useParams } from 'react-router';
import { useConnections } from '../shared/connections';
import {
  ConsoleLink, ExploitBadge, Facts, LoadingBlock, SeverityBadge, SeverityCounts, UpdateLink, count, links, useAddressParams, useResource,
} from '../shared/exposure';
import type { DeviceDetail, DeviceFinding } from '../shared/exposure-types';
import { day, when } from '../shared/format';
import { useRouterLink } from '../shared/links';
import { DataList, type ListColumn } from '../shared/list/DataList';
import { useLocalList } from '../shared/list/useList';
import { Page, Tile } from '../shared/Page';
import { ProblemBar } from '../shared/problems';

type SoftwareGroup = DeviceDetail['software'][number];
type FixedFinding = DeviceDetail['fixed'][number];

const SEVERITY_RANK: Record<string, number> = { Critical: 0, High: 1, Medium: 2, Low: 3 };

const useStyles = makeStyles({
  kpis: { display: 'grid', gridTemplateColumns: 'repeat(auto-fit, minmax(200px, 1fr))', gap: '16px' },
  big: { fontSize: tokens.fontSizeHero700, lineHeight: tokens.lineHeightHero700, fontWeight: tokens.fontWeightSemibold, fontVariantNumeric: 'tabular-nums' },
  sub: { color: tokens.colorNeutralForeground3 },
  columns: { display: 'grid', gridTemplateColumns: 'minmax(280px, 1fr) minmax(0, 3fr)', gap: '16px', alignItems: 'start' },
  group: { display: 'flex', alignItems: 'center', gap: '12px', flexWrap: 'wrap', width: '100%' },
  groupName: { fontWeight: tokens.fontWeightSemibold },
  groupUpdate: { color: tokens.colorNeutralForeground3, marginLeft: 'auto' },
  panel: { paddingBottom: '12px' },
});

/** The most severe first, then the highest score. */
function bySeverity(a: DeviceFinding, b: DeviceFinding): number {
  return (SEVERITY_RANK[a.severity ?? ''] ?? 9) - (SEVERITY_RANK[b.severity ?? ''] ?? 9) || (b.cvss ?? 0) - (a.cvss ?? 0) || a.cveId.localeCompare(b.cveId);
}

function counts(findings: DeviceFinding[]) {
  const c = { critical: 0, high: 0, medium: 0, low: 0 };
  for (const f of findings) {
    if (f.severity === 'Critical') c.critical++;
    else if (f.severity === 'High') c.high++;
    else if (f.severity === 'Medium') c.medium++;
    else if (f.severity === 'Low') c.low++;
  }
  return c;
}

const FINDING_COLUMNS: ListColumn<DeviceFinding>[] = [
  { id: 'cveId', header: 'CVE', nowrap: true, cell: (f) => <ConsoleLink to={links.vulnerability(f.cveId)}>{f.cveId}</ConsoleLink> },
  { id: 'severity', header: 'Severity', cell: (f) => <SeverityBadge severity={f.severity} /> },
  { id: 'cvss', header: 'CVSS', numeric: true, cell: (f) => f.cvss?.toFixed(1) ?? '—' },
  { id: 'exploitability', header: 'Exploit', nowrap: true, cell: (f) => <ExploitBadge level={f.exploitability} /> },
  { id: 'update', header: 'Recommended update', cell: (f) => <UpdateLink update={f.recommendedUpdate} /> },
  { id: 'firstSeen', header: 'First seen', nowrap: true, cell: (f) => day(f.firstSeen, '—') },
  { id: 'reopened', header: 'Reopened', cell: (f) => (f.reopened ? `${f.reopened}×` : '') },
];

function SoftwareFindings({ group }: { group: SoftwareGroup }) {
  const list = useLocalList([...group.findings].sort(bySeverity));
  return <DataList list={list} columns={FINDING_COLUMNS} label={`${group.name} ${group.version} findings`} noun={['finding', 'findings']} rowId={(f) => f.cveId} empty="No open findings." />;
}

/** The update most of a software's findings recommend (they usually share one). */
function mainUpdate(group: SoftwareGroup): DeviceFinding['recommendedUpdate'] | null {
  const tally = new Map<string, { update: DeviceFinding['recommendedUpdate']; n: number }>();
  for (const f of group.findings) {
    const key = f.recommendedUpdate.title ?? f.recommendedUpdate.id;
    if (!key) continue;
    const entry = tally.get(key) ?? { update: f.recommendedUpdate, n: 0 };
    entry.n++;
    tally.set(key, entry);
  }
  return [...tally.values()].sort((a, b) => b.n - a.n)[0]?.update ?? null;
}

function OpenBySoftware({ groups }: { groups: SoftwareGroup[] }) {
  const styles = useStyles();
  if (groups.length === 0) return <Text>No open findings: Defender reports nothing to fix on this device.</Text>;
  const sorted = [...groups].sort((a, b) => {
    const ca = counts(a.findings);
    const cb = counts(b.findings);
    return cb.critical - ca.critical || cb.high - ca.high || b.findings.length - a.findings.length || a.name.localeCompare(b.name);
  });
  const keys = sorted.map((g) => `${g.id}@${g.version}`);
  return (
    <Accordion multiple collapsible defaultOpenItems={keys.slice(0, 5)} data-testid="device-software">
      {sorted.map((g, i) => {
        const update = mainUpdate(g);
        return (
          <AccordionItem key={keys[i]} value={keys[i]}>
            <AccordionHeader size="large">
              <span className={styles.group}>
                <span className={styles.groupName}>{g.name} {g.version}</span>
                <Text size={200}>{g.vendor}</Text>
                <SeverityCounts counts={counts(g.findings)} />
                <Badge appearance="outline">{g.findings.length} CVE{g.findings.length === 1 ? '' : 's'}</Badge>
                {update && <Text size={200} className={styles.groupUpdate}>Recommended: {update.title ?? update.id}</Text>}
              </span>
            </AccordionHeader>
            <AccordionPanel className={styles.panel}>
              <Text size={200}>Software page: <ConsoleLink to={links.software(g.id)}>{g.vendor} {g.name}</ConsoleLink></Text>
              <SoftwareFindings group={g} />
            </AccordionPanel>
          </AccordionItem>
        );
      })}
    </Accordion>
  );
}

function FixedHistory({ items }: { items: FixedFinding[] }) {
  const list = useLocalList(items, { pageSize: 25 });
  const columns: ListColumn<FixedFinding>[] = [
    { id: 'fixedAt', header: 'Fixed at', nowrap: true, cell: (f) => when(f.fixedAt, '—') },
    { id: 'cveId', header: 'CVE', nowrap: true, cell: (f) => <ConsoleLink to={links.vulnerability(f.cveId)}>{f.cveId}</ConsoleLink> },
    { id: 'software', header: 'Software', cell: (f) => <>{f.software.name} {f.software.version}<br /><Text size={200}>{f.software.vendor}</Text></> },
    { id: 'severity', header: 'Severity', cell: (f) => <SeverityBadge severity={f.severity} /> },
    { id: 'openedAt', header: 'Opened', nowrap: true, cell: (f) => when(f.openedAt, '—') },
    { id: 'reopened', header: 'Reopened', cell: (f) => (f.reopened ? `${f.reopened}×` : '') },
  ];
  return <DataList list={list} columns={columns} label="Fixed history" noun={['fixed finding', 'fixed findings']} rowId={(f) => `${f.cveId}|${f.software.id}|${f.software.version}|${f.fixedAt}`} empty="Nothing fixed on this device yet." />;
}

export function Device() {
  const { id = '' } = useParams();
  return <DevicePage key={id} id={id} />;
}

function DevicePage({ id }: { id: string }) {
  const styles = useStyles();
  const connections = useConnections();
  const params = useAddressParams(['connectionId']);
  const connectionId = params.filters.connectionId ?? '';
  const device = useResource<DeviceDetail>(`/api/v1/devices/${encodeURIComponent(id)}${connectionId ? `?connectionId=${encodeURIComponent(connectionId)}` : ''}`);
  const findings = useRouterLink(`/findings?deviceId=${encodeURIComponent(id)}${connectionId ? `&connectionId=${encodeURIComponent(connectionId)}` : ''}`);
  const d = device.data;
  const connectionName = d ? connections?.find((c) => c.id === d.connectionId)?.name ?? d.connectionId : '';

  let body;
  if (device.problem && !d) body = <ProblemBar problem={device.problem} action={<ToolbarButton onClick={device.reload}>Try again</ToolbarButton>} />;
  else if (!d) body = <LoadingBlock label="Loading the device…" lines={6} />;
  else {
    body = (
      <>
        <div className={styles.kpis}>
          <Tile title="Open findings" testId="device-open-findings">
            <Text className={styles.big}>{count(d.openFindings)}</Text>
            <SeverityCounts counts={d.bySeverity} />
          </Tile>
          <Tile title="Vulnerable software">
            <Text className={styles.big}>{count(d.software.length)}</Text>
            <Text className={styles.sub}>software versions with an open finding</Text>
          </Tile>
          <Tile title="Fixed findings">
            <Text className={styles.big}>{count(d.fixed.length)}{d.fixed.length >= 1000 ? '+' : ''}</Text>
            <Text className={styles.sub}>no longer reported by Defender</Text>
          </Tile>
          <Tile title="Last seen">
            <Text size={500} weight="semibold">{when(d.lastSeen)}</Text>
          </Tile>
        </div>
        <div className={styles.columns}>
          <Tile title="Device details">
            <Facts items={[
              ['Device ID', <Text size={200} font="monospace">{d.id}</Text>],
              ['Connection', <ConsoleLink to={links.overview(d.connectionId)}>{connectionName}</ConsoleLink>],
              ['OS platform', d.osPlatform ?? '—'],
              ['OS version', d.osVersion ?? '—'],
              ['Architecture', d.osArchitecture ?? '—'],
              ['Device group', d.rbacGroupName ?? '—'],
              ['Last seen', when(d.lastSeen)],
            ]} />
          </Tile>
          <Tile title="Open findings by software">
            <OpenBySoftware groups={d.software} />
          </Tile>
        </div>
        <Tile title="Fixed history" testId="device-fixed">
          <FixedHistory items={d.fixed} />
        </Tile>
      </>
    );
  }

  return (
    <Page
      title={d?.name ?? id}
      label={d?.name ?? id}
      trail={[['/devices', 'Devices']]}
      badges={d?.osPlatform && <Badge appearance="tint" color="informative">{d.osPlatform}</Badge>}
      commands={<>
        <ToolbarButton icon={<ArrowClockwiseRegular />} onClick={device.reload}>Refresh</ToolbarButton>
        <ToolbarButton as="a" icon={<BugRegular />} {...findings}>Findings</ToolbarButton>
      </>}
    >
      {body}
    </Page>
  );
}
