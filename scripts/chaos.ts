// `npm run chaos`: crash equivalence of a seeded simulator study (see scripts/chaos/crash-equivalence.ts).
//
//   npm run chaos -- [--cluster] [--seed 1] [--worker-kills N] [--server-kills N]
//                    [--kill-window 0.05,0.9] [--kill-gap 3] [--keep] [--dir <dir>]
//
// Runs the study in scripts/chaos/chaos-study.yaml twice with a simulator in this process:
// undisturbed, then with worker processes SIGKILLed and restarted and the server disrupted at
// seeded points of the run's own progress: the undisturbed run answers P distinct LLM requests,
// and kill i comes when p_i of them are answered in the chaos run (p_i in the --kill-window
// fractions of P, at least --kill-gap apart; the simulator holds its answers until the kill is
// done), so every planned kill is carried out whatever the machine's speed. A plan that does not
// fit P fails before the chaos run. Prints the plan, each kill with the progress it came at, both
// dataset hashes, both Pass@k tables and EQUAL or DIFFERENT (exit code 1).
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
import { DEFAULT_MIN_REQUESTS_BETWEEN_KILLS, DEFAULT_PROGRESS_WINDOW, KillPlanError } from './chaos/kill-plan';

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      cluster: { type: 'boolean', default: false },
      seed: { type: 'string', default: '1' },
      'worker-kills': { type: 'string' },
      'server-kills': { type: 'string' },
      'kill-window': { type: 'string', default: DEFAULT_PROGRESS_WINDOW.join(',') },
      'kill-gap': { type: 'string', default: String(DEFAULT_MIN_REQUESTS_BETWEEN_KILLS) },
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
  const window = values['kill-window'].split(',').map(Number);
  if (window.length !== 2 || !window.every((x) => x >= 0 && x < 1) || !(window[0] < window[1])) {
    throw new KillPlanError(`--kill-window ${JSON.stringify(values['kill-window'])}: expected two fractions of the run <from>,<to> with 0 ≤ from < to < 1, e.g. 0.05,0.9`);
  }
  const killGap = int('kill-gap', values['kill-gap'], 1);
  const dir = values.dir ? path.resolve(values.dir) : mkdtempSync(path.join(os.tmpdir(), 'leafe-chaos-'));
  const log = (line: string) => process.stderr.write(`chaos: ${line}\n`);
  const cli = resolveTemporalCli({ log });
  const spec = await loadSpec(values.spec);
  // The cluster run kills three times as often: a second iteration spreads its 17 kills over two
  // rounds of training and continue-as-new, not over one short iteration.
  const loaded = cluster ? { ...spec, config: { ...spec.config, iterations: 2 } } : spec;
  log(`study ${path.relative(process.cwd(), values.spec)}: methods ${loaded.methods.join(', ')}, ${loaded.config.iterations} iteration(s), ${loaded.config.trainTasks.length} train / ${loaded.config.evalTasks.length} eval tasks; work dir ${dir}`);
  log(
    cluster
      ? `chaos seed ${seed} on the cluster: ${workerKills} worker SIGKILLs (workflows, env#1, env#2, llm, train worker in turn), ${serverKills} server disruption(s) (Temporal server SIGKILL + restart, PostgreSQL restart, in turn), paced by progress`
      : `chaos seed ${seed}: ${workerKills} worker SIGKILLs, ${serverKills} dev server SIGKILL(s), paced by progress`,
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
      // Kills spread over the run's progress (./chaos/kill-plan): the server kill after the third
      // of 5 worker kills; on the cluster each worker process 3 times in turn, the Temporal
      // server restart after the fifth worker kill and the PostgreSQL restart after the tenth.
      plan: { seed, workerKills, serverKills, progressWindow: [window[0], window[1]], minRequestsBetweenKills: killGap, serverDowntimeMs: [500, 2_000] },
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
    // A plan that does not fit says what to change; no stack needed.
    const text = err instanceof KillPlanError ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err);
    process.stderr.write(`chaos: ${text}\n`);
    process.exit(2);
  },
);
