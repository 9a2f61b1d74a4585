// What fixes a finding, from the imported patch content: the update that fixes it (and the newest
// one to deploy, where a newer one replaces it), the version to update to, or why no fix is known;
// and whether CISA lists the CVE as exploited in the wild.

import { Badge, Text, Tooltip, makeStyles, tokens } from '@fluentui/react-components';
import { WarningRegular } from '@fluentui/react-icons';
import type { FindingItem } from './exposure-types';
import { calendarDay } from './format';

export type FindingFix = FindingItem['fix'];

/** Why no fix is known, in words (src/content/knowledge.ts names the reasons). */
export const NO_FIX_REASONS: Record<string, string> = {
  no_fix_released: 'No fix released yet',
  will_not_fix: 'Vendor will not fix',
  not_analysed: 'NVD has not analysed it yet',
  not_covered: 'No feed covers this product',
};

const useStyles = makeStyles({
  // Wide enough for the KEV badge, and for most "Update to ≥ …" on one line.
  fix: { display: 'flex', flexDirection: 'column', alignItems: 'flex-start', gap: '2px', minWidth: '150px' },
  badge: { whiteSpace: 'nowrap', flexShrink: 0 },
  // Update ids and versions are long single words: they wrap rather than widen the table.
  id: { overflowWrap: 'anywhere' },
  sub: { color: tokens.colorNeutralForeground3 },
});

export function KevBadge({ kev }: { kev: NonNullable<FindingFix['kev']> }) {
  const styles = useStyles();
  const due = kev.dueDate ? ` Due date: ${calendarDay(kev.dueDate)}.` : '';
  return (
    <Tooltip content={`In CISA's Known Exploited Vulnerabilities catalog since ${calendarDay(kev.dateAdded)}.${due}`} relationship="description">
      <span><Badge appearance="filled" color="danger" icon={<WarningRegular />} className={styles.badge} data-testid="kev-badge">Known exploited</Badge></span>
    </Tooltip>
  );
}

/** The KB as admins write it (the API names it by its number, as Defender does); an advisory as it is. */
export function updateName(update: { id: string }): string {
  return /^\d+$/.test(update.id) ? `KB${update.id}` : update.id;
}

function FixText({ fix }: { fix: FindingFix }) {
  const styles = useStyles();
  if (fix.status === 'update' && fix.update) {
    const newer = fix.deployable && fix.deployable.id !== fix.update.id ? fix.deployable : null;
    return <>
      <span className={styles.id} title={fix.update.title ?? undefined}>{updateName(fix.update)}</span>
      {newer && <Text size={200} className={styles.id} title={newer.title ?? undefined}>→ newest {updateName(newer)}</Text>}
      {fix.requiresUbuntuPro && <Text size={200} className={styles.sub}>Only Ubuntu Pro ships the fix</Text>}
    </>;
  }
  if (fix.status === 'version' && fix.fixedVersion) return <span className={styles.id}>Update to ≥ {fix.fixedVersion}</span>;
  return <>
    <span>No known fix</span>
    {fix.reason && <Text size={200} className={styles.sub}>{NO_FIX_REASONS[fix.reason] ?? fix.reason}</Text>}
  </>;
}

/** A finding's fix, as a list cell shows it. */
export function FixSummary({ fix }: { fix: FindingFix }) {
  const styles = useStyles();
  return (
    <span className={styles.fix} data-testid="finding-fix">
      <FixText fix={fix} />
      {fix.kev && <KevBadge kev={fix.kev} />}
    </span>
  );
}
