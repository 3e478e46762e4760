// `npm run chaos`: crash equivalence of a seeded simulator study (see scripts/chaos/crash-equivalence.ts).
//
//   npm run chaos -- [--cluster] [--seed 1] [--worker-kills N] [--server-kills N] [--keep] [--dir <dir>]
//
// Runs the study in scripts/chaos/chaos-study.yaml twice with a simulator in this process:
// undisturbed, then with worker processes SIGKILLed and restarted at seeded random moments spread
// over the stages of the run (evaluate, explore, evaluate of the trained model) and the server
// disrupted. Prints the kills, both dataset hashes, both Pass@k tables and EQUAL or DIFFERENT
// (exit code 1).
//
// Default: both runs on dev servers of their own (temp SQLite files, free ports) with one worker
// process for all queues; 5 worker SIGKILLs and 1 dev server SIGKILL + restart on its SQLite file.
// --cluster: both runs on the local cluster (`npm run cluster:up`, brought up if it is not; it
// stays up), each in a namespace and on task queues of its own, with five worker processes, one
// per queue role (workflows, env ×2, llm, train), and the study with 2 iterations; 15 worker
// SIGKILLs (each process 3 times, in turn) and 2 server disruptions: a SIGKILL + restart of the
// Temporal server, then a restart of PostgreSQL under it.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { resolveTemporalCli } from '../runtime/temporal-cli';
import { PROJECT_ROOT } from '../infra/paths';
import { loadSpec } from '../spec/load-spec';
import { crashEquivalence } from './chaos/crash-equivalence';

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      cluster: { type: 'boolean', default: false },
      seed: { type: 'string', default: '1' },
      'worker-kills': { type: 'string' },
      'server-kills': { type: 'string' },
      spec: { type: 'string', default: path.join(PROJECT_ROOT, 'scripts', 'chaos', 'chaos-study.yaml') },
      dir: { type: 'string' },
      keep: { type: 'boolean', default: false },
    },
  });
  const int = (name: string, v: string, min: number) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} ${JSON.stringify(v)}: expected an integer ≥ ${min}`);
    return n;
  };
  const seed = int('seed', values.seed, 0);
  const cluster = values.cluster;
  const workerKills = int('worker-kills', values['worker-kills'] ?? (cluster ? '15' : '5'), 0);
  const serverKills = int('server-kills', values['server-kills'] ?? (cluster ? '2' : '1'), 0);
  const dir = values.dir ? path.resolve(values.dir) : mkdtempSync(path.join(os.tmpdir(), 'leafe-chaos-'));
  const log = (line: string) => process.stderr.write(`chaos: ${line}\n`);
  const cli = resolveTemporalCli({ log });
  const spec = await loadSpec(values.spec);
  // The cluster run kills three times as often: a second iteration gives the kills room (the
  // one-iteration study ends after ~10 of them).
  const loaded = cluster ? { ...spec, config: { ...spec.config, iterations: 2 } } : spec;
  const stages = cluster ? ['it0/evaluate', 'it0/explore', 'it1/evaluate', 'it1/explore', 'it2/evaluate'] : ['it0/evaluate', 'it0/explore', 'it1/evaluate'];
  log(`study ${path.relative(process.cwd(), values.spec)}: methods ${loaded.methods.join(', ')}, ${loaded.config.iterations} iteration(s), ${loaded.config.trainTasks.length} train / ${loaded.config.evalTasks.length} eval tasks; work dir ${dir}`);
  log(
    cluster
      ? `chaos seed ${seed} on the cluster: ${workerKills} worker SIGKILLs (workflows, env#1, env#2, llm, train worker in turn), ${serverKills} server disruption(s) (Temporal server SIGKILL + restart, PostgreSQL restart, in turn)`
      : `chaos seed ${seed}: ${workerKills} worker SIGKILLs, ${serverKills} dev server SIGKILL(s)`,
  );
  const loadedWithTimeouts = {
    ...loaded,
    // A killed worker's LLM attempt is retried after its start-to-close timeout and a session on a
    // dead worker is noticed after the schedule-to-start timeout: short ones keep the run short.
    config: { ...loaded.config, timeouts: { llmStartToCloseMs: 10_000, sessionScheduleToStartMs: 2_000, stepStartToCloseMs: 10_000 } },
  };
  try {
    const { comparison } = await crashEquivalence({
      dir,
      loaded: loadedWithTimeouts,
      // A cluster namespace keeps the workflows of earlier chaos runs: a study id of this run's own.
      studyId: cluster ? `chaos-${Date.now().toString(36)}` : 'chaos-study',
      deployment: cluster ? 'cluster' : 'dev',
      cli,
      simSeed: 2024,
      simLatencyMs: 20,
      // Kills aimed at the stages that run branches (evaluate, explore, evaluate after training),
      // in order and evenly: 5 worker kills = 2 + 2 + 1, the server kill after the third; on the
      // cluster 15 = 3 × 5 stages (each worker process 3 times in turn), the Temporal server
      // restart after the fifth and the PostgreSQL restart after the tenth.
      plan: { seed, workerKills, serverKills, workerUptimeMs: { stages, delayMs: [300, 2_000] }, serverDowntimeMs: [500, 2_000] },
      log,
    });
    process.stdout.write(`\n${comparison.report}\n`);
    return comparison.equal ? 0 : 1;
  } finally {
    if (!values.keep && !values.dir) rmSync(dir, { recursive: true, force: true });
    else log(`kept ${dir}`);
  }
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`chaos: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(2);
  },
);
