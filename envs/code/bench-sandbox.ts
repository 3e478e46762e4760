/**
 * Throughput of the code sandbox: HumanEval reference solutions with their tests, N at once.
 * Run: node --import tsx envs/code/bench-sandbox.ts [parallel=2] [tasks=164]
 */
import { HUMANEVAL_FILE } from '../../infra/paths';
import { loadCodeTasks } from './code-tasks';
import { runTests } from './run-tests';
import { detectIsolation } from './sandbox';

const FILE = process.env.HUMANEVAL ?? HUMANEVAL_FILE;

async function main(): Promise<void> {
  const parallel = Number(process.argv[2] ?? 2);
  const count = Number(process.argv[3] ?? 164);
  const tasks = (await loadCodeTasks(FILE)).slice(0, count);
  const level = await detectIsolation();
  const latencies: number[] = [];
  let next = 0;
  let failed = 0;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < tasks.length) {
        const task = tasks[next++];
        const t0 = Date.now();
        const run = await runTests(task, task.reference!);
        latencies.push(Date.now() - t0);
        if (run.passed !== run.total) failed++;
      }
    }),
  );
  const seconds = (Date.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))];
  console.log(
    `isolation=${level} parallel=${parallel} runs=${tasks.length} failed=${failed} ` +
      `throughput=${(tasks.length / seconds).toFixed(1)} exec/s p50=${pct(0.5)} ms p90=${pct(0.9)} ms max=${latencies.at(-1)} ms`,
  );
}

void main();
