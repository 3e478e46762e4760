import { describe, expect, it } from 'vitest';
import { defaultKs, meanPassAtK, passAtK } from '../core/pass-at-k';

/** Fraction of k-subsets of n samples (the first c successes) that contain a success. */
function bruteForce(n: number, c: number, k: number): number {
  let total = 0;
  let hit = 0;
  const visit = (start: number, chosen: number[]): void => {
    if (chosen.length === k) {
      total++;
      if (chosen.some((i) => i < c)) hit++;
      return;
    }
    for (let i = start; i < n; i++) visit(i + 1, [...chosen, i]);
  };
  visit(0, []);
  return hit / total;
}

describe('passAtK', () => {
  it('matches brute-force enumeration of all k-subsets for n <= 10', () => {
    for (let n = 1; n <= 10; n++) {
      for (let c = 0; c <= n; c++) {
        for (let k = 1; k <= n; k++) {
          expect(passAtK(n, c, k), `n=${n} c=${c} k=${k}`).toBeCloseTo(bruteForce(n, c, k), 12);
        }
      }
    }
  });

  it('has exact edge cases', () => {
    expect(passAtK(10, 0, 5)).toBe(0);
    expect(passAtK(10, 6, 5)).toBe(1);
    expect(passAtK(10, 10, 1)).toBe(1);
    expect(passAtK(10, 3, 1)).toBeCloseTo(0.3, 15);
  });

  it('stays finite and in [0, 1] for n = 1024', () => {
    for (const c of [0, 1, 2, 10, 100, 512, 1000, 1023, 1024]) {
      for (const k of [1, 2, 16, 128, 512, 1024]) {
        const p = passAtK(1024, c, k);
        expect(Number.isFinite(p)).toBe(true);
        expect(p).toBeGreaterThanOrEqual(0);
        expect(p).toBeLessThanOrEqual(1);
      }
    }
    // Monotone in k.
    expect(passAtK(1024, 5, 128)).toBeGreaterThan(passAtK(1024, 5, 16));
  });

  it('rejects bad input naming the field', () => {
    expect(() => passAtK(0, 0, 1)).toThrow(/n = 0/);
    expect(() => passAtK(5, 6, 1)).toThrow(/c = 6.*0 <= c <= n/);
    expect(() => passAtK(5, 1, 6)).toThrow(/k = 6/);
    expect(() => passAtK(5, 1, 0)).toThrow(/k = 0/);
    expect(() => passAtK(5, 1.5, 1)).toThrow(/c = 1.5/);
    expect(() => passAtK(Number.NaN, 1, 1)).toThrow(/n = NaN/);
  });
});

describe('defaultKs / meanPassAtK', () => {
  it('lists powers of two up to n', () => {
    expect(defaultKs(1)).toEqual([1]);
    expect(defaultKs(10)).toEqual([1, 2, 4, 8]);
    expect(defaultKs(128)).toEqual([1, 2, 4, 8, 16, 32, 64, 128]);
  });

  it('averages over tasks per k', () => {
    const m = meanPassAtK([{ n: 4, c: 0 }, { n: 4, c: 4 }, { n: 4, c: 1 }], [1, 4]);
    expect(m[1]).toBeCloseTo((0 + 1 + 0.25) / 3, 12);
    expect(m[4]).toBeCloseTo((0 + 1 + 1) / 3, 12);
    expect(() => meanPassAtK([{ n: 2, c: 1 }], [4])).toThrow(/counts\[0\]\.n = 2/);
    expect(() => meanPassAtK([], [1])).toThrow(/counts = \[\]/);
  });
});
