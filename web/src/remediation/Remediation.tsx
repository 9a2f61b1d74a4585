// The remediation page: what to deploy (the KB, advisory or versions to reach), its status and
// Defender's confirmation, its progress, due date and why it scores what it does (each factor of
// the README's formula), the CVEs it closes, and the devices it still has to reach, which export
// as the CSV an Intune or ConfigMgr admin imports as a device group. Operators accept a risk from
// here with Create exception.

import {
  Badge, Link, MessageBar, MessageBarBody, ProgressBar, Table, TableBody, TableCell, TableHeader, TableHeaderCell, TableRow, Text, ToolbarButton, makeStyles, mergeClasses, tokens,
} from '@fluentui/react-components';
import { ArrowClockwiseRegular, CheckmarkCircleRegular, ShieldCheckmarkRegular, WarningRegular } from '@fluentui/react-icons';
import { useState, type ReactNode } from 'react';
import { useNavigate, useParams } from 'react-router';
import { useConnections } from '../shared/connections';
import { ConsoleLink, ExploitBadge, Facts, LoadingBlock, SeverityBadge, SeverityCounts, count, links, useResource } from '../shared/exposure';
import { calendarDay, when } from '../shared/format';
import { updateName } from '../shared/fix';
import { useRouterLink } from '../shared/links';
import { DataList, ExportCsvButton, type ListColumn } from '../shared/list/DataList';
import { useList, useLocalList } from '../shared/list/useList';
import { Kpi, Page, Tile } from '../shared/Page';
import { ProblemBar } from '../shared/problems';
import { epss } from '../vulnerabilities/Vulnerabilities';
import { ExceptionDialog, type ExceptionDraft } from './ExceptionDialog';
import {
  DueDate, KIND_LABELS, StatusBadge, daysFromToday, productLabel, remediationLinks, softwareIdOf, type ExceptionItem, type RemediationDetail, type RemediationDevice,
} from './parts';

type TopCve = RemediationDetail['whyThisScore']['topCves'][number];
type CveRow = { cveId: string; detail: TopCve | null };

const EXPLOIT_WORDS: Record<RemediationDetail['whyThisScore']['exploitLevel'], string> = {
  kev: 'known exploited in the wild (CISA KEV)', inKit: 'in an exploit kit', verified: 'verified exploit', public: 'public exploit', none: 'no known exploit',
};

const useStyles = makeStyles({
  kpis: { display: 'grid', gridTemplateColumns: 'repeat(auto-fit, minmax(180px, 1fr))', gap: '16px' },
  sub: { color: tokens.colorNeutralForeground3 },
  columns: { display: 'grid', gridTemplateColumns: 'minmax(0, 1fr) minmax(0, 1fr)', gap: '16px', alignItems: 'start' },
  stack: { display: 'flex', flexDirection: 'column', gap: '16px', minWidth: 0 },
  formula: { fontFamily: tokens.fontFamilyMonospace, fontSize: tokens.fontSizeBase200, overflowWrap: 'anywhere' },
  numeric: { textAlign: 'right', fontVariantNumeric: 'tabular-nums' },
  total: { fontWeight: tokens.fontWeightSemibold },
  confirmed: { display: 'inline-flex', alignItems: 'center', gap: '6px', color: tokens.colorPaletteGreenForeground1 },
  mono: { fontFamily: tokens.fontFamilyMonospace },
  nowrap: { whiteSpace: 'nowrap' },
  // The badges wrap under a long title together.
  badges: { display: 'inline-flex', gap: '8px', alignItems: 'center' },
});


