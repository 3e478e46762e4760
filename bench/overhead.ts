/**
 * Comparison 1: orchestration overhead. The same Sokoban episodes run (a) as episodeWorkflows
 * on in-process Temporal workers and (b) by the in-process loop calling the same activity
 * functions, against the same simulator (seeded lognormal latency with mean L, no capacity
 * limit). Plus the ceiling: steps/s through Temporal with L = 0.
 */
import type { LeafeSettings } from '../core/leafe-settings';
import type { LatencySpec } from '../sim/latency';
import os from 'node:os';
import { log, machineLoad, percentile, removeDir, sampleCpu, startSimChild, type BenchTemporal, type SimHandle } from './bench-support';
import {
  attachLatencies,
  episodeInputs,
  fetchHistories,
  hopLatencies,
  runInProcess,
  runTemporal,
  SIM_SEED,
  sokobanSpec,
  temporalStepTimings,
  type CpuPerStep,
  type RunSummary,
  type WorkflowHistory,
  type WorkerTuning,
} from './workload';
import { providerFor } from '../envs/registry';

export interface OverheadRow {
  latencyMs: number;
  episodes: number;
  concurrency: number;
  steps: number;
  temporalStepsPerSec: number;
  inProcessStepsPerSec: number;
  ratio: number;
  /** Temporal per-step cycle time minus the simulated latency of the step's act request (and of its reflection, when the step had one). */
  overheadMsP50: number;
  overheadMsP95: number;
  /** The same for the in-process loop (HTTP, prompt rendering, artifact store, env step). */
  inProcessOverheadMsP50: number;
  inProcessOverheadMsP95: number;
  /** Temporal minus in-process cycle time, paired step by step (same request, same latency). */
  addedMsP50: number;
  addedMsP95: number;
  /** CPU ms per new step by process (Temporal server, bench process = workers or loop, simulator). */
  temporalCpuMsPerStep: CpuPerStep | null;
  inProcessCpuMsPerStep: CpuPerStep | null;
  /** Steps/s a fully used 2-core machine would give at that CPU cost (2000 ms / CPU ms per step). */
  temporalCpuBoundStepsPerSec: number;
  loadavg1: number;
  sameTrees: boolean;
  /** Where the Temporal path's time goes between server and workers (ms, from history event times). */
  hopsMs: ReturnType<typeof hopLatencies>;
  /** Fraction of recomputed simulator request keys (act and reflection, both paths) found in the server's counters (1 = exact). */
  latencyKeysMatched: number;
  /** How many keys that fraction is over, and how many of them were reflections. */
  latencyKeysChecked: number;
  reflectionKeysChecked: number;
  temporal: RunSummary;
  inProcess: RunSummary;
}

export interface OverheadResult {
  row: OverheadRow;
  histories: WorkflowHistory[];
}

export async function taskIds(count: number): Promise<string[]> {
  return providerFor(sokobanSpec(count)).listTasks(count);
}

