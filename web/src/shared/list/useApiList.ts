// useList for a list the OpenAPI document describes: the row type is the API's item type, and the
// filters a page offers (or fixes) must be query parameters the API takes, checked at compile time
// against the generated types (web/src/api-types.ts).

import type { paths } from '../../api-types';
import type { Answer, FilterOf } from '../exposure-types';
import { useList, type ListController, type ListOptions } from './useList';

/** The GET paths that answer a list page ({items, total, nextCursor}). */
export type ListPath = { [P in keyof paths]: Answer<P> extends { items: unknown[]; total: number } ? P : never }[keyof paths];

export type RowOf<P extends ListPath> = Answer<P> extends { items: (infer T)[] } ? T : never;

export function useApiList<P extends ListPath>(options: Omit<ListOptions, 'path' | 'filters' | 'fixed'> & {
  path: P;
  filters?: readonly FilterOf<P>[];
  fixed?: Partial<Record<FilterOf<P>, string>>;
}): ListController<RowOf<P>> {
  return useList<RowOf<P>>({ ...options, fixed: options.fixed as Record<string, string> | undefined });
}
