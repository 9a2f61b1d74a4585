// Patch content workspace: the five vendor feeds SitePatch learns its fixes from, each with its
// address, its last import and what the console knows from it; the import history; the chosen
// import (in the address: ?import=<id>) with its live progress, its error, each feed's outcome and
// the first records it skipped; and Import now (one feed, or all of them) for operators and
// administrators.

import {
  Badge, Button, Link, Menu, MenuItem, MenuList, MenuPopover, MenuTrigger, MessageBar, MessageBarBody, MessageBarTitle, ProgressBar, SplitButton, Text,
  ToolbarButton, makeStyles, tokens, type MenuButtonProps,
} from '@fluentui/react-components';
import { ArrowClockwiseRegular, CloudArrowDownRegular } from '@fluentui/react-icons';
import { useEffect, useState } from 'react';
import { api } from '../api';
import { Facts, LoadingBlock, count, useAddressParams, useResource } from '../shared/exposure';
import { when } from '../shared/format';
import { DataList, type ListColumn } from '../shared/list/DataList';
import { useList, useLocalList } from '../shared/list/useList';
import { Page, Tile } from '../shared/Page';
import { ProblemBar, problemOf, type Problem } from '../shared/problems';
import {
  FEEDS, FEEDS_PATH, IMPORTS_PATH, duration, isActive, originLabel, sourceLabel,
  type ContentImport, type FeedDescription, type FeedOutcome, type FeedState, type FeedStates, type ImportSource, type ImportStatus, type SkippedRecord,
} from './imports';

const useStyles = makeStyles({
  feeds: { display: 'grid', gridTemplateColumns: 'repeat(auto-fit, minmax(230px, 1fr))', gap: '16px' },
  columns: { display: 'grid', gridTemplateColumns: 'minmax(0, 3fr) minmax(340px, 2fr)', gap: '16px', alignItems: 'start' },
  sub: { color: tokens.colorNeutralForeground3 },
  line: { display: 'flex', alignItems: 'center', gap: '8px', flexWrap: 'wrap' },
  when: { display: 'flex', flexDirection: 'column', alignItems: 'flex-start', gap: '4px' },
  error: { color: tokens.colorPaletteRedForeground1, overflowWrap: 'anywhere' },
  // An import of all feeds fails with one line per feed.
  lines: { whiteSpace: 'pre-line', overflowWrap: 'anywhere' },
  numbers: { fontVariantNumeric: 'tabular-nums' },
  // A reason may quote a long record: it wraps rather than widen the table.
  wrap: { overflowWrap: 'anywhere' },
  progress: { display: 'flex', flexDirection: 'column', gap: '4px' },
  cardLink: { alignSelf: 'flex-start' },
});

const STATUS_BADGES: Record<ImportStatus, { label: string; color: 'success' | 'danger' | 'brand' | 'informative'; appearance: 'filled' | 'outline' }> = {
  succeeded: { label: 'Succeeded', color: 'success', appearance: 'filled' },
  failed: { label: 'Failed', color: 'danger', appearance: 'filled' },
  running: { label: 'Running', color: 'brand', appearance: 'filled' },
  queued: { label: 'Queued', color: 'informative', appearance: 'outline' },
};

function StatusBadge({ status }: { status: ImportStatus }) {
  const { label, color, appearance } = STATUS_BADGES[status];
  return <Badge color={color} appearance={appearance}>{label}</Badge>;
}

/** A number and what it counts, singular for one (`1 document`, `18 records`). */
function counted(n: number, noun: string): string {
  return `${count(n)} ${n === 1 ? noun : `${noun}s`}`;
}

function counts({ documents, records, skipped }: { documents: number; records: number; skipped?: number }): string {
  return `${counted(documents, 'document')} · ${counted(records, 'record')} · ${count(skipped)} skipped`;
}

/** The phase an import is in; an import of all feeds names the feed first (`msrc: document 2024-Mar`). */
function phaseLabel(phase: string): string {
  const [feed, rest] = phase.split(/: (.*)/s);
  const known = FEEDS.find((f) => f.id === feed);
  return known && rest !== undefined ? `${known.short}: ${rest}` : phase;
}

