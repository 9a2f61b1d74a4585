// The console's one table: columns, the API's sort, keyset pages with the exact total, loading,
// empty and error states, and rows the arrow keys move through (Enter opens a row or goes into its
// buttons, Escape back out). TanStack Table keeps the row model and sort state; Fluent UI draws it.

import {
  Button, ProgressBar, Spinner, Table, TableBody, TableCell, TableHeader, TableHeaderCell, TableRow, Text, makeStyles, mergeClasses, tokens,
  useArrowNavigationGroup, useFocusableGroup,
} from '@fluentui/react-components';
import { ArrowDownloadRegular, ChevronLeftRegular, ChevronRightRegular } from '@fluentui/react-icons';
import { flexRender, getCoreRowModel, useReactTable, type ColumnDef, type SortingState, type Updater } from '@tanstack/react-table';
import type { KeyboardEvent, MouseEvent, ReactNode } from 'react';
import { ProblemBar } from '../problems';
import type { ListController } from './useList';

export interface ListColumn<Row> {
  /** Names the column; for a sortable one, also the API's sort value (`sort=<id>`, `sort=-<id>`). */
  id: string;
  header: string;
  /** The header is for assistive technology only (a column of row actions). */
  headerHidden?: boolean;
  cell: (row: Row) => ReactNode;
  /** The API sorts on this column. */
  sortable?: boolean;
  /** The first click sorts descending (counts, scores, dates: the most first). */
  descFirst?: boolean;
  /** Right-aligned (numbers). */
  numeric?: boolean;
  /** Keeps the cell on one line (dates). */
  nowrap?: boolean;
}

const useStyles = makeStyles({
  list: { display: 'flex', flexDirection: 'column', gap: '8px', minWidth: 0 },
  // A table wider than its card (a narrow window) scrolls sideways inside it, not the page.
  scroll: { overflowX: 'auto' },
  bar: { display: 'flex', alignItems: 'center', gap: '8px', minHeight: '32px' },
  range: { marginRight: 'auto' },
  // Always there, so that the table does not jump when a request starts or ends.
  progress: { height: '2px' },
  // Columns as wide as their content (Fluent's default gives every column the same width).
  table: { backgroundColor: tokens.colorNeutralBackground1, tableLayout: 'auto' },
  row: { ':focus-visible': { outline: `2px solid ${tokens.colorStrokeFocus2}`, outlineOffset: '-2px' } },
  pickable: { cursor: 'pointer' },
  selected: { backgroundColor: tokens.colorNeutralBackground1Selected },
  nowrap: { whiteSpace: 'nowrap' },
  numeric: { textAlign: 'right', fontVariantNumeric: 'tabular-nums', '& > div, & > button': { justifyContent: 'flex-end' } },
  empty: { display: 'flex', flexDirection: 'column', alignItems: 'flex-start', gap: '8px', padding: '12px 0' },
});

/** Where a list downloads as CSV (the whole filtered list); nothing for a list without an export. `label` names what the file is for. */
export function ExportCsvButton({ list, primary, label = 'Export CSV' }: { list: Pick<ListController<unknown>, 'csvHref'>; primary?: boolean; label?: string }) {
  if (!list.csvHref) return null;
  // A plain download: the browser streams the server's CSV to disk, however long the list is.
  return <Button as="a" appearance={primary ? 'primary' : 'secondary'} icon={<ArrowDownloadRegular />} href={list.csvHref} download>{label}</Button>;
}

/**
 * The API's sort parameter as TanStack's state: `-key` descending, `+key` ascending, and a bare
 * `key` in that key's own direction (the API sorts counts, scores and dates most first: the
 * columns marked descFirst).
 */
function sortingOf<Row>(sort: string, columns: Map<string, ListColumn<Row>>): SortingState {
  if (!sort) return [];
  const sign = sort[0] === '-' || sort[0] === '+' ? sort[0] : '';
  const id = sign ? sort.slice(1) : sort;
  return [{ id, desc: sign === '-' || (sign === '' && Boolean(columns.get(id)?.descFirst)) }];
}

