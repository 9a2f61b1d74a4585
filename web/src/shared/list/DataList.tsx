// The console's one table: columns, the API's sort, keyset pages with the exact total, loading,
// empty and error states, and rows the arrow keys move through (Enter opens a row or goes into its
// buttons, Escape back out). TanStack Table keeps the row model and sort state; Fluent UI draws it.

import {
  Button, ProgressBar, Spinner, Table, TableBody, TableCell, TableHeader, TableHeaderCell, TableRow, Text, makeStyles, mergeClasses, tokens,
  useArrowNavigationGroup, useFocusableGroup,
} from '@fluentui/react-components';
import { ArrowDownloadRegular, ChevronLeftRegular, ChevronRightRegular } from '@fluentui/react-icons';
import { flexRender, getCoreRowModel, useReactTable, type ColumnDef, type SortingState, type Updater } from '@tanstack/react-table';
import type { KeyboardEvent, ReactNode } from 'react';
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
  /** Keeps the cell on one line (dates). */
  nowrap?: boolean;
}

const useStyles = makeStyles({
  list: { display: 'flex', flexDirection: 'column', gap: '8px' },
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
  empty: { display: 'flex', flexDirection: 'column', alignItems: 'flex-start', gap: '8px', padding: '12px 0' },
});

/** Where a list downloads as CSV (the whole filtered list); nothing for a list without an export. */
export function ExportCsvButton({ list, primary }: { list: Pick<ListController<unknown>, 'csvHref'>; primary?: boolean }) {
  if (!list.csvHref) return null;
  // A plain download: the browser streams the server's CSV to disk, however long the list is.
  return <Button as="a" appearance={primary ? 'primary' : 'secondary'} icon={<ArrowDownloadRegular />} href={list.csvHref} download>Export CSV</Button>;
}

function sortingOf(sort: string): SortingState {
  return sort ? [{ id: sort.replace(/^-/, ''), desc: sort.startsWith('-') }] : [];
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

export function DataList<Row>({ list, columns, label, noun, rowId, empty, emptyAction, rows, selectedId, onSelect, onOpen, rowTitle }: {
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
  rowTitle?: (row: Row) => string | undefined;
}) {
  const styles = useStyles();
  const navigation = useArrowNavigationGroup({ axis: 'vertical', memorizeCurrent: true });
  // Enter goes into a row's buttons, unless it opens the row.
  const rowGroup = useFocusableGroup({ tabBehavior: 'limited-trap-focus', ignoreDefaultKeydown: onOpen ? { Enter: true } : undefined });
  const sorting = sortingOf(list.sort);
  const definitions: ColumnDef<Row>[] = columns.map((c) => ({
    id: c.id, header: c.header, enableSorting: Boolean(c.sortable), cell: ({ row }) => c.cell(row.original),
  }));
  const table = useReactTable({
    data: rows ?? list.items ?? [],
    columns: definitions,
    getCoreRowModel: getCoreRowModel(),
    getRowId: (row) => String(rowId(row)),
    manualSorting: true,
    sortDescFirst: false,
    state: { sorting },
    onSortingChange: (updater: Updater<SortingState>) => {
      const [next] = typeof updater === 'function' ? updater(sorting) : updater;
      list.setSort(next ? `${next.desc ? '-' : ''}${next.id}` : '');
    },
  });

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
  const byColumn = new Map(columns.map((c) => [c.id, c]));
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
                onClick={onSelect && (() => onSelect(row.original))}
                onDoubleClick={onOpen && (() => onOpen(row.original))}
                onKeyDown={(event) => onKeyDown(event, row.original)}
              >
                {row.getVisibleCells().map((cell) => (
                  <TableCell key={cell.id} className={byColumn.get(cell.column.id)!.nowrap ? styles.nowrap : undefined}>
                    {flexRender(cell.column.columnDef.cell, cell.getContext())}
                  </TableCell>
                ))}
              </TableRow>
            );
          })}
        </TableBody>
      </Table>
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