function FeedCard({ feed, state, onShow }: { feed: FeedDescription; state: FeedState; onShow: (importId: string) => void }) {
  const styles = useStyles();
  const { lastImport, lastSuccess } = state;
  return (
    <Tile title={feed.name} caption={state.url} testId={`feed-${feed.id}`}>
      <Text size={200} className={styles.sub}>{feed.provides}</Text>
      {lastImport ? <>
        <div className={styles.when}><StatusBadge status={lastImport.status} />{lastImport.finishedAt && <Text>{when(lastImport.finishedAt)}</Text>}</div>
        {lastImport.error && <Text size={200} className={styles.error}>{lastImport.error}</Text>}
        {/* The last import did not bring the feed's knowledge (it failed, or is under way): say which one did. */}
        {lastSuccess?.importId !== lastImport.importId && (
          <Text size={200} className={styles.sub}>
            {lastSuccess ? `Fixes known from the import of ${when(lastSuccess.finishedAt)}.` : 'No fixes known from this feed yet.'}
          </Text>
        )}
        {lastSuccess && <Text size={200} className={styles.numbers} data-testid="feed-counts">{counts(lastSuccess)}</Text>}
        <Link as="button" className={styles.cardLink} onClick={() => onShow(lastImport.importId)}>Show this import</Link>
      </> : <div className={styles.when}><Badge appearance="outline" color="informative">Not imported</Badge></div>}
    </Tile>
  );
}

function ImportProgress({ i }: { i: ContentImport }) {
  const styles = useStyles();
  const { done, total } = i.progress;
  return (
    <div className={styles.progress} data-testid="import-progress">
      <Text>{i.status === 'queued' ? 'Waiting for the import before it to finish' : phaseLabel(i.phase)}</Text>
      {/* Nothing done yet (a feed's first document on its way): moving, rather than an empty bar. */}
      <ProgressBar value={total && done ? done / total : undefined} aria-label="Import progress" />
      <Text size={200} className={styles.numbers}>{total ? `${count(done)} of ${count(total)} · ` : ''}{counts({ documents: i.documents, records: i.records, skipped: i.skipped.count })} so far</Text>
    </div>
  );
}

/** What an import of several feeds did for each of them (so far, while it runs). */
function FeedOutcomes({ outcomes }: { outcomes: FeedOutcome[] }) {
  const styles = useStyles();
  const list = useLocalList(outcomes);
  const columns: ListColumn<FeedOutcome>[] = [
    { id: 'feed', header: 'Feed', nowrap: true, cell: (o) => sourceLabel(o.feed) },
    { id: 'status', header: 'Status', nowrap: true, cell: (o) => <StatusBadge status={o.status} /> },
    { id: 'documents', header: 'Documents', numeric: true, cell: (o) => count(o.documents) },
    { id: 'records', header: 'Records', numeric: true, cell: (o) => count(o.records) },
    { id: 'skipped', header: 'Skipped', numeric: true, cell: (o) => count(o.skipped) },
    { id: 'error', header: 'Error', cell: (o) => <span className={styles.error}>{o.error}</span> },
  ];
  return <>
    <Text size={200}>Each feed is applied on its own, in this order: one that fails keeps the fixes known from its previous import.</Text>
    <DataList list={list} columns={columns} label="Feeds of this import" noun={['feed', 'feeds']} rowId={(o) => o.feed} empty="No feed imported yet." />
  </>;
}

function SkippedRecords({ total, first }: { total: number; first: SkippedRecord[] }) {
  const styles = useStyles();
  const list = useLocalList(first, { pageSize: 10 });
  const columns: ListColumn<SkippedRecord>[] = [
    { id: 'where', header: 'Where', cell: (s) => <Text size={200} font="monospace">{s.where}</Text> },
    { id: 'reason', header: 'Why', cell: (s) => <span className={styles.wrap}>{s.reason}</span> },
  ];
  const shown = first.length < total ? `the first ${count(first.length)} of ${count(total)}` : `all ${count(total)}`;
  return <>
    <Text size={200}>What the feeds held that SitePatch did not understand ({shown}); the rest of each document was imported.</Text>
    <DataList list={list} columns={columns} label="Skipped records" noun={['skipped record', 'skipped records']} rowId={(s) => `${s.where}|${s.reason}`} empty="Nothing skipped." />
  </>;
}

