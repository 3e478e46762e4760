/**
 * Comparison 4: throughput of the `code` environment. HumanEval reference solutions with their
 * tests, `parallel` at a time (2 = the cores of the benchmark machine), each one a full
 * CodeEnvironment.step (extract program → sandboxed harness run → feedback), the same path
 * stepEnvironment takes. Part of `npm run bench`; alone:
 *   node --import tsx bench/sandbox-bench.ts [parallel=2] [tasks=164]
 */
import { HUMANEVAL_FILE } from '../infra/paths';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import pLimit from 'p-limit';
import type { CodeEnvSpec } from '../core/env-spec';
import type { CodeEnvironment } from '../envs/code/code-environment';
import { loadCodeTasks } from '../envs/code/code-tasks';
import { detectIsolation } from '../envs/code/sandbox';
import { providerFor } from '../envs/registry';
import { log, percentile } from './bench-support';

export const HUMANEVAL = process.env.HUMANEVAL ?? HUMANEVAL_FILE;

export interface SandboxResult {
  execPerSec: number;
  p50Ms: number;
  p90Ms: number;
  runs: number;
  failed: number;
  parallel: number;
  isolation: string;
  /** CPU ms per execution: sandboxed children (reaped: bwrap, python) + this process. */
  cpuMsPerExec: number;
  /** What 2 idle cores would sustain at that CPU cost (cores × 1000 / cpuMsPerExec). */
  cpuBoundExecPerSec: number;
  loadavg1: number;
}

/** CPU ms of this process plus its reaped children (Linux /proc/self/stat utime+stime+cutime+cstime). */
function selfAndChildrenCpuMs(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) * 1000) / 100;
}

export async function sandboxBench(count: number, parallel: number): Promise<SandboxResult> {
  const spec: CodeEnvSpec = { kind: 'code', tasks: HUMANEVAL };
  const tasks = (await loadCodeTasks(HUMANEVAL)).slice(0, count);
  const provider = providerFor(spec);
  const isolation = await detectIsolation();
  // One warm-up run so the isolation probe and the first python start are not in the numbers.
  const warm = (await provider.open(tasks[0].id, 0)) as CodeEnvironment;
  await warm.reset();
  await warm.step('```python\n' + tasks[0].reference + '\n```');
  const latencies: number[] = [];
  let failed = 0;
  const c0 = selfAndChildrenCpuMs();
  const load0 = os.loadavg()[0];
  const t0 = performance.now();
  await pLimit(parallel).map(tasks, async (task) => {
    const env = await provider.open(task.id, 0);
    await env.reset();
    const s0 = performance.now();
    const r = await env.step('```python\n' + task.reference + '\n```');
    latencies.push(performance.now() - s0);
    if (!r.success) failed++;
    await env.close();
  });
  const seconds = (performance.now() - t0) / 1000;
  const cpuMsPerExec = (selfAndChildrenCpuMs() - c0) / tasks.length;
  const result = {
    execPerSec: tasks.length / seconds,
    p50Ms: percentile(latencies, 0.5),
    p90Ms: percentile(latencies, 0.9),
    runs: tasks.length,
    failed,
    parallel,
    isolation,
    cpuMsPerExec,
    cpuBoundExecPerSec: (os.cpus().length * 1000) / cpuMsPerExec,
    loadavg1: (load0 + os.loadavg()[0]) / 2,
  };
  log(`sandbox: ${result.runs} runs (${failed} not passing) at isolation=${isolation}: ${result.execPerSec.toFixed(1)} exec/s, p50 ${result.p50Ms.toFixed(0)} ms; ${cpuMsPerExec.toFixed(0)} CPU ms/exec; load average ${result.loadavg1.toFixed(1)}`);
  return result;
}

if (require.main === module) {
  const parallel = Number(process.argv[2] ?? 2);
  const count = Number(process.argv[3] ?? 164);
  sandboxBench(count, parallel).then(
    (r) => console.log(JSON.stringify(r)),
    (err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
