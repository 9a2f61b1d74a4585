// The state of one list the API serves as {items, total, nextCursor}: its filters, sort and page,
// kept in the address bar (so a link can be shared and Back works) or, for a list embedded in a
// page whose own selection is not in the address bar, in the component; and the page the API
// answered for them.

import { useCallback, useEffect, useRef, useState } from 'react';
import { useSearchParams } from 'react-router';
import { api, type List } from '../../api';
import { problemOf, type Problem } from '../problems';

export interface ListOptions {
  /** The API path of the list, e.g. /api/v1/findings. */
  path: string;
  /** The API's filter parameters that this list offers. */
  filters?: readonly string[];
  /** Keyset pages of this many items (`limit`, `cursor`, `nextCursor`); unset: the API answers the whole list. */
  pageSize?: number;
  /** Where the filters, sort and page live: the address bar (default), or the component. */
  state?: 'url' | 'local';
  /** Export CSV: `true` downloads the list's own path with `format=csv`, a path a separate export endpoint. Unset: no export. */
  csv?: true | string;
  /** Fetches the list again when this value changes. */
  reloadOn?: unknown;
  /** The API's own order, shown on its column while no other sort is chosen (`-exposedDevices`). */
  defaultSort?: string;
  /** Filters the page itself sets and the user does not (a CVE page's `cveId`): sent, exported, never in the address. */
  fixed?: Record<string, string>;
}

export interface ListController<Row> {
  /** The filters that are set, by API parameter. */
  filters: Record<string, string>;
  /** The API's sort parameter: `name` ascending, `-name` descending; '' for the API's own order. */
  sort: string;
  /** The API's own order (ListOptions.defaultSort), '' when unknown. */
  defaultSort: string;
  pageSize: number | undefined;
  /** The cursors that led to this page, the last one this page's own: empty on the first page. */
  cursors: string[];
  /** null until the first answer. */
  items: Row[] | null;
  /** How many items come before the shown ones (the shown answer's, while another page loads). */
  offset: number;
  total: number;
  nextCursor: string | null;
  /** A request for other filters, sort or page is under way (the previous answer stays shown). */
  loading: boolean;
  problem: Problem | null;
  /** Where Export CSV downloads the whole filtered list from (paging ignored). */
  csvHref: string | null;
  setFilter(name: string, value: string): void;
  clearFilters(): void;
  setSort(sort: string): void;
  nextPage(): void;
  previousPage(): void;
  /** Fetches this page again (the shown items stay until it answers); resolves to its items, null when it failed. */
  reload(): Promise<Row[] | null>;
  /** Changes the shown items at once, ahead of a reload (a change the server already confirmed). */
  update(change: (items: Row[]) => Row[]): void;
}

function withQuery(path: string, query: URLSearchParams): string {
  const text = query.toString();
  return text ? `${path}?${text}` : path;
}

/** The address bar's query, or one the component keeps, behind the same interface. */
function useQueryState(where: 'url' | 'local'): [URLSearchParams, (next: URLSearchParams) => void] {
  const [url, setUrl] = useSearchParams();
  const [local, setLocal] = useState(() => new URLSearchParams());
  return where === 'url' ? [url, (next) => setUrl(next)] : [local, setLocal];
}

