// The parts every exposure page shares: severity and exploit badges, counts by severity, the
// freshness of a connection's copy, the empty state before any connection, the address-bar
// parameters a page keeps (its connection), a detail fetched by path, and the facets (RBAC groups,
// OS platforms) the filters offer.

import {
  Badge, Button, Link, Skeleton, SkeletonItem, Text, Tooltip, makeStyles, mergeClasses, tokens, type BadgeProps,
} from '@fluentui/react-components';
import { PlugDisconnectedRegular, WarningRegular } from '@fluentui/react-icons';
import { useCallback, useEffect, useRef, useState, type ReactNode } from 'react';
import { useSearchParams } from 'react-router';
import { api } from '../api';
import type { ConnectionRef } from './connections';
import type { BySeverity, Facets, Freshness } from './exposure-types';
import { when } from './format';
import { useRouterLink } from './links';
import { ChoiceFilter } from './list/filters';
import { problemOf, type Problem } from './problems';

export const SEVERITIES = ['Critical', 'High', 'Medium', 'Low'] as const;
export const SEVERITY_OPTIONS = SEVERITIES.map((s) => ({ value: s, label: s }));
const SEVERITY_KEYS = { Critical: 'critical', High: 'high', Medium: 'medium', Low: 'low' } as const;

/** Badge colours as Defender shows severities: critical darkest. */
export const SEVERITY_COLORS: Record<string, BadgeProps['color']> = { Critical: 'danger', High: 'severe', Medium: 'warning', Low: 'informative' };

/** Chart colours for the severities, light and dark theme alike. */
export const SEVERITY_CHART_COLORS: Record<(typeof SEVERITIES)[number], string> = {
  Critical: '#a4262c', High: '#da3b01', Medium: '#eaa300', Low: '#8a8886',
};

export const EXPLOIT_OPTIONS = [
  { value: 'inKit', label: 'In an exploit kit' },
  { value: 'verified', label: 'Verified exploit' },
  { value: 'public', label: 'Public exploit' },
  { value: 'none', label: 'No known exploit' },
];
const EXPLOIT_LABELS: Record<string, string> = Object.fromEntries(EXPLOIT_OPTIONS.map((o) => [o.value, o.label]));
/** A finding's exploitability as Defender spells it. */
const EXPLOITABILITY_LEVELS: Record<string, string> = {
  NoExploit: 'none', ExploitIsPublic: 'public', ExploitIsVerified: 'verified', ExploitIsInKit: 'inKit',
};

const useStyles = makeStyles({
  counts: { display: 'inline-flex', gap: '4px', flexWrap: 'nowrap' },
  count: { minWidth: '28px', justifyContent: 'center', fontVariantNumeric: 'tabular-nums' },
  zero: { color: tokens.colorNeutralForeground4 },
  empty: { display: 'flex', flexDirection: 'column', alignItems: 'flex-start', gap: '8px', padding: '24px', backgroundColor: tokens.colorNeutralBackground1, borderRadius: tokens.borderRadiusMedium },
  emptyIcon: { fontSize: '32px', color: tokens.colorNeutralForeground3 },
  stale: { display: 'inline-flex', alignItems: 'center', gap: '4px' },
  facts: {
    display: 'grid', gridTemplateColumns: 'max-content 1fr', columnGap: '24px', rowGap: '6px', margin: 0,
    '& dt': { color: tokens.colorNeutralForeground3 }, '& dd': { margin: 0, overflowWrap: 'anywhere' },
  },
});

export function SeverityBadge({ severity }: { severity: string | null | undefined }) {
  if (!severity) return <Text size={200}>—</Text>;
  // Critical stands out from High as in Defender's lists: filled, not tinted.
  return <Badge appearance={severity === 'Critical' ? 'filled' : 'tint'} color={SEVERITY_COLORS[severity] ?? 'subtle'}>{severity}</Badge>;
}

/** Open findings by severity as four small counts: critical, high, medium, low. */
export function SeverityCounts({ counts }: { counts: BySeverity }) {
  const styles = useStyles();
  const label = SEVERITIES.map((s) => `${counts[SEVERITY_KEYS[s]].toLocaleString()} ${s.toLowerCase()}`).join(', ');
  return (
    <span className={styles.counts} role="img" aria-label={label} title={label}>
      {SEVERITIES.map((s) => {
        const n = counts[SEVERITY_KEYS[s]];
        return (
          <Badge key={s} size="small" appearance={n ? 'filled' : 'outline'} color={n ? SEVERITY_COLORS[s] : 'subtle'} className={mergeClasses(styles.count, !n && styles.zero)} aria-hidden>
            {compact(n)}
          </Badge>
        );
      })}
    </span>
  );
}

