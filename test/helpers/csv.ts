// Reading the CSV downloads in tests.

/** Records in a CSV text (quoted cells may hold line breaks), the header row not counted. */
export function csvRecords(text: string): number {
  let records = 0;
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '"') quoted = !quoted;
    else if (text[i] === '\n' && !quoted) records++;
  }
  if (text.length && !text.endsWith('\n')) records++;
  return records - 1;
}
