// Stateless, seeded hashing. Every generated fact is a pure function of (seed, coordinates),
// so any device or CVE can be produced on demand without replaying history or keeping it in memory.

export function seedFrom(seed: string | number): number {
  const text = String(seed);
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A uniformly distributed uint32 for the given coordinates. */
export function hash(seed: number, a: number, b = 0, c = 0, d = 0): number {
  let h = fmix(seed ^ 0x9e3779b9);
  h = fmix(h ^ Math.imul(a | 0, 0xcc9e2d51));
  h = fmix(h ^ Math.imul(b | 0, 0x1b873593));
  h = fmix(h ^ Math.imul(c | 0, 0xe6546b64));
  return fmix(h ^ Math.imul(d | 0, 0x85ebca6b));
}

/** A number in [0, 1). */
export function unit(h: number): number {
  return h / 4294967296;
}

/** An integer in [min, max]. */
export function between(h: number, min: number, max: number): number {
  return min + (h % (max - min + 1));
}

export function pick<T>(h: number, items: readonly T[]): T {
  return items[h % items.length];
}

/** Picks from [item, weight] pairs. */
export function weighted<T>(h: number, items: readonly (readonly [T, number])[]): T {
  const total = items.reduce((sum, [, w]) => sum + w, 0);
  let point = unit(h) * total;
  for (const [item, w] of items) {
    if (point < w) return item;
    point -= w;
  }
  return items[items.length - 1][0];
}

export function hex(seed: number, length: number, ...coords: number[]): string {
  let out = '';
  for (let i = 0; out.length < length; i++) {
    out += hash(seed, coords[0] ?? 0, coords[1] ?? 0, coords[2] ?? 0, i + 1).toString(16).padStart(8, '0');
  }
  return out.slice(0, length);
}

export function guid(seed: number, ...coords: number[]): string {
  const h = hex(seed, 32, ...coords);
  // Version 4 / RFC 4122 variant bits, so the ids look like what Entra hands out.
  const variant = ((parseInt(h[16], 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** Positive modulo, so schedules work for snapshots before the emulator's start (negative indexes). */
export function mod(n: number, m: number): number {
  return ((n % m) + m) % m;
}
