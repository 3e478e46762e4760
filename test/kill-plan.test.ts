// The chaos kill plan (scripts/chaos/kill-plan.ts): kill points paced by progress, reproducible
// from the seed, inside the window and far enough apart; a plan that cannot fit is refused.
import { describe, expect, it } from 'vitest';
import { KillPlanError, planKills, type ChaosPlan } from '../scripts/chaos/kill-plan';

const plan: ChaosPlan = { seed: 7, workerKills: 5, serverKills: 1, serverDowntimeMs: [300, 1_000] };

describe('kill plan', () => {
  it('places every kill below the total, strictly increasing, ≥ the gap apart, the server kill after the third worker kill', () => {
    for (const total of [20, 48, 150, 1030]) {
      for (let seed = 0; seed < 50; seed++) {
        const { kills } = planKills({ ...plan, seed }, total);
        expect(kills.map((k) => k.kind)).toEqual(['worker', 'worker', 'worker', 'server', 'worker', 'worker']);
        expect(kills[0].atRequests).toBeGreaterThanOrEqual(Math.ceil(0.05 * total));
        expect(kills.at(-1)!.atRequests).toBeLessThanOrEqual(Math.floor(0.9 * total));
        for (let i = 1; i < kills.length; i++) expect(kills[i].atRequests - kills[i - 1].atRequests).toBeGreaterThanOrEqual(3);
        expect(kills[3].downtimeMs).toBeGreaterThanOrEqual(300);
        expect(kills[3].downtimeMs).toBeLessThanOrEqual(1_000);
      }
    }
  });

  it('is reproducible from its seed and varies with it', () => {
    expect(planKills(plan, 100)).toEqual(planKills(plan, 100));
    expect(planKills({ ...plan, seed: 8 }, 100).kills).not.toEqual(planKills(plan, 100).kills);
  });

  it('spreads 15 worker kills and 2 server kills (the cluster plan), server kills after the 5th and 10th worker kill', () => {
    const { kills } = planKills({ ...plan, workerKills: 15, serverKills: 2 }, 300);
    expect(kills.flatMap((k, i) => (k.kind === 'server' ? [i] : []))).toEqual([5, 11]);
    expect(kills.map((k) => k.ofKind)).toEqual([1, 2, 3, 4, 5, 1, 6, 7, 8, 9, 10, 2, 11, 12, 13, 14, 15]);
  });

  it('refuses a plan that does not fit the study, saying what to change', () => {
    expect(() => planKills(plan, 19)).toThrow(KillPlanError);
    expect(() => planKills(plan, 19)).toThrow(/6 kills \(5 worker \+ 1 server\) at least 3 requests apart need 18 .* answered 19 distinct requests .* holds 17 .*--worker-kills/);
    expect(() => planKills({ ...plan, minRequestsBetweenKills: 1 }, 8)).not.toThrow();
    expect(() => planKills({ ...plan, workerKills: -1 }, 100)).toThrow(/workerKills -1: expected an integer ≥ 0/);
    expect(() => planKills({ ...plan, progressWindow: [0.5, 0.2] }, 100)).toThrow(/progressWindow \[0.5,0.2\]/);
  });
});
