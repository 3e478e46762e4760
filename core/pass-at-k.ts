/**
 * Unbiased Pass@k (Chen et al. 2021): with n samples of which c are correct,
 * pass@k = 1 − C(n−c, k) / C(n, k). Computed as 1 − ∏_{i=n−c+1..n} (1 − k/i): the binomials
 * overflow doubles long before n = 1024, the product of factors in [0, 1) never does.
 * Pure: no Node imports, safe in workflows.
 */

function checkInteger(field: string, value: number, min: number, max: number, expected: string): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`passAtK: ${field} = ${String(value)}, expected ${expected}`);
  }
}

export function passAtK(n: number, c: number, k: number): number {
  checkInteger('n', n, 1, Number.MAX_SAFE_INTEGER, 'an integer >= 1');
  checkInteger('c', c, 0, n, `an integer with 0 <= c <= n (n = ${n})`);
  checkInteger('k', k, 1, n, `an integer with 1 <= k <= n (n = ${n})`);
  if (c === 0) return 0;
  // Fewer than k failures: every k-subset contains a success.
  if (n - c < k) return 1;
  let allFail = 1;
  for (let i = n - c + 1; i <= n; i++) allFail *= 1 - k / i;
  return 1 - allFail;
}

/** Powers of two up to n: [1, 2, 4, ..., 2^⌊log2 n⌋]. n itself is only included when it is a power of two. */
export function defaultKs(n: number): number[] {
  checkInteger('n', n, 1, Number.MAX_SAFE_INTEGER, 'an integer >= 1');
  const ks: number[] = [];
  for (let k = 1; k <= n; k *= 2) ks.push(k);
  return ks;
}

export interface SampleCount {
  /** Samples drawn for the task. */
  n: number;
  /** Samples that succeeded. */
  c: number;
}

/**
 * Mean pass@k over tasks, for each k. Every task must have n >= k for every requested k
 * (a task with fewer samples cannot estimate pass@k; we refuse rather than silently skip it).
 */
export function meanPassAtK(counts: SampleCount[], ks: number[]): Record<number, number> {
  if (counts.length === 0) throw new RangeError('meanPassAtK: counts = [], expected at least one task');
  const out: Record<number, number> = {};
  for (const k of ks) {
    let sum = 0;
    counts.forEach((t, i) => {
      if (Number.isInteger(k) && k > t.n) {
        throw new RangeError(`meanPassAtK: counts[${i}].n = ${t.n} is smaller than k = ${k}, expected n >= every k`);
      }
      sum += passAtK(t.n, t.c, k);
    });
    out[k] = sum / counts.length;
  }
  return out;
}
