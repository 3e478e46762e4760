import { createRandom, deriveSeed } from '../core/random';

/** Simulated inference latency: `fixed` is always meanMs; `lognormal` is long-tailed with mean meanMs. */
export interface LatencySpec {
  meanMs: number;
  distribution: 'fixed' | 'lognormal';
}

/** Spread of the lognormal (sigma of the underlying normal): 0.8 gives a visible tail (p99 ≈ 4× median). */
const LOGNORMAL_SIGMA = 0.8;

/**
 * Latency for one request, drawn from (server seed, request key) only, so a benchmark run is
 * reproducible and independent of request order.
 */
export function drawLatencyMs(spec: LatencySpec | undefined, seed: number, requestKey: string): number {
  if (!spec || spec.meanMs <= 0) return 0;
  if (spec.distribution === 'fixed') return spec.meanMs;
  const rand = createRandom(deriveSeed(seed, 'latency', requestKey));
  // Box–Muller; 1 - u keeps the log argument away from 0.
  const u1 = 1 - rand();
  const u2 = rand();
  const z = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  // E[exp(mu + sigma z)] = exp(mu + sigma²/2), so this mu gives the requested mean.
  const mu = Math.log(spec.meanMs) - (LOGNORMAL_SIGMA * LOGNORMAL_SIGMA) / 2;
  return Math.exp(mu + LOGNORMAL_SIGMA * z);
}