/** TanStack's state as the API's sort parameter: a sign only where the bare key would mean the other direction. */
function sortOf<Row>(state: { id: string; desc: boolean } | undefined, columns: Map<string, ListColumn<Row>>): string {
  if (!state) return '';
  if (state.desc) return `-${state.id}`;
  return columns.get(state.id)?.descFirst ? `+${state.id}` : state.id;
}

function Pager<Row>({ list, noun }: { list: ListController<Row>; noun: [string, string] }) {
  const styles = useStyles();
  if (!list.pageSize || list.items === null) return null;
  const paged = list.cursors.length > 0 || list.nextCursor !== null;
  const first = list.offset + 1;
  const range = paged && list.items.length ? `${first.toLocaleString()}–${(first + list.items.length - 1).toLocaleString()} of ` : '';
  return (
    <div className={styles.bar}>
      <Text className={styles.range} aria-live="polite" data-testid="list-range">{range}{list.total.toLocaleString()} {list.total === 1 ? noun[0] : noun[1]}</Text>
      {paged && <>
        <Button icon={<ChevronLeftRegular />} disabled={!list.cursors.length || list.loading} onClick={list.previousPage}>Previous</Button>
        <Button icon={<ChevronRightRegular />} iconPosition="after" disabled={!list.nextCursor || list.loading} onClick={list.nextPage}>Next</Button>
      </>}
    </div>
  );
}

