// Sorting and keyset paging for the exposure lists. A list names its sort keys; each is an SQL
// expression that is never null (coalesced) plus a unique tie-breaker, so "the rows after the last
// one shown" is one row-value comparison, which SQLite and PostgreSQL both run. The cursor carries
// the last row's values, so a page is as fast deep in the list as at its start.

import { sql, type CompiledQuery, type Kysely, type RawBuilder } from 'kysely';
import type { DataVersionCache } from './cache.js';
import type { ListPage } from './views.js';

/** What every list takes besides its own filters. */
export interface ListParameters {
  q?: string;
  sort?: string;
  cursor?: string;
  limit: number;
}

export class BadParameterError extends Error {
  constructor(readonly parameter: string, message: string, readonly fix: string) {
    super(message);
  }
}

/** One or more expressions, none of them null (coalesce nullable columns); a row's values for them are its position. */
export type SortKey = RawBuilder<unknown>[];

export interface Sort {
  key: string;
  descending: boolean;
  expressions: RawBuilder<unknown>[];
}

type Value = string | number;

/** `sort=key` or `sort=+key` ascending, `sort=-key` descending (a "+" left unescaped in a query string arrives as a space). */
export function parseSort(value: string | undefined, keys: Record<string, SortKey>, fallback: string): Sort {
  const text = value?.trim() || fallback;
  const sign = text[0] === '-' || text[0] === '+' ? text[0] : '';
  const key = sign ? text.slice(1) : text;
  const spec = keys[key];
  if (!spec) {
    throw new BadParameterError('sort', `The list cannot be sorted by "${key}".`, `Use one of: ${Object.keys(keys).join(', ')} (prefix "-" for descending).`);
  }
  return { key, descending: sign === '-', expressions: spec };
}

/** The cursor of the page after a row: its sort values and tie-breaker, opaque to clients. */
function encodeCursor(sort: Sort, values: Value[]): string {
  return Buffer.from(JSON.stringify([sort.key, sort.descending, values])).toString('base64url');
}

const CURSOR_FIX = 'Pass the nextCursor of the previous page unchanged, or leave cursor out for the first page.';

/** The position a cursor names: the sort values of the last row shown, then its tie-breaker. */
function decodeCursor(cursor: string | undefined, sort: Sort): Value[] | undefined {
  if (cursor === undefined || cursor === '') return undefined;
  let parsed: any;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  const valid = Array.isArray(parsed) && parsed.length === 3 && Array.isArray(parsed[2]) && parsed[2].length === sort.expressions.length + 1
    && parsed[2].every((v: unknown) => typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v)));
  if (!valid) throw new BadParameterError('cursor', 'The cursor is not one this list handed out.', CURSOR_FIX);
  if (parsed[0] !== sort.key || parsed[1] !== sort.descending) {
    throw new BadParameterError('cursor', 'The cursor belongs to another sort order.', 'Keep the same sort while paging, or start again without a cursor.');
  }
  return parsed[2];
}

/** The sort's values and the tie-breaker as columns sort_0 … sort_n and sort_tie, for a list's inner query to select. */
export function sortColumns(sort: Sort, tie: RawBuilder<unknown>): RawBuilder<unknown> {
  return sql.join([...sort.expressions.map((e, i) => sql`${e} AS ${sql.ref(`sort_${i}`)}`), sql`${tie} AS sort_tie`]);
}

/** The query for up to `limit` rows of `rows` (which selects sortColumns, last) after `position`, in the sort's order. */
function afterQuery<R>(rows: RawBuilder<R>, sort: Sort, position: Value[] | undefined, limit: number): RawBuilder<R> {
  const columns = [...sort.expressions.map((_, i) => sql.ref(`r.sort_${i}`)), sql.ref('r.sort_tie')];
  const direction = sql.raw(sort.descending ? 'DESC' : 'ASC');
  const after = position
    ? sql`WHERE (${sql.join(columns)}) ${sql.raw(sort.descending ? '<' : '>')} (${sql.join(position.map((v) => sql.val(v)))})` : sql``;
  return sql<R>`SELECT * FROM (${rows}) AS r ${after} ORDER BY ${sql.join(columns.map((c) => sql`${c} ${direction}`))} LIMIT ${limit}`;
}