export function severityCount(counts: BySeverity, severity: (typeof SEVERITIES)[number]): number {
  return counts[SEVERITY_KEYS[severity]];
}

/** An exploit level (`inKit`) or a finding's exploitability (`ExploitIsInKit`) as words, with a badge for the exploitable ones. */
export function ExploitBadge({ level }: { level: string | null | undefined }) {
  const key = level ? EXPLOITABILITY_LEVELS[level] ?? level : 'none';
  const label = EXPLOIT_LABELS[key] ?? key;
  if (key === 'none') return <Text size={200}>{label}</Text>;
  return <Badge appearance="tint" color={key === 'public' ? 'warning' : 'danger'} icon={<WarningRegular />}>{label}</Badge>;
}

/** 1234 → "1.2K" where space is short; exact numbers stay in titles and labels. */
export function compact(n: number): string {
  return n < 10_000 ? n.toLocaleString() : new Intl.NumberFormat(undefined, { notation: 'compact', maximumFractionDigits: 1 }).format(n);
}

export function count(n: number | null | undefined): string {
  return n === null || n === undefined ? '—' : n.toLocaleString();
}

/** A duration in seconds as the portals say it: "3 hours", "2 days". */
export function age(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined) return 'No data yet';
  const units: [number, string][] = [[86_400, 'day'], [3_600, 'hour'], [60, 'minute']];
  for (const [size, unit] of units) {
    if (seconds >= size) {
      const n = Math.floor(seconds / size);
      return `${n} ${unit}${n === 1 ? '' : 's'}`;
    }
  }
  return 'Less than a minute';
}

/** Whether a connection's copy is current: a warning when it is older than two sync intervals, or has no data. */
export function FreshnessBadge({ freshness }: { freshness: Pick<Freshness, 'stale' | 'dataTime' | 'dataAgeSeconds' | 'syncIntervalMinutes'> }) {
  const styles = useStyles();
  if (!freshness.dataTime) return <Badge appearance="tint" color="warning" icon={<WarningRegular />}>No data yet</Badge>;
  if (!freshness.stale) return <Badge appearance="tint" color="success">Up to date</Badge>;
  const limit = age(2 * freshness.syncIntervalMinutes * 60);
  return (
    <Tooltip content={`The data is ${age(freshness.dataAgeSeconds)} old: older than two sync intervals (${limit}). Check the connection's sync history under Windows Defender Endpoint.`} relationship="description">
      <span className={styles.stale}><Badge appearance="filled" color="warning" icon={<WarningRegular />} data-testid="stale-badge">Stale</Badge></span>
    </Tooltip>
  );
}

export function dataAgeText(freshness: Pick<Freshness, 'dataTime' | 'dataAgeSeconds'>): string {
  return freshness.dataTime ? `${age(freshness.dataAgeSeconds)} old` : 'No data yet';
}

export function nextSyncText(nextSyncAt: string | null): string {
  if (!nextSyncAt) return 'Not scheduled';
  return new Date(nextSyncAt).getTime() <= Date.now() ? 'Due now' : when(nextSyncAt);
}

/** The empty state of every exposure page before any connection exists, or before one has synced. */
export function NoData({ connections, what }: { connections: ConnectionRef[] | null; what: string }) {
  const styles = useStyles();
  const defender = useRouterLink('/defender');
  const none = connections?.length === 0;
  return (
    <div className={styles.empty} data-testid="no-data">
      <PlugDisconnectedRegular className={styles.emptyIcon} />
      <Text weight="semibold" size={400}>{none ? 'No connection yet' : `No ${what} yet`}</Text>
      <Text>{none
        ? 'Connect a Defender for Endpoint tenant and SitePatch copies its devices, software and vulnerabilities.'
        : `They appear once a connection has synced.`}</Text>
      <Button as="a" appearance="primary" {...defender}>Windows Defender Endpoint</Button>
    </div>
  );
}

/** Where connections are made and synced: what an empty list offers. */
export function DefenderButton() {
  return <Button as="a" appearance="primary" {...useRouterLink('/defender')}>Windows Defender Endpoint</Button>;
}

/** Label / value pairs (a CVE's metadata, a device's OS). */
export function Facts({ items }: { items: [string, ReactNode][] }) {
  return (
    <dl className={useStyles().facts}>
      {items.map(([label, value]) => <div key={label} style={{ display: 'contents' }}><dt>{label}</dt><dd>{value ?? '—'}</dd></div>)}
    </dl>
  );
}

/** A link inside the console (a CVE, a device, a software page) that a plain click follows without reloading. */
export function ConsoleLink({ to, children, title }: { to: string; children: ReactNode; title?: string }) {
  return <Link {...useRouterLink(to)} title={title}>{children}</Link>;
}

