// What the remediation pages share: the API's shapes (from the generated types), the kinds and
// statuses in words, the due date with its overdue / approaching flag, and the paths of the pages.

import { Badge, Text, Tooltip, makeStyles } from '@fluentui/react-components';
import { ClockAlarmRegular, WarningRegular } from '@fluentui/react-icons';
import type { Answer } from '../shared/exposure-types';
import { calendarDay } from '../shared/format';

type ItemOf<L> = L extends { items: (infer T)[] } ? T : never;

export type RemediationItem = ItemOf<Answer<'/api/v1/remediations'>>;
export type RemediationDetail = Answer<'/api/v1/remediations/{id}'>;
export type RemediationDevice = ItemOf<Answer<'/api/v1/remediations/{id}/devices'>>;
export type CoverageGap = ItemOf<Answer<'/api/v1/coverage-gaps'>>;
export type ExceptionItem = ItemOf<Answer<'/api/v1/exceptions'>>;
export type ExceptionScope = ExceptionItem['scope'];
export type ExceptionKind = ExceptionScope['kind'];
export type Justification = ExceptionItem['justification'];

export const KIND_LABELS: Record<RemediationItem['kind'], string> = {
  windows_update: 'Windows update',
  microsoft_update: 'Microsoft update',
  linux_advisory: 'Linux advisory',
  product_update: 'Product update',
};
export const KIND_OPTIONS = Object.entries(KIND_LABELS).map(([value, label]) => ({ value, label }));

export const STATUS_LABELS: Record<RemediationItem['status'], string> = { open: 'Open', in_progress: 'In progress', complete: 'Complete' };
export const STATUS_OPTIONS = Object.entries(STATUS_LABELS).map(([value, label]) => ({ value, label }));

export function StatusBadge({ status }: { status: RemediationItem['status'] }) {
  const color = status === 'complete' ? 'success' : status === 'in_progress' ? 'brand' : 'informative';
  return <Badge appearance={status === 'complete' ? 'filled' : 'tint'} color={color}>{STATUS_LABELS[status]}</Badge>;
}

export const remediationLinks = {
  remediation: (id: string) => `/remediations/${encodeURIComponent(id)}`,
  exceptions: (connectionId?: string) => `/exceptions${connectionId ? `?connectionId=${encodeURIComponent(connectionId)}` : ''}`,
};

/** `vendor/name` (a remediation's or gap's product) → Defender's software id, `vendor-_-name`. */
export function softwareIdOf(product: string): string {
  const at = product.indexOf('/');
  return at < 0 ? product : `${product.slice(0, at)}-_-${product.slice(at + 1)}`;
}

/** `google/chrome` → "Google Chrome", as the software pages name products. */
export function productLabel(product: string): string {
  return product.split('/').map((part) => part.split('_').map((w) => (w ? w[0].toUpperCase() + w.slice(1) : w)).join(' ')).join(' ');
}

const DAY_MS = 86_400_000;

/** "in 3 days", "today", "5 days ago" for a YYYY-MM-DD day. */
export function daysFromToday(dayText: string, now = Date.now()): string {
  const today = Date.parse(new Date(now).toISOString().slice(0, 10));
  const days = Math.round((Date.parse(dayText) - today) / DAY_MS);
  if (days === 0) return 'today';
  const n = Math.abs(days);
  return days > 0 ? `in ${n} day${n === 1 ? '' : 's'}` : `${n} day${n === 1 ? '' : 's'} ago`;
}

const useStyles = makeStyles({
  due: { display: 'inline-flex', alignItems: 'center', gap: '6px', whiteSpace: 'nowrap' },
});

/** The due date, flagged when overdue or approaching (the server's SLA state, by the configured windows). */
export function DueDate({ remediation }: { remediation: Pick<RemediationItem, 'dueOn' | 'slaState'> }) {
  const styles = useStyles();
  if (!remediation.dueOn) return <Text size={200}>—</Text>;
  const state = remediation.slaState;
  const date = calendarDay(remediation.dueOn);
  const relative = daysFromToday(remediation.dueOn);
  if (state === 'overdue') {
    return (
      <Tooltip content={`Due ${date}: its SLA passed ${relative}.`} relationship="description">
        <span className={styles.due} data-testid="due-overdue"><Badge appearance="filled" color="danger" icon={<WarningRegular />}>Overdue</Badge>{date}</span>
      </Tooltip>
    );
  }
  if (state === 'approaching') {
    return (
      <Tooltip content={`Due ${date} (${relative}): more than 80% of its SLA window has passed.`} relationship="description">
        <span className={styles.due} data-testid="due-approaching"><Badge appearance="tint" color="warning" icon={<ClockAlarmRegular />}>Due soon</Badge>{date}</span>
      </Tooltip>
    );
  }
  return <span className={styles.due} title={relative}>{date}</span>;
}