/** One import, fetched again every second while it is queued or running. */
function ImportDetail({ importId, onChange }: { importId: string; onChange: (i: ContentImport) => void }) {
  const styles = useStyles();
  const resource = useResource<ContentImport>(`${IMPORTS_PATH}/${encodeURIComponent(importId)}`);
  const i = resource.data;
  const active = i !== null && isActive(i);
  useEffect(() => {
    if (!active) return undefined;
    const timer = setInterval(resource.reload, 1000);
    return () => clearInterval(timer);
  }, [active, resource.reload]);

  // Each new answer goes to the page. Only a new answer is news: the callback changes with every
  // render of the page, so it is no dependency.
  useEffect(() => {
    if (i) onChange(i);
  }, [i]);

  let body;
  if (resource.problem && !i) body = <ProblemBar problem={resource.problem} action={<Button onClick={resource.reload}>Try again</Button>} />;
  else if (!i) body = <LoadingBlock label="Loading the import…" />;
  else {
    body = <>
      <span className={styles.line} data-testid="import-summary"><StatusBadge status={i.status} /><Text weight="semibold">{sourceLabel(i.source)}</Text><Text className={styles.sub}>{originLabel(i)}</Text></span>
      {active && <ImportProgress i={i} />}
      {i.status === 'failed' && (
        <MessageBar intent="error" layout="multiline">
          <MessageBarBody>
            <MessageBarTitle>The import failed</MessageBarTitle>
            <div className={styles.lines}>{i.error}</div>
          </MessageBarBody>
        </MessageBar>
      )}
      <Facts items={[
        ['Queued', when(i.createdAt)],
        ['Started', when(i.startedAt, 'Not yet')],
        ['Finished', when(i.finishedAt, 'Not yet')],
        ['Duration', duration(i) || '—'],
        ['Documents', <span data-testid="import-documents">{count(i.documents)}</span>],
        ['Records', <span data-testid="import-records">{count(i.records)}</span>],
        ['Skipped', <span data-testid="import-skipped">{count(i.skipped.count)}</span>],
      ]} />
      {i.source === 'all' && i.feeds.length > 0 && <FeedOutcomes outcomes={i.feeds} />}
      {i.skipped.count ? <SkippedRecords total={i.skipped.count} first={i.skipped.first} /> : null}
    </>;
  }
  return <Tile title="Import details" testId="import-detail">{body}</Tile>;
}

const HISTORY_COLUMNS: ListColumn<ContentImport>[] = [
  { id: 'createdAt', header: 'Started', nowrap: true, cell: (i) => when(i.startedAt ?? i.createdAt) },
  { id: 'source', header: 'Feeds', nowrap: true, cell: (i) => sourceLabel(i.source) },
  { id: 'origin', header: 'How', cell: (i) => originLabel(i) },
  { id: 'status', header: 'Status', nowrap: true, cell: (i) => <StatusBadge status={i.status} /> },
  { id: 'documents', header: 'Documents', numeric: true, cell: (i) => count(i.documents) },
  { id: 'records', header: 'Records', numeric: true, cell: (i) => count(i.records) },
  { id: 'skipped', header: 'Skipped', numeric: true, cell: (i) => count(i.skipped.count) },
  { id: 'duration', header: 'Duration', numeric: true, nowrap: true, cell: duration },
];

function ImportNowButton({ disabled, onImport }: { disabled: boolean; onImport: (source: ImportSource) => void }) {
  return (
    <Menu positioning="below-end">
      <MenuTrigger disableButtonEnhancement>
        {(trigger: MenuButtonProps) => (
          <SplitButton
            appearance="primary"
            icon={<CloudArrowDownRegular />}
            disabled={disabled}
            menuButton={{ ...trigger, 'aria-label': 'Choose the feeds to import' }}
            primaryActionButton={{ onClick: () => onImport('all'), title: 'Import every feed, one after the other' }}
          >
            Import now
          </SplitButton>
        )}
      </MenuTrigger>
      <MenuPopover>
        <MenuList>
          <MenuItem onClick={() => onImport('all')}>All feeds</MenuItem>
          {FEEDS.map((f) => <MenuItem key={f.id} onClick={() => onImport(f.id)}>{f.name}</MenuItem>)}
        </MenuList>
      </MenuPopover>
    </Menu>
  );
}