/** What to deploy: the update, and the version each product must reach. */
function Content({ r }: { r: RemediationDetail }) {
  const styles = useStyles();
  const product = r.product ? <ConsoleLink to={links.software(softwareIdOf(r.product), r.connectionId)}>{productLabel(r.product)}</ConsoleLink> : null;
  return (
    <Tile title="What to deploy" testId="remediation-content">
      <Facts items={[
        ['Kind', KIND_LABELS[r.kind]],
        ...(r.update ? [['Update', <><Text weight="semibold" className={styles.mono}>{updateName(r.update)}</Text>{r.update.title && <><br /><Text size={200}>{r.update.title}</Text></>}</>] as [string, ReactNode]] : []),
        ...(product ? [['Product', product] as [string, ReactNode]] : []),
      ]} />
      {r.versions.length > 0 && (
        <Table size="small" aria-label="Versions to reach">
          <TableHeader><TableRow><TableHeaderCell>Product</TableHeaderCell><TableHeaderCell>Update to at least</TableHeaderCell></TableRow></TableHeader>
          <TableBody>
            {r.versions.map((v) => (
              <TableRow key={v.product}>
                <TableCell><ConsoleLink to={links.software(softwareIdOf(v.product), r.connectionId)}>{productLabel(v.product)}</ConsoleLink></TableCell>
                <TableCell><span className={styles.mono}>≥ {v.minimumVersion}</span></TableCell>
              </TableRow>
            ))}
          </TableBody>
        </Table>
      )}
    </Tile>
  );
}

function Progress({ r }: { r: RemediationDetail }) {
  const styles = useStyles();
  const { fixedFindings, openFindings, percent } = r.progress;
  return (
    <Tile title="Status and progress" testId="remediation-progress">
      <Facts items={[
        ['Status', <StatusBadge status={r.status} />],
        ['Due date', <DueDate remediation={r} />],
        ['Confirmation', r.confirmation
          ? <span className={styles.confirmed} data-testid="confirmation"><CheckmarkCircleRegular />{r.completedAt ? `Confirmed by Defender at ${when(r.completedAt)}` : r.confirmation}</span>
          : 'Not yet: complete when Defender reports all its findings fixed.'],
      ]} />
      <ProgressBar value={percent / 100} thickness="large" color={r.status === 'complete' ? 'success' : 'brand'} aria-label={`${percent}% of its findings fixed`} />
      <Text>{fixedFindings.toLocaleString()} of {(fixedFindings + openFindings).toLocaleString()} findings fixed ({percent}%), {openFindings.toLocaleString()} open</Text>
      <SeverityCounts counts={r.bySeverity} />
    </Tile>
  );
}

/** Each factor of the documented formula, with where it comes from, multiplied out to the score. */
function WhyThisScore({ r }: { r: RemediationDetail }) {
  const styles = useStyles();
  const w = r.whyThisScore;
  const rows: [string, string, string][] = [
    ['CVSS', w.cvss.toFixed(1), 'the highest CVSS of its open CVEs'],
    ['× exploit weight', w.exploitWeight.toFixed(2), `the highest exploit level of its open findings: ${EXPLOIT_WORDS[w.exploitLevel]}`],
    ['× (1 + EPSS)', w.epssFactor.toFixed(3), `EPSS ${epss(w.epss)}, the highest of its open CVEs`],
    ['× log10(10 + devices)', w.reach.toFixed(3), `reach: ${w.devices.toLocaleString()} device${w.devices === 1 ? '' : 's'}`],
    ['× criticality', w.criticality.toFixed(2), w.criticality === 1 ? 'no device group of its devices is set as more or less critical' : 'the highest criticality of its devices\' groups (risk settings)'],
  ];
  if (r.openFindings === 0) {
    return <Tile title="Why this score" testId="why-this-score"><Text>Nothing is open: a complete remediation scores 0.</Text></Tile>;
  }
  return (
    <Tile title="Why this score" testId="why-this-score">
      <Table size="small" aria-label="Risk score factors">
        <TableHeader><TableRow><TableHeaderCell>Factor</TableHeaderCell><TableHeaderCell className={styles.numeric}>Value</TableHeaderCell><TableHeaderCell>From</TableHeaderCell></TableRow></TableHeader>
        <TableBody>
          {rows.map(([factor, value, from]) => (
            <TableRow key={factor}><TableCell>{factor}</TableCell><TableCell className={styles.numeric}>{value}</TableCell><TableCell><Text size={200}>{from}</Text></TableCell></TableRow>
          ))}
          <TableRow>
            <TableCell className={styles.total}>= risk score</TableCell>
            <TableCell className={mergeClasses(styles.numeric, styles.total)} data-testid="why-score">{w.score.toFixed(1)}</TableCell>
            <TableCell><Text size={200}>one decimal</Text></TableCell>
          </TableRow>
        </TableBody>
      </Table>
      <Text size={200} className={styles.formula}>{w.formula}</Text>
    </Tile>
  );
}

