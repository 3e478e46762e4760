/**
 * Comparison 2: inference utilisation. The simulator serves at most C = 16 requests at once
 * and integrates its busy slots over time. The same episodes run (a) through leafe (Temporal
 * workers, every episode/branch advancing on its own) and (b) lock-step (all branches of the
 * batch act, then all step, then all due reflect, with a barrier after each phase).
 */
import type { LeafeSettings } from '../core/leafe-settings';
import type { LatencySpec } from '../sim/latency';
import { log, removeDir, startSimChild, type BenchTemporal } from './bench-support';
import { taskIds } from './overhead';
import { episodeInputs, runInProcess, runLockstepBatches, runTemporal, SIM_SEED, sokobanSpec, type RunSummary } from './workload';

export interface UtilisationResult {
  capacity: number;
  latencyMs: number;
  episodes: number;
  leafe: number;
  lockstep: number;
  ratio: number;
  /** The in-process loop with leafe's per-episode scheduling (no Temporal): isolates the scheduling effect. */
  inProcessAsync: number | null;
  leafeRun: RunSummary;
  lockstepRun: RunSummary;
  sameTrees: boolean;
}

export async function utilisation(t: BenchTemporal, latencyMs: number, episodes: number, leafe: LeafeSettings, withInProcessAsync: boolean): Promise<UtilisationResult> {
  const capacity = 16;
  const latency: LatencySpec = { meanMs: latencyMs, distribution: 'lognormal' };
  const env = sokobanSpec(episodes);
  const ids = await taskIds(episodes);
  const sim = await startSimChild({ env, seed: SIM_SEED, latency, capacity });
  try {
    const inputsFor = (prefix: string) => episodeInputs(ids, env, sim.url, prefix).map((i) => ({ ...i, leafe }));
    log(`utilisation C=${capacity}, L=${latencyMs} ms: leafe (Temporal), ${episodes} episodes at once`);
    await sim.reset();
    const run = await runTemporal(t, inputsFor, episodes, `util`);
    const leafeBusy = (await sim.stats()).busyFraction ?? NaN;
    log(`  leafe busyFraction ${leafeBusy.toFixed(3)} (${run.summary.stepsPerSec.toFixed(1)} steps/s)`);
    removeDir(run.runDir);

    log(`utilisation: lock-step batch of ${episodes}`);
    await sim.reset();
    const lock = await runLockstepBatches(inputsFor('lockstep'), episodes, 'lockstep');
    const lockBusy = (await sim.stats()).busyFraction ?? NaN;
    log(`  lock-step busyFraction ${lockBusy.toFixed(3)} (${lock.summary.stepsPerSec.toFixed(1)} steps/s)`);
    removeDir(lock.runDir);

    let inProcessAsync: number | null = null;
    if (withInProcessAsync) {
      await sim.reset();
      const ip = await runInProcess(inputsFor('inproc'), episodes, 'utilinp');
      inProcessAsync = (await sim.stats()).busyFraction ?? NaN;
      log(`  in-process async busyFraction ${inProcessAsync.toFixed(3)}`);
      removeDir(ip.runDir);
    }
    return {
      capacity,
      latencyMs,
      episodes,
      leafe: leafeBusy,
      lockstep: lockBusy,
      ratio: leafeBusy / lockBusy,
      inProcessAsync,
      leafeRun: { ...run.summary, fingerprint: '' },
      lockstepRun: { ...lock.summary, fingerprint: '' },
      sameTrees: run.summary.fingerprint === lock.summary.fingerprint,
    };
  } finally {
    await sim.stop();
  }
}
