/**
 * leafe benchmarks (simulator numbers): what durability costs and how busy it keeps the
 * inference server. One run starts its own Temporal dev server (temp SQLite, no UI), its own
 * simulator processes and in-process workers, and measures side by side on the same workload:
 *   1. orchestration overhead (Temporal vs in-process loop; L = 50 and 500 ms) and the L = 0 ceiling
 *   2. inference utilisation (leafe vs lock-step, capacity 16)
 *   3. history cost per environment step, per workflow type
 *   4. code sandbox throughput
 *
 *   npm run -s bench -- [--json] [--json-out FILE] [--quick] [--only overhead,ceiling,utilisation,sandbox]
 *
 * Logs go to stderr; stdout gets the table, or exactly one JSON object with --json (use
 * `npm run -s` so npm adds no banner). --json-out FILE also writes that object to FILE.
 * See docs/benchmarks.md for definitions and measured numbers.
 */
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import type { LeafeSettings } from '../core/leafe-settings';
import { log, removeDir, round, startBenchTemporal, tempDir } from './bench-support';
import { ceilingAt, overheadAt, type CeilingPoint, type OverheadRow } from './overhead';
import { sandboxBench, type SandboxResult } from './sandbox-bench';
import { utilisation, type UtilisationResult } from './utilisation';
import { branchEventMix, historyCost, WORKLOAD_LEAFE, type WorkflowHistory } from './workload';

interface Config {
  quick: boolean;
  leafe: LeafeSettings;
  concurrency: number;
  overhead: Array<{ latencyMs: number; episodes: number }>;
  ceiling: Array<{ concurrency: number; episodes: number }>;
  utilisation: { latencyMs: number; episodes: number };
  sandbox: { count: number; parallel: number };
}

/**
 * Sized for < 10 minutes on a 2-core machine shared with other work: the Temporal path was
 * measured at ~3-7 steps/s there (CPU bound, see docs/benchmarks.md), so each Temporal run
 * is kept to a few hundred environment steps.
 */
const FULL: Config = {
  quick: false,
  leafe: { ...WORKLOAD_LEAFE, horizon: 8, budget: 8, maxBranches: 3 },
  concurrency: 32,
  overhead: [
    { latencyMs: 50, episodes: 32 },
    { latencyMs: 500, episodes: 32 },
  ],
  ceiling: [{ concurrency: 32, episodes: 32 }],
  utilisation: { latencyMs: 500, episodes: 32 },
  sandbox: { count: 164, parallel: 2 },
};