export function useList<Row>({ path, filters: filterNames = [], pageSize, state = 'url', csv, reloadOn, defaultSort = '', fixed = {} }: ListOptions): ListController<Row> {
  const [params, setParams] = useQueryState(state);
  const filters = Object.fromEntries(filterNames.map((name) => [name, params.get(name) ?? '']).filter(([, value]) => value));
  const chosenSort = params.get('sort') ?? '';
  const sort = chosenSort || defaultSort;
  const cursors = pageSize ? params.getAll('cursor') : [];

  const filterQuery = new URLSearchParams({ ...fixed, ...filters });
  if (chosenSort) filterQuery.set('sort', chosenSort);
  const pageQuery = new URLSearchParams(filterQuery);
  if (pageSize) pageQuery.set('limit', String(pageSize));
  if (cursors.length) pageQuery.set('cursor', cursors[cursors.length - 1]);
  const request = withQuery(path, pageQuery);
  const offset = cursors.length * (pageSize ?? 0);

  const [answer, setAnswer] = useState<{ request: string; offset: number; list: List<Row> } | null>(null);
  const [problem, setProblem] = useState<Problem | null>(null);
  // Only the newest request's answer is shown: filters can change faster than the server answers.
  const latest = useRef(0);

  const fetchPage = useCallback(async (): Promise<Row[] | null> => {
    const ticket = ++latest.current;
    try {
      const list = await api<List<Row>>('GET', request);
      if (ticket !== latest.current) return list.items;
      setAnswer({ request, offset, list });
      setProblem(null);
      return list.items;
    } catch (e) {
      if (ticket === latest.current) setProblem(problemOf(e));
      return null;
    }
  }, [request, offset]);

  useEffect(() => { void fetchPage(); }, [fetchPage, reloadOn]);

  /** Every change of filters or sort starts again at the first page; each is a step Back can undo. */
  function change(edit: (next: URLSearchParams) => void, keepPage = false) {
    const next = new URLSearchParams(params);
    if (!keepPage) next.delete('cursor');
    edit(next);
    setParams(next);
  }

  let csvHref: string | null = null;
  if (csv) {
    const exportQuery = new URLSearchParams(filterQuery);
    if (csv === true) exportQuery.set('format', 'csv');
    csvHref = withQuery(csv === true ? path : csv, exportQuery);
  }

  return {
    filters, sort, defaultSort, pageSize, cursors,
    items: answer?.list.items ?? null,
    offset: answer?.offset ?? 0,
    total: answer?.list.total ?? 0,
    nextCursor: answer?.list.nextCursor ?? null,
    loading: answer !== null && answer.request !== request && !problem,
    problem,
    csvHref,
    setFilter: (name, value) => change((next) => (value ? next.set(name, value) : next.delete(name))),
    clearFilters: () => change((next) => filterNames.forEach((name) => next.delete(name))),
    // The API's own order stays out of the address: a link without a sort is the same list.
    setSort: (value) => change((next) => (value && value !== defaultSort ? next.set('sort', value) : next.delete('sort'))),
    nextPage: () => { const cursor = answer?.list.nextCursor; if (cursor) change((next) => next.append('cursor', cursor), true); },
    previousPage: () => change((next) => {
      next.delete('cursor');
      cursors.slice(0, -1).forEach((cursor) => next.append('cursor', cursor));
    }, true),
    reload: fetchPage,
    update: (edit) => setAnswer((a) => (a ? { ...a, list: { ...a.list, items: edit(a.list.items) } } : a)),
  };
}

/**
 * A list the page already holds (a detail's rows: a CVE's software versions, a device's fixed
 * history), behind the same controller so that it shows in the same table: pages of `pageSize`
 * kept in the component, no filters, the order it came in. `items` null: still loading.
 */
export function useLocalList<Row>(items: Row[] | null, { pageSize, problem = null, reload }: { pageSize?: number; problem?: Problem | null; reload?: () => Promise<unknown> } = {}): ListController<Row> {
  const [offset, setOffset] = useState(0);
  const all = items ?? [];
  // A shorter list after a reload: back to a page that exists.
  const start = offset < all.length ? offset : 0;
  const shown = items === null ? null : pageSize ? all.slice(start, start + pageSize) : all;
  const cursors = pageSize ? Array.from({ length: Math.floor(start / pageSize) }, (_, i) => String((i + 1) * pageSize)) : [];
  const next = pageSize && start + pageSize < all.length ? String(start + pageSize) : null;
  return {
    filters: {}, sort: '', defaultSort: '', pageSize, cursors,
    items: shown, offset: start, total: all.length, nextCursor: next, loading: false, problem, csvHref: null,
    setFilter() {}, clearFilters() {}, setSort() {},
    nextPage: () => next !== null && setOffset(Number(next)),
    previousPage: () => setOffset(Math.max(0, start - (pageSize ?? 0))),
    reload: async () => { await reload?.(); return shown; },
    update() {},
  };
}
