// Columns of integers that the tallies append to (a first load reports a million rows or more).

/** A copy of `column` with twice its length, for appending past its end. */
export function grown<T extends Int32Array<ArrayBuffer> | Int8Array<ArrayBuffer>>(column: T): T {
  const bigger = new (column.constructor as new (n: number) => T)(column.length * 2);
  bigger.set(column);
  return bigger;
}