/** Smoke run (~1-3 minutes depending on machine load): the same comparisons on 3-step episodes. */
const QUICK: Config = {
  quick: true,
  leafe: { ...WORKLOAD_LEAFE, horizon: 3, budget: 3, reflectEvery: 1, maxBranches: 2 },
  concurrency: 32,
  overhead: [
    { latencyMs: 50, episodes: 32 },
    { latencyMs: 500, episodes: 32 },
  ],
  ceiling: [{ concurrency: 32, episodes: 32 }],
  utilisation: { latencyMs: 100, episodes: 32 },
  sandbox: { count: 30, parallel: 2 },
};

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { json: { type: 'boolean', default: false }, 'json-out': { type: 'string' }, quick: { type: 'boolean', default: false }, only: { type: 'string' } },
    strict: true,
  });
  const config = values.quick ? QUICK : FULL;
  const only = new Set((values.only ?? 'overhead,ceiling,utilisation,sandbox').split(',').map((s) => s.trim()));
  const startedAt = new Date();
  const loadAtStart = os.loadavg()[0];
  const t0 = performance.now();
  const dir = tempDir('server');
  const temporal = await startBenchTemporal(dir);

  const overhead: OverheadRow[] = [];
  const histories: WorkflowHistory[] = [];
  const ceiling: CeilingPoint[] = [];
  let util: UtilisationResult | null = null;
  let sandbox: SandboxResult | null = null;
  try {
    if (only.has('overhead')) {
      for (const o of config.overhead) {
        const r = await overheadAt(temporal, o.latencyMs, o.episodes, config.concurrency, config.leafe);
        overhead.push(r.row);
        histories.push(...r.histories);
      }
    }
    if (only.has('ceiling')) {
      for (const c of config.ceiling) ceiling.push(await ceilingAt(temporal, c.concurrency, c.episodes, config.leafe, c.concurrency === config.concurrency));
    }
    if (only.has('utilisation')) util = await utilisation(temporal, config.utilisation.latencyMs, config.utilisation.episodes, config.leafe, true);
  } finally {
    await temporal.stop();
    removeDir(dir);
  }
  if (only.has('sandbox')) sandbox = await sandboxBench(config.sandbox.count, config.sandbox.parallel);

  const hist = histories.length > 0 ? historyCost(histories) : null;
  const best = ceiling.reduce<CeilingPoint | null>((b, c) => (!b || c.temporalStepsPerSec > b.temporalStepsPerSec ? c : b), null);
  const result = {
    kind: 'leafe-bench (simulator numbers: scripted stand-in for an LLM, not a model)',
    date: startedAt.toISOString(),
    command: `npm run -s bench --${values.json ? ' --json' : ''}${values.quick ? ' --quick' : ''}${values.only ? ` --only ${values.only}` : ''}`,
    machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, node: process.version, loadavgAtStart: round(loadAtStart, 1), loadavgAtEnd: round(os.loadavg()[0], 1) },
    workload: { env: 'sokoban 7x7, 2 boxes (generated)', leafe: config.leafe, concurrentBranches: config.concurrency },
    overhead: overhead.map((r) => ({ ...r, ...roundAll(r) })),
    ceilingStepsPerSec: best ? round(best.temporalStepsPerSec, 1) : null,
    ceiling: ceiling.map((c) => roundAll(c)),
    utilisation: util ? { ...util, leafe: round(util.leafe, 3), lockstep: round(util.lockstep, 3), ratio: round(util.ratio, 3), inProcessAsync: util.inProcessAsync === null ? null : round(util.inProcessAsync, 3) } : null,
    history: hist
      ? {
          eventsPerStep: roundAll(hist.eventsPerStep),
          bytesPerStep: roundAll(hist.bytesPerStep, 0),
          totalEventsPerStep: round(hist.totalEventsPerStep),
          totalBytesPerStep: round(hist.totalBytesPerStep, 0),
          detail: hist.detail,
          branchEventsPerStepByType: roundAll(branchEventMix(histories)),
        }
      : null,
    sandbox: sandbox ? roundAll(sandbox, 1) : null,
    elapsedSec: round((performance.now() - t0) / 1000, 1),
  };
  log(`done in ${result.elapsedSec} s`);
  if (values['json-out']) writeFileSync(values['json-out'], `${JSON.stringify(result, null, 2)}\n`);
  if (values.json) process.stdout.write(`${JSON.stringify(result)}\n`);
  else process.stdout.write(table(result));
}

function roundAll<T extends object>(o: T, digits = 2): T {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, typeof v === 'number' ? round(v, digits) : v])) as T;
}