const inConnection = (connectionId?: string) => (connectionId ? `?connectionId=${encodeURIComponent(connectionId)}` : '');

/** The pages of one item; with a connection, the page shows that connection only (as the page it was opened from). */
export const links = {
  vulnerability: (id: string, connectionId?: string) => `/vulnerabilities/${encodeURIComponent(id)}${inConnection(connectionId)}`,
  device: (id: string, connectionId?: string) => `/devices/${encodeURIComponent(id)}${inConnection(connectionId)}`,
  software: (id: string, connectionId?: string, version?: string) => {
    const query = new URLSearchParams({ ...(connectionId ? { connectionId } : {}), ...(version ? { softwareVersion: version } : {}) }).toString();
    return `/software/${encodeURIComponent(id)}${query ? `?${query}` : ''}`;
  },
  overview: (connectionId?: string) => `/overview${inConnection(connectionId)}`,
};

/** A recommended update: its title (linked where Defender gives a URL), or its id. */
export function UpdateLink({ update }: { update: { id: string | null; title: string | null; url: string | null } }) {
  const name = update.title ?? update.id;
  if (!name) return <Text size={200}>No update known</Text>;
  return <span style={{ overflowWrap: 'anywhere' }}>{update.url ? <Link href={update.url} target="_blank" rel="noreferrer">{name}</Link> : name}</span>;
}

/**
 * Parameters a page keeps in the address bar next to its list's (the overview's connection and
 * period), behind the same {filters, setFilter} the filter controls take. Each change is a step
 * Back can undo; a list's cursor goes, since its page no longer exists.
 */
export function useAddressParams(names: readonly string[]) {
  const [params, setParams] = useSearchParams();
  const filters = Object.fromEntries(names.map((n) => [n, params.get(n) ?? '']).filter(([, v]) => v));
  return {
    filters,
    setFilter(name: string, value: string) {
      const next = new URLSearchParams(params);
      next.delete('cursor');
      if (value) next.set(name, value);
      else next.delete(name);
      setParams(next);
    },
  };
}

export interface Resource<T> {
  /** null until the first answer. */
  data: T | null;
  problem: Problem | null;
  /** A request is under way (the previous answer stays shown). */
  loading: boolean;
  reload(): void;
}

/**
 * One GET answer (a detail, the overview's summary), fetched again when the path changes; the
 * previous answer stays shown meanwhile (`loading`). null: nothing to fetch.
 */
export function useResource<T>(path: string | null): Resource<T> {
  const [data, setData] = useState<T | null>(null);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [loading, setLoading] = useState(Boolean(path));
  const [tick, setTick] = useState(0);
  // Only the newest request's answer is shown: the path can change faster than the server answers.
  const latest = useRef(0);
  useEffect(() => {
    if (!path) return;
    const ticket = ++latest.current;
    setLoading(true);
    api<T>('GET', path).then(
      (answer) => { if (ticket === latest.current) { setData(answer); setProblem(null); setLoading(false); } },
      (e) => { if (ticket === latest.current) { setProblem(problemOf(e)); setLoading(false); } },
    );
  }, [path, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data, problem, loading, reload };
}

/** The RBAC groups and OS platforms of the connection chosen (all of them: ''), for the filters. */
export function useFacets(connectionId: string | undefined): Facets | null {
  const query = connectionId ? `?connectionId=${encodeURIComponent(connectionId)}` : '';
  return useResource<Facets>(`/api/v1/exposure/facets${query}`).data;
}

type Filtered = Parameters<typeof ChoiceFilter>[0]['list'];

/** Device groups as Defender names them; with every connection shown, one choice per name. */
export function RbacGroupFilter({ list, facets }: { list: Filtered; facets: Facets | null }) {
  const names = [...new Set((facets?.rbacGroups ?? []).map((g) => g.name))].sort((a, b) => a.localeCompare(b));
  return <ChoiceFilter list={list} name="rbacGroup" label="Device group" all="All device groups" options={names.map((n) => ({ value: n, label: n }))} />;
}

export function OsPlatformFilter({ list, facets }: { list: Filtered; facets: Facets | null }) {
  const names = (facets?.osPlatforms ?? []).map((p) => p.name);
  return <ChoiceFilter list={list} name="osPlatform" label="OS platform" all="All platforms" options={names.map((n) => ({ value: n, label: n }))} />;
}

/** Placeholder lines while a page's first answer is on its way. */
export function LoadingBlock({ lines = 4, label }: { lines?: number; label: string }) {
  return (
    <Skeleton aria-label={label} aria-busy="true">
      {Array.from({ length: lines }, (_, i) => <SkeletonItem key={i} size={16} style={{ marginBottom: '8px', width: `${90 - i * 12}%` }} />)}
    </Skeleton>
  );
}
