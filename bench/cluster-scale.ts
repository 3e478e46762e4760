/**
 * The same bench workload on the dev server (SQLite, one history shard) and on the local cluster
 * (`leafe cluster up`: PostgreSQL, 8 shards), in the same run: steps/s, Temporal CPU ms per step
 * (for the cluster: server + PostgreSQL processes) and history events per step; then a larger run
 * (default 256 episodes at once) on both, counting episodes that did not complete and shard or
 * persistence errors in each server's log. Simulator numbers (scripted stand-in, not a model).
 *
 *   npm run -s bench:cluster -- [--episodes 32] [--big 256] [--json-out FILE]
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { clusterServerPid, clusterStateDir } from '../runtime/temporal-cluster';
import { benchTemporalAt, log, machineLoad, processCpuMs, removeDir, round, sampleCpu, startBenchTemporal, startSimChild, tempDir, type BenchTemporal } from './bench-support';
import { taskIds } from './overhead';
import { episodeInputs, fetchHistories, historyCost, runTemporal, SIM_SEED, sokobanSpec, WORKLOAD_LEAFE } from './workload';

const LEAFE = { ...WORKLOAD_LEAFE, horizon: 8, budget: 8, maxBranches: 3 };

/** CPU of every process named postgres (the cluster's postmaster and its backends). */
function postgresCpuMs(): number {
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === 'postgres') total += processCpuMs(Number(entry));
    } catch {
      // the process ended meanwhile
    }
  }
  return total;
}

function clusterBenchTemporal(dir: string): Promise<BenchTemporal> {
  const serverCpuMs = () => {
    const pid = clusterServerPid();
    return (pid ? processCpuMs(pid) : NaN) + postgresCpuMs();
  };
  return benchTemporalAt({ label: 'cluster', dir, temporal: { kind: 'cluster' }, serverCpuMs });
}

/** Warnings and errors a server logged since `from` (byte offset), counted by message and error text. */
function serverTrouble(logFile: string, from: number): { lines: number; kinds: Record<string, number> } {
  let text: string;
  try {
    text = readFileSync(logFile, 'utf8').slice(from);
  } catch {
    return { lines: 0, kinds: {} };
  }
  const kinds: Record<string, number> = {};
  let lines = 0;
  for (const line of text.split('\n')) {
    // JSON lines (the cluster) or key=value lines (the dev server).
    const level = /"level":"(warn|error)"|level=(WARN|ERROR)/i.exec(line);
    if (!level) continue;
    lines++;
    const msg = /"msg":"([^"]*)"|msg="([^"]*)"/.exec(line);
    const error = /"error":"([^"]{0,120})|error="([^"]{0,120})/.exec(line);
    const kind = `${(level[1] ?? level[2]).toLowerCase()}: ${msg?.[1] ?? msg?.[2] ?? '?'}${error ? ` (${error[1] ?? error[2]})` : ''}`;
    kinds[kind] = (kinds[kind] ?? 0) + 1;
  }
  return { lines, kinds };
}

const logSize = (f: string) => {
  try {
    return readFileSync(f, 'utf8').length;
  } catch {
    return 0;
  }
};

