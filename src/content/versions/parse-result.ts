/**
 * What a version parser answers. Parsers never throw: `error` says why a text is not a version of
 * that scheme; `warning` says what the scheme's own tool would complain about while still
 * accepting the text.
 */
export type ParseResult<T> =
  | { ok: true; value: T; warning: string | null }
  | { ok: false; error: string };

export function parsed<T>(value: T, warning: string | null = null): ParseResult<T> {
  return { ok: true, value, warning };
}

export function failed<T>(error: string): ParseResult<T> {
  return { ok: false, error };
}