export async function overheadAt(t: BenchTemporal, latencyMs: number, episodes: number, concurrency: number, leafe: LeafeSettings, tuning: WorkerTuning = {}): Promise<OverheadResult> {
  const latency: LatencySpec = { meanMs: latencyMs, distribution: 'lognormal' };
  const env = sokobanSpec(episodes);
  const ids = await taskIds(episodes);
  const sim: SimHandle = await startSimChild({ env, seed: SIM_SEED, latency });
  try {
    const inputsFor = (prefix: string) => episodeInputs(ids, env, sim.url, prefix).map((i) => ({ ...i, leafe }));

    log(`overhead L=${latencyMs} ms: Temporal, ${episodes} episodes, ${concurrency} at once`);
    await sim.reset();
    const cpu = () => sampleCpu(t.serverCpuMs, sim.pid);
    const load0 = machineLoad().loadavg1;
    const temporal = await runTemporal(t, inputsFor, concurrency, `ovh${latencyMs}`, tuning, cpu);
    const temporalSimStats = await sim.stats();
    log(`  temporal: ${temporal.summary.steps} steps in ${(temporal.summary.wallMs / 1000).toFixed(1)} s = ${temporal.summary.stepsPerSec.toFixed(1)} steps/s (${temporal.summary.branches} branches, ${temporal.summary.reflections} reflections, ${temporal.summary.solved} solved)`);
    const histories = await fetchHistories(t, temporal);
    const tTimings = await attachLatencies(temporalStepTimings(histories), temporal.runDir, latency);

    log(`overhead L=${latencyMs} ms: in-process loop`);
    await sim.reset();
    const inproc = await runInProcess(inputsFor('inproc'), concurrency, `inp${latencyMs}`, cpu);
    const simStats = await sim.stats();
    log(`  in-process: ${inproc.summary.steps} steps in ${(inproc.summary.wallMs / 1000).toFixed(1)} s = ${inproc.summary.stepsPerSec.toFixed(1)} steps/s`);
    const iTimings = await attachLatencies(inproc.timings, inproc.runDir, latency);
    // Every recomputed request key (act, and reflection when the step had one; both paths) must be
    // one the simulator counted in that run: otherwise the latency subtracted is not the one drawn.
    const keysOf = (steps: typeof iTimings) => steps.flatMap((s) => (s.reflectKey ? [s.key, s.reflectKey] : [s.key]));
    const checkedKeys = [...keysOf(tTimings).map((k) => temporalSimStats.perKey[k] !== undefined), ...keysOf(iTimings).map((k) => simStats.perKey[k] !== undefined)];
    const matched = checkedKeys.filter(Boolean).length / Math.max(1, checkedKeys.length);

    const tOver = tTimings.map((s) => s.cycleMs - s.latencyMs);
    const iOver = iTimings.map((s) => s.cycleMs - s.latencyMs);
    const pairKey = (s: { episodeId: string; branchId: string; act: { seed: number } }) => `${s.episodeId.slice(s.episodeId.lastIndexOf('/') + 1)}|${s.branchId}|${s.act.seed}`;
    const iByKey = new Map(iTimings.map((s) => [pairKey(s), s.cycleMs]));
    const added = tTimings.flatMap((s) => {
      const other = iByKey.get(pairKey(s));
      return other === undefined ? [] : [s.cycleMs - other];
    });
    if (tTimings.length !== temporal.summary.steps) log(`  note: ${tTimings.length} timed steps in histories for ${temporal.summary.steps} steps`);
    if (iTimings.length !== inproc.summary.steps) log(`  note: ${iTimings.length} timed in-process steps for ${inproc.summary.steps} steps`);
    const row: OverheadRow = {
      latencyMs,
      episodes,
      concurrency,
      steps: temporal.summary.steps,
      temporalStepsPerSec: temporal.summary.stepsPerSec,
      inProcessStepsPerSec: inproc.summary.stepsPerSec,
      ratio: temporal.summary.stepsPerSec / inproc.summary.stepsPerSec,
      overheadMsP50: percentile(tOver, 0.5),
      overheadMsP95: percentile(tOver, 0.95),
      inProcessOverheadMsP50: percentile(iOver, 0.5),
      inProcessOverheadMsP95: percentile(iOver, 0.95),
      addedMsP50: percentile(added, 0.5),
      addedMsP95: percentile(added, 0.95),
      temporalCpuMsPerStep: roundCpu(temporal.cpuPerStep),
      inProcessCpuMsPerStep: roundCpu(inproc.cpuPerStep),
      temporalCpuBoundStepsPerSec: temporal.cpuPerStep ? (os.cpus().length * 1000) / (temporal.cpuPerStep.server + temporal.cpuPerStep.bench + temporal.cpuPerStep.sim) : NaN,
      loadavg1: (load0 + machineLoad().loadavg1) / 2,
      sameTrees: temporal.summary.fingerprint === inproc.summary.fingerprint,
      hopsMs: hopLatencies(histories),
      latencyKeysMatched: matched,
      latencyKeysChecked: checkedKeys.length,
      reflectionKeysChecked: [...tTimings, ...iTimings].filter((s) => s.reflectKey !== null).length,
      temporal: { ...temporal.summary, fingerprint: '' },
      inProcess: { ...inproc.summary, fingerprint: '' },
    };
    log(`  CPU ms/step temporal ${JSON.stringify(row.temporalCpuMsPerStep)} in-process ${JSON.stringify(row.inProcessCpuMsPerStep)}; load average ${row.loadavg1.toFixed(1)}`);
    const h = row.hopsMs;
    log(`  hops p50/p95 ms: activity schedule→start ${h.activityScheduleToStart.p50.toFixed(0)}/${h.activityScheduleToStart.p95.toFixed(0)}, workflow task schedule→start ${h.workflowTaskScheduleToStart.p50.toFixed(0)}/${h.workflowTaskScheduleToStart.p95.toFixed(0)}, start→complete ${h.workflowTaskStartToComplete.p50.toFixed(0)}/${h.workflowTaskStartToComplete.p95.toFixed(0)}; episode start→first step ${h.episodeStartToFirstStep.p50.toFixed(0)}/${h.episodeStartToFirstStep.p95.toFixed(0)}`);
    log(`  ratio ${row.ratio.toFixed(3)}; overhead p50 ${row.overheadMsP50.toFixed(1)} ms p95 ${row.overheadMsP95.toFixed(1)} ms (in-process ${row.inProcessOverheadMsP50.toFixed(1)}/${row.inProcessOverheadMsP95.toFixed(1)}); same trees: ${row.sameTrees}; latency keys matched ${(matched * 100).toFixed(0)}%`);
    removeDir(temporal.runDir);
    removeDir(inproc.runDir);
    return { row, histories };
  } finally {
    await sim.stop();
  }
}