async function rowsAfter<R extends Record<string, unknown>>(
  db: Kysely<any>, rows: RawBuilder<R>, sort: Sort, position: Value[] | undefined, limit: number,
): Promise<R[]> {
  return (await afterQuery(rows, sort, position, limit).execute(db)).rows;
}

/** Runs a compiled query and answers its rows as arrays of column values (no object per row: exports). */
export type ArrayRows = (query: CompiledQuery) => Promise<unknown[][]>;

/**
 * Every row of `rows` as arrays of its columns (the sort's columns last), a page at a time, for
 * million-row exports. Build `rows` before calling, so that a bad parameter fails first.
 */
export async function* everyArrayPage(db: Kysely<any>, arrays: ArrayRows, rows: RawBuilder<unknown>, sort: Sort, size = 5000): AsyncGenerator<unknown[][]> {
  const width = sort.expressions.length + 1;
  for (let position: Value[] | undefined; ;) {
    const page = await arrays(afterQuery(rows, sort, position, size).compile(db));
    if (page.length) yield page;
    if (page.length < size) return;
    position = page[page.length - 1].slice(-width) as Value[];
  }
}

/** A row's position in the sort (for the next page's cursor). */
const positionOf = (sort: Sort, row: Record<string, unknown>): Value[] =>
  [...sort.expressions.map((_, i) => row[`sort_${i}`] as Value), row.sort_tie as Value];

/**
 * One page of a list and its exact total. `rows` must select sortColumns(sort, tie); paging wraps
 * it, so grouped and plain lists page alike (SQLite flattens the plain ones back onto their indexes).
 */
export async function keysetPage<R extends Record<string, unknown>>(
  db: Kysely<any>, rows: RawBuilder<R>, sort: Sort, cursor: string | undefined, limit: number, cache: DataVersionCache,
): Promise<ListPage<R>> {
  const count = sql<{ n: number }>`SELECT count(*) AS n FROM (${rows}) AS r`;
  const compiled = count.compile(db);
  // The total of a filter is the same on every page until the next sync: counted once.
  const position = decodeCursor(cursor, sort);
  const [page, total] = await Promise.all([
    rowsAfter(db, rows, sort, position, limit + 1).catch((e: { code?: string }) => {
      // A cursor made up by hand can hold a value its column cannot compare with (PostgreSQL's data exceptions, class 22).
      throw position && typeof e.code === 'string' && e.code.startsWith('22') ? new BadParameterError('cursor', 'The cursor is not one this list handed out.', CURSOR_FIX) : e;
    }),
    cache.get(`count|${compiled.sql}|${JSON.stringify(compiled.parameters)}`, async () => Number((await count.execute(db)).rows[0].n)),
  ]);
  const items = page.slice(0, limit);
  return { items, total, nextCursor: page.length > limit ? encodeCursor(sort, positionOf(sort, items[items.length - 1])) : null };
}

/**
 * Every row of a list in the sort's order, a page at a time, without counting (exports: memory
 * stays flat). Build `rows` before calling, so that a bad parameter fails before a download starts.
 */
export async function* everyPage<R extends Record<string, unknown>, T>(
  db: Kysely<any>, rows: RawBuilder<R>, sort: Sort, map: (row: R) => T, size = 5000,
): AsyncGenerator<T[]> {
  for (let position: Value[] | undefined; ;) {
    const page = await rowsAfter(db, rows, sort, position, size);
    if (page.length) yield page.map(map);
    if (page.length < size) return;
    position = positionOf(sort, page[page.length - 1]);
  }
}

/** A LIKE pattern that finds `text` anywhere, with LIKE's wildcards in it taken literally. */
export function containsPattern(text: string): string {
  return `%${text.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** Comma-separated values of a filter, each one of `allowed` (case-insensitive), in their canonical spelling. */
export function listParameter<T extends string>(name: string, value: string | undefined, allowed: readonly T[]): T[] | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  return value.split(',').map((part) => {
    const found = allowed.find((a) => a.toLowerCase() === part.trim().toLowerCase());
    if (!found) throw new BadParameterError(name, `"${part.trim()}" is not a valid ${name}.`, `Use one or more of: ${allowed.join(', ')} (comma-separated).`);
    return found;
  });
}
