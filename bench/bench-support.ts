/** Shared plumbing of the benchmarks: logging, statistics, the simulator child, Temporal. */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startLocalStack, type LocalStack, type TemporalPlace } from '../runtime/local-stack';
import { drawLatencyMs, type LatencySpec } from '../sim/latency';
import type { SimStatsSnapshot } from '../sim/sim-stats';
import type { SimChildOptions } from './sim-process';

export const log = (line: string): void => {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
};

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  // nearest-rank
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
  return sorted[rank];
}

export const round = (x: number, digits = 2): number => (Number.isFinite(x) ? Math.round(x * 10 ** digits) / 10 ** digits : x);

export function tempDir(prefix: string): string {
  return mkdtempSync(path.join(tmpdir(), `leafe-bench-${prefix}-`));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

// ---------------------------------------------------------------------------------------------
// The simulator, in a child process

export interface SimHandle {
  url: string;
  pid: number;
  options: SimChildOptions;
  stats(): Promise<SimStatsSnapshot>;
  reset(): Promise<void>;
  stop(): Promise<void>;
}

export async function startSimChild(options: SimChildOptions): Promise<SimHandle> {
  const child: ChildProcess = fork(path.join(__dirname, 'sim-process.ts'), [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let pending: Array<(m: { ok: boolean; error?: string; url?: string; stats?: SimStatsSnapshot }) => void> = [];
  child.on('message', (m: { ok: boolean }) => pending.shift()?.(m));
  child.on('exit', (code) => {
    for (const p of pending) p({ ok: false, error: `simulator process exited with code ${code}` });
    pending = [];
  });
  const call = (msg: object) =>
    new Promise<{ ok: boolean; error?: string; url?: string; stats?: SimStatsSnapshot }>((resolve, reject) => {
      pending.push((m) => (m.ok ? resolve(m) : reject(new Error(`simulator: ${m.error}`))));
      child.send(msg);
    });
  const started = await call({ cmd: 'start', options });
  return {
    url: started.url!,
    pid: child.pid!,
    options,
    stats: async () => (await call({ cmd: 'stats' })).stats!,
    reset: async () => void (await call({ cmd: 'reset' })),
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      await call({ cmd: 'stop' }).catch(() => undefined);
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

/**
 * The latency the simulator drew for a request (key: sim/sim-server.ts simRequestKey): the same
 * function of (server seed, request key) the server uses, so per-step overhead can subtract
 * exactly the simulated inference time. Checked against the server's per-key counters by the
 * benchmark (keys must match).
 */
export function simLatencyMs(spec: LatencySpec | undefined, simSeed: number, key: string): number {
  return drawLatencyMs(spec, simSeed, key);
}

// ---------------------------------------------------------------------------------------------
// Temporal: own dev server on a temp SQLite file (or the local cluster), the workflow bundle built once

/** The bench's local stack: in-process workers on it per run (bench/workload.ts). */
export interface BenchTemporal extends LocalStack {
  /** Which server: the dev server (SQLite) or the local cluster (PostgreSQL). */
  label: string;
  /** CPU ms the Temporal service has used so far (server, plus PostgreSQL for the cluster). */
  serverCpuMs(): number;
}

export async function startBenchTemporal(dir: string): Promise<BenchTemporal> {
  const t0 = Date.now();
  const dbFile = path.join(dir, 'temporal.sqlite');
  const t = await benchTemporalAt({ label: 'dev server', dir, temporal: { kind: 'dev-server', dbFile }, serverCpuMs: (stack) => (stack.devServer?.pid ? processCpuMs(stack.devServer.pid) : NaN) });
  log(`temporal dev server at ${t.address} (${Date.now() - t0} ms with the workflow bundle, SQLite ${dbFile})`);
  return t;
}

/** The bench's stack on a Temporal service, with the workflow bundle built into `dir`. */
export async function benchTemporalAt(o: { label: string; dir: string; temporal: TemporalPlace; serverCpuMs: (stack: LocalStack) => number }): Promise<BenchTemporal> {
  const stack = await startLocalStack({ temporal: o.temporal, bundle: { buildInto: path.join(o.dir, 'workflow-bundle.js') }, log });
  return { ...stack, label: o.label, serverCpuMs: () => o.serverCpuMs(stack) };
}

// ---------------------------------------------------------------------------------------------
// CPU accounting: CPU time is what the 2-core machine runs out of, and unlike wall time it does
// not depend on what else runs on the machine.

/** User + system CPU ms of a process so far (Linux /proc; NaN elsewhere). */
export function processCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[11] = utime, fields[12] = stime (clock ticks; 100 Hz on Linux)
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return NaN;
  }
}

export interface CpuSample {
  server: number;
  bench: number;
  sim: number;
}

export function sampleCpu(serverCpuMs: () => number, simPid: number): CpuSample {
  const own = process.cpuUsage();
  return { server: serverCpuMs(), bench: (own.user + own.system) / 1000, sim: processCpuMs(simPid) };
}

/** CPU ms per unit of work between two samples, by process. */
export function cpuPer(a: CpuSample, b: CpuSample, units: number): CpuSample {
  return { server: (b.server - a.server) / units, bench: (b.bench - a.bench) / units, sim: (b.sim - a.sim) / units };
}

/** 1-minute load average and CPU count, to judge how contended the machine was. */
export function machineLoad(): { loadavg1: number; cpus: number } {
  return { loadavg1: os.loadavg()[0], cpus: os.cpus().length };
}