function table(r: {
  overhead: OverheadRow[];
  ceilingStepsPerSec: number | null;
  ceiling: CeilingPoint[];
  utilisation: UtilisationResult | null;
  history: { eventsPerStep: Record<string, number>; bytesPerStep: Record<string, number>; totalEventsPerStep: number; totalBytesPerStep: number } | null;
  sandbox: SandboxResult | null;
  elapsedSec: number;
}): string {
  const lines: string[] = ['leafe benchmarks — SIMULATOR numbers (scripted stand-in for an LLM, not a model)', ''];
  const pad = (s: string | number, n: number) => String(s).padStart(n);
  if (r.overhead.length > 0) {
    lines.push('1. Orchestration overhead (32 concurrent branches, lognormal latency mean L)');
    lines.push(`${pad('L ms', 6)}${pad('steps', 7)}${pad('temporal/s', 12)}${pad('in-proc/s', 11)}${pad('ratio', 7)}${pad('ovh p50', 9)}${pad('ovh p95', 9)}${pad('inproc p50', 12)}${pad('added p50', 11)}${pad('added p95', 11)}  same trees`);
    for (const o of r.overhead) {
      lines.push(`${pad(o.latencyMs, 6)}${pad(o.steps, 7)}${pad(o.temporalStepsPerSec.toFixed(1), 12)}${pad(o.inProcessStepsPerSec.toFixed(1), 11)}${pad(o.ratio.toFixed(3), 7)}${pad(o.overheadMsP50.toFixed(1), 9)}${pad(o.overheadMsP95.toFixed(1), 9)}${pad(o.inProcessOverheadMsP50.toFixed(1), 12)}${pad(o.addedMsP50.toFixed(1), 11)}${pad(o.addedMsP95.toFixed(1), 11)}  ${o.sameTrees}`);
    }
    for (const o of r.overhead) {
      const c = o.temporalCpuMsPerStep;
      const i = o.inProcessCpuMsPerStep;
      if (c && i) lines.push(`   L=${o.latencyMs}: CPU ms per step — Temporal: server ${c.server}, workers ${c.bench}, sim ${c.sim}; in-process: loop ${i.bench}, sim ${i.sim}; load average ${o.loadavg1.toFixed(1)} on ${os.cpus().length} cores`);
    }
    lines.push('');
  }
  if (r.ceiling.length > 0) {
    lines.push(`   Ceiling (L = 0): ${r.ceilingStepsPerSec} steps/s  (${r.ceiling.map((c) => `${c.concurrency} concurrent: ${c.temporalStepsPerSec.toFixed(1)}${Number.isFinite(c.inProcessStepsPerSec) ? `, in-process ${c.inProcessStepsPerSec.toFixed(1)}` : ''}`).join('; ')})`);
    lines.push('');
  }
  if (r.utilisation) {
    const u = r.utilisation;
    lines.push(`2. Inference utilisation (capacity ${u.capacity}, L = ${u.latencyMs} ms, ${u.episodes} episodes): leafe ${u.leafe.toFixed(3)}  lock-step ${u.lockstep.toFixed(3)}  ratio ${u.ratio.toFixed(2)}${u.inProcessAsync !== null ? `  (in-process async ${u.inProcessAsync.toFixed(3)})` : ''}`);
    lines.push('');
  }
  if (r.history) {
    lines.push('3. History cost per new environment step');
    for (const [type, events] of Object.entries(r.history.eventsPerStep)) lines.push(`   ${type.padEnd(16)} ${events.toFixed(2)} events  ${r.history.bytesPerStep[type].toFixed(0)} bytes`);
    lines.push(`   ${'all'.padEnd(16)} ${r.history.totalEventsPerStep.toFixed(2)} events  ${r.history.totalBytesPerStep.toFixed(0)} bytes`);
    lines.push('');
  }
  if (r.sandbox) {
    const s = r.sandbox;
    lines.push(`4. Code sandbox: ${s.execPerSec.toFixed(1)} exec/s, p50 ${s.p50Ms.toFixed(0)} ms, p90 ${s.p90Ms.toFixed(0)} ms (${s.runs} HumanEval references, ${s.parallel} in parallel, isolation ${s.isolation}, ${s.failed} not passing; ${s.cpuMsPerExec.toFixed(0)} CPU ms/exec → ${s.cpuBoundExecPerSec.toFixed(0)} exec/s if the cores were idle; load average ${s.loadavg1.toFixed(1)})`);
    lines.push('');
  }
  lines.push(`elapsed ${r.elapsedSec} s`);
  return `${lines.join('\n')}\n`;
}

main().catch((err) => {
  process.stderr.write(`bench: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