/** The CVEs it closes: those behind the score first (with their facts), then the others. */
function CveList({ r }: { r: RemediationDetail }) {
  const top = new Map(r.whyThisScore.topCves.map((c) => [c.cveId, c]));
  const rows: CveRow[] = [
    ...r.whyThisScore.topCves.map((c) => ({ cveId: c.cveId, detail: c })),
    ...r.cveIds.filter((id) => !top.has(id)).map((id) => ({ cveId: id, detail: null })),
  ];
  const list = useLocalList(rows, { pageSize: 10 });
  const columns: ListColumn<CveRow>[] = [
    { id: 'cveId', header: 'CVE', nowrap: true, cell: (c) => <ConsoleLink to={links.vulnerability(c.cveId, r.connectionId)}>{c.cveId}</ConsoleLink> },
    { id: 'severity', header: 'Severity', cell: (c) => (c.detail ? <SeverityBadge severity={c.detail.severity} /> : '') },
    { id: 'cvss', header: 'CVSS', numeric: true, cell: (c) => c.detail?.cvss?.toFixed(1) ?? '' },
    { id: 'epss', header: 'EPSS', numeric: true, cell: (c) => (c.detail ? epss(c.detail.epss) : '') },
    { id: 'exploit', header: 'Exploit', nowrap: true, cell: (c) => (c.detail ? (c.detail.kev ? <Badge appearance="filled" color="danger" icon={<WarningRegular />}>Known exploited</Badge> : <ExploitBadge level={c.detail.exploitability} />) : '') },
    { id: 'openFindings', header: 'Open findings', numeric: true, cell: (c) => c.detail?.openFindings.toLocaleString() ?? '' },
  ];
  return <DataList list={list} columns={columns} label="CVEs it closes" noun={['CVE', 'CVEs']} rowId={(c) => c.cveId} empty="No open CVE: every finding it closes is fixed." />;
}

function DeviceList({ id, connectionId }: { id: string; connectionId: string }) {
  const styles = useStyles();
  const navigate = useNavigate();
  const devices = useList<RemediationDevice>({ path: `/api/v1/remediations/${encodeURIComponent(id)}/devices`, pageSize: 25, csv: true });
  const columns: ListColumn<RemediationDevice>[] = [
    { id: 'deviceName', header: 'Device', cell: (d) => <ConsoleLink to={links.device(d.deviceId, connectionId)}>{d.deviceName ?? d.deviceId}</ConsoleLink> },
    { id: 'deviceId', header: 'Defender device ID', cell: (d) => <Text size={200} font="monospace">{d.deviceId}</Text> },
    { id: 'osPlatform', header: 'OS platform', nowrap: true, cell: (d) => d.osPlatform ?? '—' },
    { id: 'osVersion', header: 'OS version', nowrap: true, cell: (d) => d.osVersion ?? '—' },
    { id: 'rbacGroupName', header: 'Device group', cell: (d) => d.rbacGroupName ?? '—' },
    { id: 'lastSeen', header: 'Last seen', nowrap: true, cell: (d) => when(d.lastSeen, '—') },
    { id: 'openFindings', header: 'Open findings', numeric: true, cell: (d) => d.openFindings.toLocaleString() },
  ];
  return (
    <Tile
      title="Devices to update"
      caption="The devices with open findings it closes. The export is a CSV with the device name first, which Intune and ConfigMgr import as a device group."
      testId="remediation-devices"
      action={<span className={styles.nowrap}><ExportCsvButton list={devices} label="Export device list for Intune/ConfigMgr" /></span>}
    >
      <DataList
        list={devices}
        columns={columns}
        label="Devices to update"
        noun={['device', 'devices']}
        rowId={(d) => d.deviceId}
        empty="No device left: every finding it closes is fixed."
        onOpen={(d) => navigate(links.device(d.deviceId, connectionId))}
        openOnClick
      />
    </Tile>
  );
}

/** The exception a remediation's page suggests: its product, or its riskiest CVE. */
function exceptionDraft(r: RemediationDetail): ExceptionDraft {
  const product = r.product ?? r.versions[0]?.product;
  const topCve = r.whyThisScore.topCves[0]?.cveId ?? r.cveIds[0];
  const at = product?.indexOf('/') ?? -1;
  const scope = product && at > 0 && r.kind === 'product_update'
    ? { kind: 'software' as const, softwareVendor: product.slice(0, at), softwareName: product.slice(at + 1) }
    : { kind: 'cve' as const, cveId: topCve };
  return { connectionId: r.connectionId, scope, connectionFixed: true };
}

