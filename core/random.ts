/**
 * Seeded pseudo-random numbers. Pure and deterministic: safe in workflows, and the reason a
 * simulator run or a dataset sample is reproducible from its seed.
 */

/** 32-bit FNV-1a hash of a string, for deriving seeds from ids and request contents. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Combines seeds and labels into one 32-bit seed. */
export function deriveSeed(...parts: Array<string | number>): number {
  return hashString(parts.map(String).join('\u0000'));
}

/** mulberry32: a small, fast generator with a 32-bit state; returns floats in [0, 1). */
export function createRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Integer in [0, n). */
export function randomInt(rand: () => number, n: number): number {
  return Math.floor(rand() * n);
}