async function measure(t: BenchTemporal, logFile: string, episodes: number, concurrency: number, withHistory: boolean) {
  const env = sokobanSpec(episodes);
  const ids = await taskIds(episodes);
  const sim = await startSimChild({ env, seed: SIM_SEED });
  const from = logSize(logFile);
  const load0 = machineLoad().loadavg1;
  try {
    log(`${t.label}: ${episodes} episodes, ${concurrency} at once (L = 0)`);
    const run = await runTemporal(t, (prefix) => episodeInputs(ids, env, sim.url, prefix).map((i) => ({ ...i, leafe: LEAFE })), concurrency, `${t.label.replace(' ', '')}${episodes}`, {}, () => sampleCpu(t.serverCpuMs, sim.pid));
    const hist = withHistory ? historyCost(await fetchHistories(t, run)) : null;
    removeDir(run.runDir);
    const s = run.summary;
    log(`  ${s.steps} steps in ${(s.wallMs / 1000).toFixed(1)} s = ${s.stepsPerSec.toFixed(1)} steps/s`);
    return {
      server: t.label,
      episodes,
      concurrency,
      completed: run.trees.length,
      steps: s.steps,
      wallSec: round(s.wallMs / 1000, 1),
      stepsPerSec: round(s.stepsPerSec, 1),
      cpuMsPerStep: run.cpuPerStep ? { temporal: round(run.cpuPerStep.server, 1), workers: round(run.cpuPerStep.bench, 1), sim: round(run.cpuPerStep.sim, 1) } : null,
      eventsPerStep: hist ? round(hist.totalEventsPerStep) : null,
      serverLogTrouble: serverTrouble(logFile, from),
      loadavg1: round((load0 + machineLoad().loadavg1) / 2, 1),
    };
  } finally {
    await sim.stop();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { episodes: { type: 'string', default: '32' }, big: { type: 'string', default: '256' }, 'json-out': { type: 'string' } }, strict: true });
  const episodes = Number(values.episodes);
  const big = Number(values.big);
  for (const [name, n] of [['--episodes', episodes], ['--big', big]] as const) {
    if (!Number.isInteger(n) || n < 1) throw new Error(`${name} ${JSON.stringify(n)}: expected a positive integer`);
  }
  const startedAt = new Date();
  const devDir = tempDir('dev');
  const clusterDir = tempDir('cluster');
  const dev = await startBenchTemporal(devDir);
  const cluster = await clusterBenchTemporal(clusterDir);
  const devLog = path.join(devDir, 'temporal.sqlite.server.log');
  const clusterLog = path.join(clusterStateDir(), 'temporal-server.log');
  const rows = [];
  try {
    // Interleaved, so a change of machine load hits both servers alike.
    rows.push(await measure(dev, devLog, episodes, episodes, true));
    rows.push(await measure(cluster, clusterLog, episodes, episodes, true));
    rows.push(await measure(dev, devLog, big, big, false));
    rows.push(await measure(cluster, clusterLog, big, big, false));
  } finally {
    await dev.stop();
    await cluster.stop();
    removeDir(devDir);
    removeDir(clusterDir);
  }
  const [d, c] = rows;
  const result = {
    kind: 'leafe cluster-scale bench (simulator numbers: scripted stand-in for an LLM, not a model)',
    date: startedAt.toISOString(),
    command: `npm run -s bench:cluster -- --episodes ${episodes} --big ${big}`,
    machine: { cpus: os.cpus().length, node: process.version },
    workload: { env: 'sokoban 7x7, 2 boxes (generated)', leafe: LEAFE, latencyMs: 0 },
    rows,
    clusterOverDev: { stepsPerSec: round(c.stepsPerSec / d.stepsPerSec, 2), temporalCpuMsPerStep: c.cpuMsPerStep && d.cpuMsPerStep ? round(c.cpuMsPerStep.temporal / d.cpuMsPerStep.temporal, 2) : null },
  };
  if (values['json-out']) writeFileSync(values['json-out'], `${JSON.stringify(result, null, 2)}\n`);
  const pad = (s: string | number, n: number) => String(s).padStart(n);
  const lines = ['leafe cluster-scale bench — SIMULATOR numbers (not a model)', '', `${'server'.padEnd(11)}${pad('episodes', 9)}${pad('done', 6)}${pad('steps', 7)}${pad('steps/s', 9)}${pad('temporal CPU ms/step', 22)}${pad('events/step', 13)}${pad('warn/error', 12)}${pad('load', 6)}`];
  for (const r of rows) lines.push(`${r.server.padEnd(11)}${pad(r.episodes, 9)}${pad(r.completed, 6)}${pad(r.steps, 7)}${pad(r.stepsPerSec, 9)}${pad(r.cpuMsPerStep?.temporal ?? '-', 22)}${pad(r.eventsPerStep ?? '-', 13)}${pad(r.serverLogTrouble.lines, 12)}${pad(r.loadavg1, 6)}`);
  for (const r of rows) for (const [kind, n] of Object.entries(r.serverLogTrouble.kinds)) lines.push(`  ${r.server} ${r.episodes}: ${n}× ${kind}`);
  lines.push('', `cluster / dev server at ${episodes} episodes: steps/s ×${result.clusterOverDev.stepsPerSec}, Temporal CPU per step ×${result.clusterOverDev.temporalCpuMsPerStep}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((err) => {
  process.stderr.write(`bench: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
