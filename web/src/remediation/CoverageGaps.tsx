// Coverage gaps ("vulnerable, but no update covers it"): the open findings no imported feed has a
// fix for, by product and reason, with what the admin can do instead, as OneSite Patch's "Missing
// From Strategy" lists them. Filters, sort and page are in the address.

import { Badge, Link, Text, ToolbarButton, makeStyles, tokens } from '@fluentui/react-components';
import { ArrowClockwiseRegular, ShieldCheckmarkRegular } from '@fluentui/react-icons';
import { useConnections } from '../shared/connections';
import { ConsoleLink, NoData, SEVERITY_OPTIONS, SeverityCounts, count, links, useResource } from '../shared/exposure';
import { NO_FIX_REASONS } from '../shared/fix';
import { useRouterLink } from '../shared/links';
import { DataList, ExportCsvButton, type ListColumn } from '../shared/list/DataList';
import { ChoiceFilter, ConnectionFilter, FilterBar, TextFilter } from '../shared/list/filters';
import { useApiList } from '../shared/list/useApiList';
import { Page, Tile } from '../shared/Page';
import { productLabel, softwareIdOf, type CoverageGap } from './parts';
import type { Answer } from '../shared/exposure-types';

const GAP_FILTERS = ['connectionId', 'severity', 'q'] as const;

const useStyles = makeStyles({
  kpis: { display: 'grid', gridTemplateColumns: 'repeat(auto-fit, minmax(220px, 1fr))', gap: '16px' },
  big: { fontSize: tokens.fontSizeHero700, lineHeight: tokens.lineHeightHero700, fontWeight: tokens.fontWeightSemibold, fontVariantNumeric: 'tabular-nums' },
  sub: { color: tokens.colorNeutralForeground3 },
  product: { minWidth: '200px', display: 'inline-block' },
  advice: { minWidth: '280px', display: 'inline-block' },
});

/** The findings list narrowed to a product's open findings (its name: the list's free text). */
function findingsLink(gap: CoverageGap): string {
  const name = gap.product.slice(gap.product.indexOf('/') + 1);
  return `/findings?${new URLSearchParams({ connectionId: gap.connectionId, status: 'open', q: name })}`;
}

function FindingsCount({ gap }: { gap: CoverageGap }) {
  return <Link {...useRouterLink(findingsLink(gap))} title="Its open findings">{gap.openFindings.toLocaleString()}</Link>;
}

export function CoverageGaps() {
  const styles = useStyles();
  const connections = useConnections();
  const exceptions = useRouterLink('/exceptions');
  const list = useApiList({ path: '/api/v1/coverage-gaps', filters: GAP_FILTERS, pageSize: 50, csv: true, defaultSort: '-openFindings' });
  // The list controller keeps only items and total: totalFindings comes from a one-item request with the same filters.
  const totals = useResource<Answer<'/api/v1/coverage-gaps'>>(`/api/v1/coverage-gaps?${new URLSearchParams({ ...list.filters, limit: '1' })}`);

  const columns: ListColumn<CoverageGap>[] = [
    {
      id: 'product', header: 'Product', sortable: true,
      cell: (g) => <span className={styles.product} title={g.title}><ConsoleLink to={links.software(softwareIdOf(g.product), g.connectionId)}>{productLabel(g.product)}</ConsoleLink></span>,
    },
    { id: 'reason', header: 'Why no update covers it', nowrap: true, cell: (g) => <Badge appearance="tint" color={g.reason === 'will_not_fix' ? 'danger' : 'warning'}>{NO_FIX_REASONS[g.reason] ?? g.reason}</Badge> },
    { id: 'whatToDo', header: 'What you can do', cell: (g) => <Text size={200} className={styles.advice}>{g.whatToDo}</Text> },
    { id: 'severity', header: 'Open findings by severity', cell: (g) => <SeverityCounts counts={g.bySeverity} /> },
    { id: 'openFindings', header: 'Open findings', sortable: true, descFirst: true, numeric: true, cell: (g) => <FindingsCount gap={g} /> },
    { id: 'devices', header: 'Exposed devices', sortable: true, descFirst: true, numeric: true, cell: (g) => g.devices.toLocaleString() },
    { id: 'cves', header: 'CVEs', numeric: true, cell: (g) => g.cves.toLocaleString() },
  ];

  return (
    <Page
      title="Coverage gaps"
      label="Coverage gaps"
      trail={[['/remediations', 'Remediations']]}
      commands={<>
        <ExportCsvButton list={list} primary />
        <ToolbarButton icon={<ArrowClockwiseRegular />} onClick={() => { void list.reload(); totals.reload(); }}>Refresh</ToolbarButton>
        <ToolbarButton as="a" icon={<ShieldCheckmarkRegular />} {...exceptions}>Exceptions</ToolbarButton>
      </>}
      description="Vulnerable, but no update covers it: the open findings for which no imported feed knows a fix, by product and reason. Mitigate, uninstall or upgrade the release, or accept the risk with an exception."
    >
      <FilterBar>
        <ConnectionFilter list={list} connections={connections} />
        <ChoiceFilter list={list} name="severity" label="Severity" all="All severities" options={SEVERITY_OPTIONS} multiple />
        <TextFilter list={list} name="q" label="Search" placeholder="Product or CVE" />
      </FilterBar>
      {connections?.length === 0 ? <NoData connections={connections} what="coverage gaps" /> : <>
        <div className={styles.kpis}>
          <Tile title="Open findings without a fix" testId="gap-total-findings">
            <Text className={styles.big}>{count(totals.data?.totalFindings)}</Text>
            <Text className={styles.sub}>no remediation closes them</Text>
          </Tile>
          <Tile title="Coverage gaps" testId="gap-count">
            <Text className={styles.big}>{count(totals.data?.total)}</Text>
            <Text className={styles.sub}>products, each with the reason no update covers it</Text>
          </Tile>
        </div>
        <DataList
          list={list}
          columns={columns}
          label="Coverage gaps"
          noun={['coverage gap', 'coverage gaps']}
          rowId={(g) => g.id}
          empty="No coverage gap: an update covers every open finding."
        />
      </>}
    </Page>
  );
}