export function DataList<Row>({ list, columns, label, noun, rowId, empty, emptyAction, rows, selectedId, onSelect, onOpen, openOnClick, rowTitle }: {
  list: ListController<Row>;
  columns: ListColumn<Row>[];
  /** The table's accessible name. */
  label: string;
  /** What a row is: singular, plural. */
  noun: [string, string];
  rowId: (row: Row) => string | number;
  /** What an empty list says when no filter is set, and what to do about it. */
  empty: string;
  emptyAction?: ReactNode;
  /** The rows to show, where the page narrows the list's items itself. */
  rows?: Row[];
  selectedId?: string | number | null;
  onSelect?: (row: Row) => void;
  /** Double click, or Enter on the row. */
  onOpen?: (row: Row) => void;
  /** A single click on the row opens it too (a click on a link or button in it does what that does). */
  openOnClick?: boolean;
  rowTitle?: (row: Row) => string | undefined;
}) {
  const styles = useStyles();
  const navigation = useArrowNavigationGroup({ axis: 'vertical', memorizeCurrent: true });
  // Enter goes into a row's buttons, unless it opens the row.
  const rowGroup = useFocusableGroup({ tabBehavior: 'limited-trap-focus', ignoreDefaultKeydown: onOpen ? { Enter: true } : undefined });
  const byColumn = new Map(columns.map((c) => [c.id, c]));
  const sorting = sortingOf(list.sort, byColumn);
  const definitions: ColumnDef<Row>[] = columns.map((c) => ({
    // The server sorts; TanStack only sorts (and offers to) a column with an accessor.
    id: c.id, header: c.header, accessorFn: () => null, enableSorting: Boolean(c.sortable), sortDescFirst: Boolean(c.descFirst), cell: ({ row }) => c.cell(row.original),
  }));
  const table = useReactTable({
    data: rows ?? list.items ?? [],
    columns: definitions,
    getCoreRowModel: getCoreRowModel(),
    getRowId: (row) => String(rowId(row)),
    manualSorting: true,
    sortDescFirst: false,
    // A list with an order of its own always has one: a column's third click does not take it away.
    enableSortingRemoval: !list.defaultSort,
    state: { sorting },
    onSortingChange: (updater: Updater<SortingState>) => {
      const [next] = typeof updater === 'function' ? updater(sorting) : updater;
      list.setSort(sortOf(next, byColumn));
    },
  });

  function onClick(event: MouseEvent, row: Row) {
    if (onSelect) onSelect(row);
    else if (openOnClick && onOpen && !event.defaultPrevented && !(event.target as HTMLElement).closest('a, button, input')) onOpen(row);
  }

  function onKeyDown(event: KeyboardEvent, row: Row) {
    if (event.target !== event.currentTarget) return;
    // preventDefault: the key's own action would land on whatever opening the row focuses (a dialog's first field).
    if (event.key === 'Enter' && onOpen) {
      event.preventDefault();
      onOpen(row);
    } else if (event.key === ' ' && onSelect) {
      event.preventDefault();
      onSelect(row);
    }
  }

  const shown = table.getRowModel().rows;
  const filtered = Object.keys(list.filters).length > 0;
  let body: ReactNode;
  if (list.problem) {
    body = <ProblemBar problem={list.problem} action={<Button onClick={() => void list.reload()}>Try again</Button>} />;
  } else if (list.items === null) {
    body = <Spinner size="small" label={`Loading ${noun[1]}…`} />;
  } else if (shown.length === 0) {
    body = (
      <div className={styles.empty}>
        <Text>{filtered ? `No ${noun[1]} match these filters.` : empty}</Text>
        {filtered ? <Button onClick={list.clearFilters}>Clear filters</Button> : emptyAction}
      </div>
    );
  } else {
    body = (
      <div className={styles.scroll}>
      <Table size="small" aria-label={label} className={styles.table}>
        <TableHeader>
          {table.getHeaderGroups().map((group) => (
            <TableRow key={group.id}>
              {group.headers.map((header) => {
                const column = byColumn.get(header.column.id)!;
                const direction = header.column.getIsSorted();
                return (
                  <TableHeaderCell
                    key={header.id}
                    className={column.numeric ? styles.numeric : undefined}
                    aria-label={column.headerHidden ? column.header : undefined}
                    sortable={header.column.getCanSort()}
                    sortDirection={direction ? (direction === 'asc' ? 'ascending' : 'descending') : undefined}
                    onClick={header.column.getToggleSortingHandler()}
                  >
                    {column.headerHidden ? null : flexRender(header.column.columnDef.header, header.getContext())}
                  </TableHeaderCell>
                );
              })}
            </TableRow>
          ))}
        </TableHeader>
        <TableBody {...navigation}>
          {shown.map((row) => {
            const selected = selectedId !== undefined && String(selectedId) === row.id;
            return (
              <TableRow
                key={row.id}
                tabIndex={0}
                {...rowGroup}
                className={mergeClasses(styles.row, (onSelect || onOpen) && styles.pickable, selected && styles.selected)}
                aria-selected={onSelect ? selected : undefined}
                title={rowTitle?.(row.original)}
                onClick={onSelect || (openOnClick && onOpen) ? (event) => onClick(event, row.original) : undefined}
                onDoubleClick={onOpen && !openOnClick ? () => onOpen(row.original) : undefined}
                onKeyDown={(event) => onKeyDown(event, row.original)}
              >
                {row.getVisibleCells().map((cell) => (
                  <TableCell
                    key={cell.id}
                    className={mergeClasses(byColumn.get(cell.column.id)!.nowrap && styles.nowrap, byColumn.get(cell.column.id)!.numeric && styles.numeric)}
                  >
                    {flexRender(cell.column.columnDef.cell, cell.getContext())}
                  </TableCell>
                ))}
              </TableRow>
            );
          })}
        </TableBody>
      </Table>
      </div>
    );
  }

  return (
    <div className={styles.list}>
      <Pager list={list} noun={noun} />
      <div className={styles.progress}>{list.loading && <ProgressBar thickness="medium" aria-label={`Loading ${noun[1]}…`} />}</div>
      {body}
    </div>
  );
}
