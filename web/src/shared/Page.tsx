// The frame of an exposure page: commands on top (primary first, left, as on every workspace),
// a breadcrumb back to the list on a detail page, the title, and what the page shows.

import {
  Breadcrumb, BreadcrumbButton, BreadcrumbDivider, BreadcrumbItem, Card, CardHeader, Text, Title3, Toolbar, makeStyles, mergeClasses, tokens,
} from '@fluentui/react-components';
import { Fragment, type ReactNode } from 'react';
import { useRouterLink } from './links';

const useStyles = makeStyles({
  toolbar: { marginLeft: '-8px', marginBottom: '4px', minHeight: '32px' },
  head: { display: 'flex', alignItems: 'center', gap: '12px', flexWrap: 'wrap' },
  page: { display: 'flex', flexDirection: 'column', gap: '16px', marginTop: '8px' },
  breadcrumb: { marginLeft: '-8px' },
  tile: { padding: '16px 20px', display: 'flex', flexDirection: 'column', gap: '12px', minWidth: 0 },
  tileTitle: { margin: 0, fontSize: tokens.fontSizeBase400, fontWeight: tokens.fontWeightSemibold, lineHeight: tokens.lineHeightBase400 },
  // A long caption (an address) breaks anywhere rather than widen the card.
  tileCaption: { color: tokens.colorNeutralForeground3, overflowWrap: 'anywhere' },
  kpiValue: { fontSize: tokens.fontSizeHero700, lineHeight: tokens.lineHeightHero700, fontWeight: tokens.fontWeightSemibold, fontVariantNumeric: 'tabular-nums' },
  kpiSub: { color: tokens.colorNeutralForeground3 },
});

function Crumb({ to, label }: { to: string; label: string }) {
  return <BreadcrumbButton as="a" {...useRouterLink(to)}>{label}</BreadcrumbButton>;
}

export function Page({ title, label, badges, description, commands, trail, children }: {
  title: ReactNode;
  /** The commands' accessible name ("Vulnerabilities actions"). */
  label: string;
  /** Next to the title (a severity). */
  badges?: ReactNode;
  description?: ReactNode;
  commands?: ReactNode;
  /** The pages above this one: [path, label]. */
  trail?: [string, string][];
  children: ReactNode;
}) {
  const styles = useStyles();
  return (
    <>
      <Toolbar aria-label={`${label} actions`} className={styles.toolbar}>{commands}</Toolbar>
      {trail && (
        <Breadcrumb aria-label="Breadcrumb" size="small" className={styles.breadcrumb}>
          {trail.map(([to, text]) => (
            <Fragment key={to}>
              <BreadcrumbItem><Crumb to={to} label={text} /></BreadcrumbItem>
              <BreadcrumbDivider />
            </Fragment>
          ))}
          <BreadcrumbItem><BreadcrumbButton current>{label}</BreadcrumbButton></BreadcrumbItem>
        </Breadcrumb>
      )}
      <div className={styles.head}>
        <Title3 as="h1">{title}</Title3>
        {badges}
      </div>
      <div className={styles.page}>
        {description && <Text size={200}>{description}</Text>}
        {children}
      </div>
    </>
  );
}

/** A titled card of a page (a dashboard tile, a detail's section); `caption` is a small line under the title. */
export function Tile({ title, caption, action, children, className, testId }: {
  title: string; caption?: string; action?: ReactNode; children: ReactNode; className?: string; testId?: string;
}) {
  const styles = useStyles();
  return (
    <Card className={mergeClasses(styles.tile, className)} role="region" aria-label={title} data-testid={testId}>
      <CardHeader
        header={<Text as="h2" className={styles.tileTitle}>{title}</Text>}
        description={caption && <Text size={200} className={styles.tileCaption}>{caption}</Text>}
        action={action ? <div>{action}</div> : undefined}
      />
      {children}
    </Card>
  );
}

/** A tile with one big figure and a line under it (a detail page's headline numbers). */
export function Kpi({ title, value, sub, testId }: { title: string; value: string; sub?: string; testId?: string }) {
  const styles = useStyles();
  return (
    <Tile title={title} testId={testId}>
      <Text className={styles.kpiValue}>{value}</Text>
      {sub && <Text className={styles.kpiSub}>{sub}</Text>}
    </Tile>
  );
}