/**
 * Whether a feed's card shows less than the given import now tells of it: the card stands for the
 * newest import that covers the feed, with that feed's own outcome once it is known.
 */
function cardBehind(state: FeedState, live: ContentImport): boolean {
  if (live.source !== 'all' && live.source !== state.feed) return false;
  const shown = state.lastImport;
  if (!shown) return true;
  if (shown.importId !== live.importId) return shown.finishedAt !== null && shown.finishedAt < live.createdAt;
  const outcome = live.feeds.find((o) => o.feed === state.feed);
  return outcome ? shown.status !== outcome.status : shown.status !== live.status;
}

export function PatchContent({ canImport }: { canImport: boolean }) {
  const styles = useStyles();
  const feeds = useResource<FeedStates>(FEEDS_PATH);
  const feedStates = feeds.data?.items;
  // The history pages inside the page: the address holds the chosen import.
  const history = useList<ContentImport>({ path: IMPORTS_PATH, pageSize: 20, state: 'local' });
  const address = useAddressParams(['import']);
  const chosenId = address.filters.import ?? history.items?.[0]?.importId ?? null;
  const [starting, setStarting] = useState(false);
  const [startProblem, setStartProblem] = useState<Problem | null>(null);
  const [chosenActive, setChosenActive] = useState(false);

  const refresh = () => {
    void history.reload();
    feeds.reload();
  };

  async function importNow(source: ImportSource) {
    setStarting(true);
    setStartProblem(null);
    try {
      const { importId } = await api<{ importId: string }>('POST', IMPORTS_PATH, { source });
      address.setFilter('import', importId);
      refresh();
    } catch (e) {
      setStartProblem(problemOf(e));
    } finally {
      setStarting(false);
    }
  }

  // The chosen import's newest answer stands in for its row: the history follows its progress, and
  // the feed cards are read again when they are behind it. (A fast import can be over by its first
  // answer, so this compares the data rather than waiting to see the import end.)
  function followChosen(live: ContentImport) {
    setChosenActive(isActive(live));
    history.update((items) => items.map((i) => (i.importId === live.importId ? live : i)));
    if (feedStates?.some((s) => cardBehind(s, live))) feeds.reload();
  }

  const empty = history.items?.length === 0 && !history.cursors.length;
  return (
    <Page
      title="Patch content"
      label="Patch content"
      commands={<>
        {canImport && <ImportNowButton disabled={starting || chosenActive} onImport={(source) => void importNow(source)} />}
        <ToolbarButton icon={<ArrowClockwiseRegular />} onClick={refresh}>Refresh</ToolbarButton>
      </>}
      description="SitePatch learns from these vendor feeds which update or version fixes each finding, and which CVEs are exploited in the wild. They are imported on a schedule; a failed import keeps the fixes known from the previous one."
    >
      <ProblemBar problem={startProblem} title="The import did not start" />
      <ProblemBar problem={feeds.problem} action={<Button onClick={feeds.reload}>Try again</Button>} />
      {feedStates
        ? <div className={styles.feeds}>{FEEDS.map((feed) => {
          const state = feedStates.find((s) => s.feed === feed.id);
          return state && <FeedCard key={feed.id} feed={feed} state={state} onShow={(id) => address.setFilter('import', id)} />;
        })}</div>
        : !feeds.problem && <LoadingBlock label="Loading the feeds…" lines={3} />}
      <div className={empty ? undefined : styles.columns}>
        <Tile title="Import history">
          <DataList
            list={history}
            columns={HISTORY_COLUMNS}
            label="Import history"
            noun={['import', 'imports']}
            rowId={(i) => i.importId}
            selectedId={chosenId}
            onSelect={(i) => address.setFilter('import', i.importId)}
            rowTitle={(i) => i.error ?? undefined}
            empty={canImport ? 'No import yet — Import now brings in what every feed knows.' : 'No import yet. Imports run on the schedule; an operator or administrator can also import now.'}
            emptyAction={canImport && <Button appearance="primary" icon={<CloudArrowDownRegular />} disabled={starting} onClick={() => void importNow('all')}>Import now</Button>}
          />
        </Tile>
        {chosenId && <ImportDetail key={chosenId} importId={chosenId} onChange={followChosen} />}
      </div>
    </Page>
  );
}
