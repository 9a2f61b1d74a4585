// Small readers the emulator's feed tests share: MSRC answers JSON only when asked, KB numbers in
// Supercedence text, and dotted build/version comparison (the emulator's, not SitePatch's).

/** MSRC serves CVRF as JSON when asked with this header. */
export const JSON_ACCEPT = { accept: 'application/json' };

/** KB numbers inside Supercedence text, whatever surrounds them ("KB5026265", "5026265<br>5023683"). */
export const KB = /(?<!\d)\d{7}(?!\d)/g;

const dotted = (v: string) => v.split('.').map(Number);

/** Compares dotted numeric versions field by field (a missing field is 0). */
export function compareDotted(a: string, b: string): number {
  const x = dotted(a);
  const y = dotted(b);
  for (let i = 0; i < Math.max(x.length, y.length); i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) - (y[i] ?? 0);
  return 0;
}