function roundCpu(c: CpuPerStep | null): CpuPerStep | null {
  return c ? { server: Math.round(c.server * 10) / 10, bench: Math.round(c.bench * 10) / 10, sim: Math.round(c.sim * 10) / 10 } : null;
}

export interface CeilingPoint {
  temporalCpuMsPerStep: CpuPerStep | null;
  loadavg1: number;
  concurrency: number;
  episodes: number;
  steps: number;
  temporalStepsPerSec: number;
  inProcessStepsPerSec: number;
}

/** Steps/s with L = 0 (the simulator answers at once): what orchestration alone sustains. */
export async function ceilingAt(t: BenchTemporal, concurrency: number, episodes: number, leafe: LeafeSettings, withInProcess: boolean, tuning: WorkerTuning = {}): Promise<CeilingPoint> {
  const env = sokobanSpec(episodes);
  const ids = await taskIds(episodes);
  const sim = await startSimChild({ env, seed: SIM_SEED });
  try {
    const inputsFor = (prefix: string) => episodeInputs(ids, env, sim.url, prefix).map((i) => ({ ...i, leafe }));
    log(`ceiling L=0: Temporal, ${episodes} episodes, ${concurrency} at once`);
    const load0 = machineLoad().loadavg1;
    const temporal = await runTemporal(t, inputsFor, concurrency, `ceil${concurrency}`, tuning, () => sampleCpu(t.serverCpuMs, sim.pid));
    log(`  temporal: ${temporal.summary.steps} steps in ${(temporal.summary.wallMs / 1000).toFixed(1)} s = ${temporal.summary.stepsPerSec.toFixed(1)} steps/s`);
    removeDir(temporal.runDir);
    let inProcessStepsPerSec = NaN;
    if (withInProcess) {
      const inproc = await runInProcess(inputsFor('inproc'), concurrency, `ceilinp${concurrency}`);
      inProcessStepsPerSec = inproc.summary.stepsPerSec;
      log(`  in-process: ${inproc.summary.stepsPerSec.toFixed(1)} steps/s`);
      removeDir(inproc.runDir);
    }
    return { temporalCpuMsPerStep: roundCpu(temporal.cpuPerStep), loadavg1: (load0 + machineLoad().loadavg1) / 2, concurrency, episodes, steps: temporal.summary.steps, temporalStepsPerSec: temporal.summary.stepsPerSec, inProcessStepsPerSec };
  } finally {
    await sim.stop();
  }
}