export function Remediation({ canCreateException, defaultOwner }: { canCreateException: boolean; defaultOwner: string }) {
  const { id = '' } = useParams();
  return <RemediationPage key={id} id={id} canCreateException={canCreateException} defaultOwner={defaultOwner} />;
}

function RemediationPage({ id, canCreateException, defaultOwner }: { id: string; canCreateException: boolean; defaultOwner: string }) {
  const styles = useStyles();
  const connections = useConnections();
  const remediation = useResource<RemediationDetail>(`/api/v1/remediations/${encodeURIComponent(id)}`);
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<ExceptionItem | null>(null);
  const r = remediation.data;
  const exceptionsLink = useRouterLink(remediationLinks.exceptions(r?.connectionId));

  let body;
  if (remediation.problem && !r) body = <ProblemBar problem={remediation.problem} action={<ToolbarButton onClick={remediation.reload}>Try again</ToolbarButton>} />;
  else if (!r) body = <LoadingBlock label="Loading the remediation…" lines={6} />;
  else {
    body = (
      <>
        {created && (
          <MessageBar intent="success" data-testid="exception-created">
            <MessageBarBody>
              Exception created for {created.scope.cveId ?? ([created.scope.softwareVendor, created.scope.softwareName].filter(Boolean).join(' ') || 'its scope')},
              until {calendarDay(created.expiresOn)}: it covers {created.openFindings.toLocaleString()} open finding{created.openFindings === 1 ? '' : 's'} now. <Link {...exceptionsLink}>Exceptions</Link>
            </MessageBarBody>
          </MessageBar>
        )}
        <div className={styles.kpis}>
          <Kpi title="Risk score" value={r.riskScore.toFixed(1)} sub="see Why this score" testId="remediation-score" />
          <Kpi title="Exposed devices" value={count(r.devices)} sub="with open findings it closes" testId="remediation-device-count" />
          <Kpi title="Open findings" value={count(r.openFindings)} sub={`${r.fixedFindings.toLocaleString()} fixed`} testId="remediation-open-findings" />
          <Kpi title="CVEs" value={count(r.cves)} sub="it closes" />
          <Tile title="Due date" testId="remediation-due">
            <Text size={500} weight="semibold"><DueDate remediation={r} /></Text>
            <Text className={styles.sub}>{r.dueOn ? `${daysFromToday(r.dueOn)}: the earliest SLA of its open findings` : 'Nothing open'}</Text>
          </Tile>
        </div>
        <div className={styles.columns}>
          <div className={styles.stack}>
            <Content r={r} />
            <Progress r={r} />
          </div>
          <div className={styles.stack}>
            <WhyThisScore r={r} />
            <Tile title="CVEs it closes" testId="remediation-cves"><CveList r={r} /></Tile>
          </div>
        </div>
        <DeviceList id={id} connectionId={r.connectionId} />
      </>
    );
  }

  return (
    <Page
      title={r?.title ?? 'Remediation'}
      label={r?.title ?? 'Remediation'}
      trail={[['/remediations', 'Remediations']]}
      badges={r && <span className={styles.badges}>
        <StatusBadge status={r.status} />
        <Badge appearance="outline" color="informative">{KIND_LABELS[r.kind]}</Badge>
        {connections && connections.length > 1 && <Badge appearance="outline" color="subtle">{connections.find((c) => c.id === r.connectionId)?.name}</Badge>}
      </span>}
      commands={<>
        {canCreateException && <ToolbarButton appearance="primary" icon={<ShieldCheckmarkRegular />} disabled={!r || r.openFindings === 0} onClick={() => setCreating(true)}>Create exception</ToolbarButton>}
        <ToolbarButton icon={<ArrowClockwiseRegular />} onClick={remediation.reload}>Refresh</ToolbarButton>
      </>}
    >
      {body}
      {creating && r && (
        <ExceptionDialog
          draft={exceptionDraft(r)}
          connections={connections}
          defaultOwner={defaultOwner}
          onClose={() => setCreating(false)}
          onSaved={(saved) => { setCreated(saved); setCreating(false); remediation.reload(); }}
        />
      )}
    </Page>
  );
}
